import { useEffect, useRef, useState } from 'react';
import { toast } from '@/components/ui';
import { errorMessage } from '@/lib/api-client';
import { getStreamUrl, isFresh } from '../api/stream';
import { selectCurrentTrack, selectUpcomingTrack, usePlayerStore } from '../stores/player-store';

type Slot = 0 | 1;

interface SlotInfo {
  trackId: string | null;
  url: string | null;
}

/** How long after a track starts before the next one is preloaded (ms). */
const PRELOAD_DELAY_MS = 1500;
/** Max URL re-fetches per track before giving up (an expired URL needs one). */
const MAX_RECOVERIES = 3;

/**
 * Drives two <audio> elements from the player store. One is active; the other
 * preloads the upcoming track, and the two swap roles when playback moves on, so
 * the next track starts from an already-buffered element.
 *
 * Returns the refs for the two elements and which one is active.
 */
export function useAudioEngine() {
  const elements = useRef<[HTMLAudioElement | null, HTMLAudioElement | null]>([null, null]);
  const slots = useRef<[SlotInfo, SlotInfo]>([
    { trackId: null, url: null },
    { trackId: null, url: null },
  ]);
  const activeRef = useRef<Slot>(0);
  const [active, setActive] = useState<Slot>(0);
  const loadSeq = useRef(0);
  const pendingSeek = useRef<number | null>(null);
  const recoveries = useRef(0);
  const loading = useRef(false);

  const currentTrack = usePlayerStore(selectCurrentTrack);
  const upcoming = usePlayerStore(selectUpcomingTrack);
  const isPlaying = usePlayerStore((s) => s.isPlaying);
  const volume = usePlayerStore((s) => s.volume);
  const muted = usePlayerStore((s) => s.muted);
  const seekRequest = usePlayerStore((s) => s.seekRequest);

  const activeEl = () => elements.current[activeRef.current];

  const startPlayback = (el: HTMLAudioElement) => {
    el.play().catch((err: unknown) => {
      if (err instanceof DOMException && err.name === 'AbortError') return; // superseded by a new load
      if (err instanceof DOMException && err.name === 'NotAllowedError') {
        usePlayerStore.getState().pause(); // autoplay blocked until the user interacts
        return;
      }
      // Media errors are handled by the element's `error` event.
    });
  };

  const setSource = (slot: Slot, trackId: string, url: string) => {
    const el = elements.current[slot];
    if (!el) return;
    slots.current[slot] = { trackId, url };
    el.src = url;
    el.load();
  };

  const makeActive = (slot: Slot) => {
    activeRef.current = slot;
    setActive(slot);
    const other = elements.current[slot === 0 ? 1 : 0];
    if (other && !other.paused) other.pause();
  };

  // Load the current track whenever it changes.
  const trackId = currentTrack?.id ?? null;
  useEffect(() => {
    const seq = ++loadSeq.current;
    recoveries.current = 0;
    if (!trackId) {
      for (const el of elements.current) {
        if (el) {
          el.pause();
          el.removeAttribute('src');
          el.load();
        }
      }
      slots.current = [
        { trackId: null, url: null },
        { trackId: null, url: null },
      ];
      return;
    }
    const cur = activeRef.current;
    const other: Slot = cur === 0 ? 1 : 0;
    const preloaded = slots.current[other];

    if (preloaded.trackId === trackId && preloaded.url && isFresh(trackId, preloaded.url)) {
      makeActive(other);
      const el = elements.current[other];
      if (el) {
        el.currentTime = 0;
        if (usePlayerStore.getState().isPlaying) startPlayback(el);
      }
      return;
    }

    const existing = slots.current[cur];
    if (existing.trackId === trackId && existing.url && isFresh(trackId, existing.url)) {
      const el = elements.current[cur];
      if (el && usePlayerStore.getState().isPlaying) startPlayback(el);
      return;
    }

    loading.current = true;
    getStreamUrl(trackId)
      .then((url) => {
        if (seq !== loadSeq.current) return;
        setSource(cur, trackId, url);
        const el = elements.current[cur];
        if (el && usePlayerStore.getState().isPlaying) startPlayback(el);
      })
      .catch((err: unknown) => {
        if (seq !== loadSeq.current) return;
        toast.error(errorMessage(err, 'Could not load this track.'));
        usePlayerStore.getState().pause();
      })
      .finally(() => {
        if (seq === loadSeq.current) loading.current = false;
      });
  }, [trackId]);

  // Preload the upcoming track into the idle element.
  const upcomingId = upcoming?.id ?? null;
  useEffect(() => {
    if (!upcomingId || upcomingId === trackId) return;
    const timer = setTimeout(() => {
      const idle: Slot = activeRef.current === 0 ? 1 : 0;
      const info = slots.current[idle];
      if (info.trackId === upcomingId && info.url && isFresh(upcomingId, info.url)) return;
      getStreamUrl(upcomingId)
        .then((url) => {
          const nowIdle: Slot = activeRef.current === 0 ? 1 : 0;
          if (nowIdle !== idle || usePlayerStore.getState().queue.length === 0) return;
          setSource(idle, upcomingId, url);
        })
        .catch(() => {
          // Preloading is an optimisation; the real load will report errors.
        });
    }, PRELOAD_DELAY_MS);
    return () => clearTimeout(timer);
  }, [upcomingId, trackId]);

  // Play / pause.
  useEffect(() => {
    const el = activeEl();
    if (!el) return;
    if (isPlaying) {
      if (el.paused && el.src) startPlayback(el);
    } else if (!el.paused) {
      el.pause();
    }
    if ('mediaSession' in navigator) navigator.mediaSession.playbackState = isPlaying ? 'playing' : 'paused';
  }, [isPlaying, active]);

  // Volume and mute apply to both elements so a swap keeps the level.
  useEffect(() => {
    for (const el of elements.current) {
      if (el) {
        el.volume = volume;
        el.muted = muted;
      }
    }
  }, [volume, muted]);

  // Seek requests (user seeks, restarts, repeat-one).
  useEffect(() => {
    if (!seekRequest) return;
    const el = activeEl();
    if (!el) return;
    if (el.readyState >= HTMLMediaElement.HAVE_METADATA) {
      if (Math.abs(el.currentTime - seekRequest.time) > 0.05) el.currentTime = seekRequest.time;
    } else if (seekRequest.time > 0) {
      pendingSeek.current = seekRequest.time;
    }
    if (usePlayerStore.getState().isPlaying && el.paused && el.src && !loading.current) startPlayback(el);
  }, [seekRequest]);

  // Media element events, attached once to both elements.
  useEffect(() => {
    const cleanups: Array<() => void> = [];
    elements.current.forEach((el, index) => {
      if (!el) return;
      const slot = index as Slot;
      const isActive = () => activeRef.current === slot;
      const on = <K extends keyof HTMLMediaElementEventMap>(type: K, fn: () => void) => {
        el.addEventListener(type, fn);
        cleanups.push(() => el.removeEventListener(type, fn));
      };

      on('timeupdate', () => {
        // A source reset (error, reload) reports 0 with nothing loaded; keep the
        // last real position so a recovery can resume there.
        if (!isActive() || el.readyState === HTMLMediaElement.HAVE_NOTHING) return;
        usePlayerStore.getState().reportTime(el.currentTime, el.duration);
        updatePositionState(el);
      });
      on('loadedmetadata', () => {
        if (!isActive()) return;
        if (pendingSeek.current !== null) {
          el.currentTime = pendingSeek.current;
          pendingSeek.current = null;
        }
        usePlayerStore.getState().reportTime(el.currentTime, el.duration);
      });
      on('playing', () => {
        if (isActive()) recoveries.current = 0;
      });
      on('ended', () => {
        if (isActive()) usePlayerStore.getState().trackEnded();
      });
      on('pause', () => {
        // Paused by the system (e.g. headphones unplugged) rather than by us.
        if (!isActive() || el.ended || loading.current) return;
        const s = usePlayerStore.getState();
        if (s.isPlaying && el.src && el.readyState > 0 && !el.seeking) s.pause();
      });
      on('error', () => {
        const info = slots.current[slot];
        if (!info.trackId || !el.error) return;
        if (!isActive()) {
          slots.current[slot] = { trackId: null, url: null }; // a failed preload just gets dropped
          return;
        }
        recover(el, slot, info.trackId);
      });
    });
    return () => cleanups.forEach((fn) => fn());
  }, []);

  /** The signed URL probably expired (the CDN answers 403): fetch a new one and resume. */
  const recover = (el: HTMLAudioElement, slot: Slot, trackId: string) => {
    if (recoveries.current >= MAX_RECOVERIES) {
      toast.error('This track cannot be played right now.');
      usePlayerStore.getState().pause();
      return;
    }
    recoveries.current += 1;
    const resumeAt = usePlayerStore.getState().currentTime;
    const seq = loadSeq.current;
    loading.current = true;
    getStreamUrl(trackId, { force: true })
      .then((url) => {
        if (seq !== loadSeq.current || activeRef.current !== slot) return;
        pendingSeek.current = resumeAt > 0 ? resumeAt : null;
        setSource(slot, trackId, url);
        if (usePlayerStore.getState().isPlaying) startPlayback(el);
      })
      .catch((err: unknown) => {
        toast.error(errorMessage(err, 'Could not load this track.'));
        usePlayerStore.getState().pause();
      })
      .finally(() => {
        loading.current = false;
      });
  };

  return {
    active,
    bind: (slot: Slot) => (el: HTMLAudioElement | null) => {
      elements.current[slot] = el;
    },
  };
}

function updatePositionState(el: HTMLAudioElement) {
  if (!('mediaSession' in navigator) || !Number.isFinite(el.duration) || el.duration <= 0) return;
  try {
    navigator.mediaSession.setPositionState({
      duration: el.duration,
      position: Math.min(el.currentTime, el.duration),
      playbackRate: el.playbackRate || 1,
    });
  } catch {
    // Some browsers reject position updates mid-seek; the next tick will do.
  }
}
