import { ApiError, errorMessage } from '@/lib/api-client';
import { createSong, listAlbumSongs, type NewSong } from '../api';
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

/** admin-svc's answer when the audio object already belongs to a song: 422 naming `audioKey`. */
export const audioKeyTaken = (err: unknown) => err instanceof ApiError && err.status === 422 && err.fieldErrors.some((e) => e.field === 'audioKey');

export interface AddSongDeps {
  upload: typeof uploadFile;
  create: typeof createSong;
  /** The album's songs (to find one an earlier create made but whose answer was lost). */
  list: (albumId: string, signal?: AbortSignal) => Promise<AdminSong[]>;
}

/**
 * The pool task that adds one song: upload the audio through a presigned
 * URL (progress 0–100), then `POST /api/admin/song`. A retry after the
 * upload succeeded only repeats the create (the object is already there).
 * When an earlier create was sent (an automatic or manual retry) and this one
 * is refused because the audio key is already used, that create did commit
 * (only its answer was lost): the album's song with that key is the result.
 */
export function addSongTask(song: SongToAdd, deps: AddSongDeps = { upload: uploadFile, create: createSong, list: listAlbumSongs }): PoolTask<AdminSong> {
  let audioKey: string | null = null;
  let createSent = false;
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
      const retried = createSent;
      createSent = true;
      try {
        return createdSong(await deps.create(body), body);
      } catch (err) {
        if (!retried || !audioKeyTaken(err)) throw err;
        const key = audioKey;
        const existing = (await deps.list(song.albumId, signal)).find((s) => s.audioKey === key);
        if (existing) return existing;
        throw err;
      }
    },
  };
}
