import { useEffect, useRef, useState } from 'react';
import { toast } from '@/components/ui';
import { getStream } from '../api/stream';
import type { AudioContextLike } from '../engine/audio-output';
import { queueGains } from '../engine/loudness';
import { PlaybackEngine, systemClock, type EngineHost, type Slot } from '../engine/playback-engine';
import { selectCurrentTrack, selectUpcomingTrack, usePlayerStore, type PlayerState } from '../stores/player-store';
import { usePlayerSettings } from '../stores/settings-store';

type Elements = [HTMLAudioElement | null, HTMLAudioElement | null];

/**
 * Connects a `PlaybackEngine` to the two <audio> elements and the player
 * store: store changes become engine calls, engine reports become store
 * actions. All playback logic lives in the engine (unit-tested).
 *
 * Returns the ref callbacks for the two elements and which one is active.
 */
export function useAudioEngine() {
  const elements = useRef<Elements>([null, null]);
  const [bind] = useState(() => {
    const setter = (slot: Slot) => (el: HTMLAudioElement | null) => {
      elements.current[slot] = el;
    };
    return [setter(0), setter(1)] as const;
  });
  const [active, setActive] = useState<Slot>(0);

  useEffect(() => {
    const [a, b] = elements.current;
    if (!a || !b) return;
    const store = usePlayerStore;
    const settings = usePlayerSettings;
    const host: EngineHost = {
      fetchStream: (trackId, opts) => getStream(trackId, opts),
      onTime: (time, duration, playbackRate) => {
        store.getState().reportTime(time, duration);
        updatePositionState(time, duration, playbackRate);
      },
      onEnded: () => store.getState().trackEnded(),
      onPaused: () => store.getState().pause(),
      onError: (message) => {
        toast.error(message);
        store.getState().pause();
      },
      onActiveChange: setActive,
    };
    const engine = new PlaybackEngine<HTMLAudioElement>([a, b], host, systemClock, { createAudioContext: webAudio() });

    // Gains first: a track must be loaded (or preloaded) at its own level.
    const applyGains = (s: PlayerState) =>
      engine.setGains(queueGains(s, [selectCurrentTrack(s), selectUpcomingTrack(s)], settings.getState().normalize));

    const apply = (s: PlayerState, prev: PlayerState | null) => {
      const trackId = selectCurrentTrack(s)?.id ?? null;
      const upcomingId = selectUpcomingTrack(s)?.id ?? null;
      const trackChanged = !prev || trackId !== (selectCurrentTrack(prev)?.id ?? null);
      const queueChanged =
        !prev || s.queue !== prev.queue || s.order !== prev.order || s.position !== prev.position || s.shuffle !== prev.shuffle || s.repeat !== prev.repeat;
      if (queueChanged) applyGains(s);
      if (trackChanged) engine.setTrack(trackId);
      if (trackChanged || upcomingId !== (selectUpcomingTrack(prev)?.id ?? null)) engine.setUpcoming(upcomingId);
      if (!prev || s.isPlaying !== prev.isPlaying) {
        engine.setPlaying(s.isPlaying);
        if ('mediaSession' in navigator) navigator.mediaSession.playbackState = s.isPlaying ? 'playing' : 'paused';
      }
      if (!prev || s.volume !== prev.volume || s.muted !== prev.muted) engine.setVolume(s.volume, s.muted);
      if (s.seekRequest && s.seekRequest !== prev?.seekRequest) engine.seek(s.seekRequest.time);
    };

    apply(store.getState(), null);
    const unsubscribe = store.subscribe(apply);
    const unsubscribeSettings = settings.subscribe((now, before) => {
      if (now.normalize !== before.normalize) applyGains(store.getState());
    });
    return () => {
      unsubscribe();
      unsubscribeSettings();
      engine.destroy();
    };
  }, []);

  return { active, bind: (slot: Slot) => bind[slot] };
}

function updatePositionState(position: number, duration: number, playbackRate: number) {
  if (!('mediaSession' in navigator) || !Number.isFinite(duration) || duration <= 0) return;
  try {
    navigator.mediaSession.setPositionState({ duration, position: Math.min(position, duration), playbackRate });
  } catch {
    // Some browsers reject position updates mid-seek; the next tick will do.
  }
}

/** The AudioContext factory, or undefined where Web Audio does not exist (the engine then scales element volume). */
function webAudio(): (() => AudioContextLike<HTMLAudioElement>) | undefined {
  if (typeof window === 'undefined' || typeof window.AudioContext !== 'function') return undefined;
  return () => new window.AudioContext({ latencyHint: 'playback' });
}
