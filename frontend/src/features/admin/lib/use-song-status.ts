import { useEffect, useRef } from 'react';
import { listAlbumSongs } from '../api';
import type { AdminSong } from '../types';
import { pollSongStatuses, processingKey } from './status';

/**
 * While some song of the album is shown as processing (`processingIds`),
 * polls `GET /api/admin/album/{id}/song` (2 s, then 5 s after a minute) and
 * hands each answer to `onSongs`; stops when every one of those songs is in
 * an answer and settled (and none in it is processing), on unmount, and
 * starts again whenever the set of processing ids changes (a song added
 * while a poll was in flight is not missed).
 */
export function useSongStatusPolling(albumId: string | null, processingIds: readonly string[], onSongs: (songs: AdminSong[]) => void) {
  const onSongsRef = useRef(onSongs);
  useEffect(() => {
    onSongsRef.current = onSongs;
  });
  const key = processingKey(processingIds);
  useEffect(() => {
    if (!albumId || !key) return;
    return pollSongStatuses(
      (signal) => listAlbumSongs(albumId, signal),
      (songs) => onSongsRef.current(songs),
      undefined,
      key.split(','),
    );
  }, [albumId, key]);
}
