import { useMemo, type ReactNode } from 'react';
import { PlaybackContext, type Playback } from '@/components/tracks';
import { FavoriteButton } from '@/features/favorites';
import { AddToPlaylistButton } from '@/features/playlists';
import { selectCurrentTrack, usePlayerStore } from '@/features/player';
import type { Track } from '@/types/track';

/** The controls every track row (and the player) gets: the heart and "add to playlist". */
export const trackActions = (track: Track) => (
  <>
    <AddToPlaylistButton songIds={[track.id]} title={track.title} />
    <FavoriteButton songId={track.id} title={track.title} />
  </>
);

/**
 * Gives the pages (catalog, favorites, search) the player as the shared
 * `Playback` interface, so those features never import the player feature.
 */
export function PlaybackProvider({ children }: { children: ReactNode }) {
  const currentTrackId = usePlayerStore((s) => selectCurrentTrack(s)?.id ?? null);
  const isPlaying = usePlayerStore((s) => s.isPlaying);
  const playQueue = usePlayerStore((s) => s.playQueue);
  const togglePlay = usePlayerStore((s) => s.togglePlay);
  const value = useMemo<Playback>(
    () => ({ currentTrackId, isPlaying, playQueue, togglePlay, trackActions }),
    [currentTrackId, isPlaying, playQueue, togglePlay],
  );
  return <PlaybackContext.Provider value={value}>{children}</PlaybackContext.Provider>;
}
