import { createContext, useContext, type ReactNode } from 'react';
import type { Track } from '@/types/track';

/**
 * What a page needs from the player to play tracks and show which one is
 * playing. Features depend on this interface; app/ provides it from the player
 * store (features do not import each other).
 */
export interface Playback {
  /** The id of the track loaded in the player, or null. */
  currentTrackId: string | null;
  isPlaying: boolean;
  /** Replaces the queue with `tracks` and plays `tracks[index]`. */
  playQueue: (tracks: Track[], index: number) => void;
  togglePlay: () => void;
  /** Extra per-track controls at the end of a track row (e.g. the favourite heart). */
  trackActions?: (track: Track) => ReactNode;
}

export const PlaybackContext = createContext<Playback | null>(null);

export function usePlayback(): Playback {
  const playback = useContext(PlaybackContext);
  if (!playback) throw new Error('usePlayback needs a PlaybackContext provider (app/playback.tsx)');
  return playback;
}
