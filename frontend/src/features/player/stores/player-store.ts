import { create } from 'zustand';
import type { RepeatMode, Track } from '../types';
import { identityOrder, shuffledOrder } from './shuffle';

/**
 * The queue is kept in its original order (`queue`) together with a play order
 * (`order`, indices into `queue`). With shuffle off `order` is the identity;
 * with shuffle on it is a permutation that starts at the track that was playing.
 * `position` indexes `order`, so the current track is `queue[order[position]]`.
 *
 * The store is pure state: the audio engine component reacts to it, and reports
 * time and duration back through `reportTime`.
 */
export interface PlayerState {
  queue: Track[];
  order: number[];
  position: number;
  shuffle: boolean;
  repeat: RepeatMode;
  isPlaying: boolean;
  volume: number;
  muted: boolean;
  currentTime: number;
  duration: number;
  /** Bumped whenever the engine must move the playhead (seek, restart). */
  seekRequest: { time: number; nonce: number } | null;
  queueOpen: boolean;

  playQueue: (tracks: Track[], startIndex?: number) => void;
  play: () => void;
  pause: () => void;
  togglePlay: () => void;
  next: () => void;
  previous: () => void;
  /** Called by the engine when the current track finished on its own. */
  trackEnded: () => void;
  seek: (time: number) => void;
  seekBy: (delta: number) => void;
  setVolume: (volume: number) => void;
  toggleMute: () => void;
  toggleShuffle: () => void;
  setRepeat: (mode: RepeatMode) => void;
  cycleRepeat: () => void;
  jumpTo: (queueIndex: number) => void;
  removeFromQueue: (queueIndex: number) => void;
  reportTime: (currentTime: number, duration?: number) => void;
  setQueueOpen: (open: boolean) => void;
  reset: () => void;
}

/** Restarting instead of going back once a track has played this long (s). */
export const PREVIOUS_RESTART_THRESHOLD = 3;

const initial = {
  queue: [] as Track[],
  order: [] as number[],
  position: 0,
  shuffle: false,
  repeat: 'off' as RepeatMode,
  isPlaying: false,
  volume: 0.8,
  muted: false,
  currentTime: 0,
  duration: 0,
  seekRequest: null,
  queueOpen: false,
};

let seekNonce = 0;
const seekTo = (time: number) => ({ time, nonce: ++seekNonce });

export const usePlayerStore = create<PlayerState>()((set, get) => {
  /** Moves to `position` in the play order and starts the track from 0. */
  const goTo = (position: number, isPlaying = true) =>
    set((s) => ({
      position,
      isPlaying,
      currentTime: 0,
      duration: s.queue[s.order[position] ?? -1]?.duration ?? 0,
      seekRequest: seekTo(0),
    }));

  const restart = () => set({ currentTime: 0, seekRequest: seekTo(0), isPlaying: true });

  return {
    ...initial,

    playQueue: (tracks, startIndex = 0) => {
      if (tracks.length === 0) return;
      const start = Math.min(Math.max(0, startIndex), tracks.length - 1);
      const { shuffle } = get();
      const order = shuffle ? shuffledOrder(tracks.length, start) : identityOrder(tracks.length);
      set({
        queue: tracks.slice(),
        order,
        position: shuffle ? 0 : start,
        isPlaying: true,
        currentTime: 0,
        duration: tracks[start]?.duration ?? 0,
        seekRequest: seekTo(0),
      });
    },

    play: () => {
      if (get().queue.length > 0) set({ isPlaying: true });
    },
    pause: () => set({ isPlaying: false }),
    togglePlay: () => (get().isPlaying ? get().pause() : get().play()),

    next: () => {
      const { position, order, repeat } = get();
      if (order.length === 0) return;
      if (position < order.length - 1) goTo(position + 1);
      else if (repeat === 'all') goTo(0);
      // End of the queue with repeat off: a manual "next" has nowhere to go.
    },

    previous: () => {
      const { position, order, repeat, currentTime } = get();
      if (order.length === 0) return;
      if (currentTime > PREVIOUS_RESTART_THRESHOLD) restart();
      else if (position > 0) goTo(position - 1);
      else if (repeat === 'all') goTo(order.length - 1);
      else restart();
    },

    trackEnded: () => {
      const { position, order, repeat } = get();
      if (order.length === 0) return;
      if (repeat === 'one') restart();
      else if (position < order.length - 1) goTo(position + 1);
      else if (repeat === 'all') goTo(0);
      else set((s) => ({ isPlaying: false, currentTime: s.duration })); // stop on the last track
    },

    seek: (time) => {
      const { duration } = get();
      const max = duration > 0 ? duration : Number.POSITIVE_INFINITY;
      const t = Math.min(Math.max(0, time), max);
      set({ currentTime: t, seekRequest: seekTo(t) });
    },
    seekBy: (delta) => get().seek(get().currentTime + delta),

    setVolume: (volume) => {
      const v = Math.min(1, Math.max(0, volume));
      set({ volume: v, muted: v === 0 ? get().muted : false });
    },
    toggleMute: () => set((s) => ({ muted: !s.muted })),

    toggleShuffle: () => {
      const { shuffle, order, position, queue } = get();
      const currentIndex = order[position];
      if (shuffle) {
        // Back to the original order, staying on the same track.
        set({ shuffle: false, order: identityOrder(queue.length), position: currentIndex ?? 0 });
      } else {
        const order = currentIndex === undefined ? [] : shuffledOrder(queue.length, currentIndex);
        set({ shuffle: true, order, position: 0 });
      }
    },

    setRepeat: (repeat) => set({ repeat }),
    cycleRepeat: () => {
      const nextMode: Record<RepeatMode, RepeatMode> = { off: 'all', all: 'one', one: 'off' };
      set((s) => ({ repeat: nextMode[s.repeat] }));
    },

    jumpTo: (queueIndex) => {
      const position = get().order.indexOf(queueIndex);
      if (position >= 0) goTo(position);
    },

    removeFromQueue: (queueIndex) => {
      const { queue, order, position, isPlaying } = get();
      if (queueIndex < 0 || queueIndex >= queue.length) return;
      const removedPosition = order.indexOf(queueIndex);
      const newQueue = queue.filter((_, i) => i !== queueIndex);
      const newOrder = order.filter((i) => i !== queueIndex).map((i) => (i > queueIndex ? i - 1 : i));
      if (newQueue.length === 0) {
        set({ ...initial, volume: get().volume, muted: get().muted, shuffle: get().shuffle, repeat: get().repeat });
        return;
      }
      if (removedPosition < position) {
        set({ queue: newQueue, order: newOrder, position: position - 1 });
      } else if (removedPosition > position) {
        set({ queue: newQueue, order: newOrder });
      } else {
        // Removing the current track: the next one in play order takes its place.
        const atEnd = position >= newOrder.length;
        set({ queue: newQueue, order: newOrder });
        goTo(atEnd ? newOrder.length - 1 : position, atEnd ? false : isPlaying);
      }
    },

    reportTime: (currentTime, duration) =>
      set((s) => ({
        currentTime,
        duration: duration !== undefined && Number.isFinite(duration) && duration > 0 ? duration : s.duration,
      })),

    setQueueOpen: (queueOpen) => set({ queueOpen }),

    reset: () => set({ ...initial, volume: get().volume, muted: get().muted }),
  };
});

export const selectCurrentTrack = (s: PlayerState): Track | null => s.queue[s.order[s.position] ?? -1] ?? null;

export const selectCurrentQueueIndex = (s: PlayerState): number => s.order[s.position] ?? -1;

/** The track that will play after the current one ends on its own (for preloading). */
export const selectUpcomingTrack = (s: PlayerState): Track | null => {
  if (s.order.length === 0) return null;
  if (s.repeat === 'one') return null;
  if (s.position < s.order.length - 1) return s.queue[s.order[s.position + 1] ?? -1] ?? null;
  if (s.repeat === 'all') return s.queue[s.order[0] ?? -1] ?? null;
  return null;
};

export const selectHasNext = (s: PlayerState) => s.position < s.order.length - 1 || (s.repeat === 'all' && s.order.length > 0);
