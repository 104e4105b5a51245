import { useEffect, useRef } from 'react';
import { listAlbumSongs } from '../api';
import type { AdminSong } from '../types';
import { pollSongStatuses } from './status';

/**
 * While `active` (some song of the album is shown as processing), polls
 * `GET /api/admin/album/{id}/song` (2 s, then 5 s after a minute) and hands
 * each answer to `onSongs`; stops when no song is processing, when `active`
 * turns false, or on unmount.
 */
export function useSongStatusPolling(albumId: string | null, active: boolean, onSongs: (songs: AdminSong[]) => void) {
  const onSongsRef = useRef(onSongs);
  useEffect(() => {
    onSongsRef.current = onSongs;
  });
  useEffect(() => {
    if (!albumId || !active) return;
    return pollSongStatuses(
      (signal) => listAlbumSongs(albumId, signal),
      (songs) => onSongsRef.current(songs),
    );
  }, [albumId, active]);
}
