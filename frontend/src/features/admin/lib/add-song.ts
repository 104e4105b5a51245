import { ApiError, errorMessage } from '@/lib/api-client';
import { createSong, type NewSong } from '../api';
import { uploadFile } from '../api/upload';
import type { AdminSong } from '../types';
import { isAbort, type PoolTask } from './pool';

export interface SongToAdd {
  id: string;
  file: File;
  contentType: string;
  title: string;
  artist: string;
  albumId: string;
  trackNumber: number;
  /** Seconds; null or unreadable sends 0 (admin-svc accepts 0..=86400; the media worker measures the real one). */
  duration: number | null;
}

/** A duration admin-svc accepts: finite, 0..=86400, to the millisecond. */
export function apiDuration(seconds: number | null | undefined): number {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) return 0;
  return Math.min(86_400, Math.round(seconds * 1000) / 1000);
}

/** The song admin-svc returned, or (an older answer without `song`) the fields it had. */
export function createdSong(answer: ({ song?: AdminSong } & Partial<AdminSong>) | undefined, sent: NewSong): AdminSong {
  if (answer?.song) return answer.song;
  return { id: answer?.id ?? '', title: sent.title, artist: sent.artist, duration: sent.duration, trackNumber: sent.trackNumber, albumId: sent.albumId, ...answer };
}

/** Errors a second try will not fix: an abort, and the API refusing the request itself. */
export function worthRetrying(err: unknown): boolean {
  if (isAbort(err)) return false;
  return !(err instanceof ApiError && (err.status === 400 || err.status === 413 || err.status === 422));
}

/** A failure as one line for the admin, with the API's field messages. */
export function failureText(err: unknown): string {
  const fields = err instanceof ApiError ? Object.values(err.fieldMap()) : [];
  return [errorMessage(err, 'Upload failed.'), ...fields].join(' ');
}

export interface AddSongDeps {
  upload: typeof uploadFile;
  create: typeof createSong;
}

/**
 * The pool task that adds one song: upload the audio through a presigned
 * URL (progress 0–100), then `POST /api/admin/song`. A retry after the
 * upload succeeded only repeats the create (the object is already there).
 */
export function addSongTask(song: SongToAdd, deps: AddSongDeps = { upload: uploadFile, create: createSong }): PoolTask<AdminSong> {
  let audioKey: string | null = null;
  return {
    id: song.id,
    run: async ({ onProgress, signal }) => {
      if (audioKey === null) {
        onProgress(0);
        audioKey = await deps.upload(song.file, 'song', song.contentType, onProgress, signal);
      }
      onProgress(100);
      const body: NewSong = {
        title: song.title.trim(),
        artist: song.artist.trim(),
        audioKey,
        duration: apiDuration(song.duration),
        albumId: song.albumId,
        trackNumber: song.trackNumber,
      };
      return createdSong(await deps.create(body), body);
    },
  };
}
