import { api, ApiError } from '@/lib/api-client';
import { LruCache } from '@/lib/lru';
import { parsePeaks } from '../lib/peaks';

/** Waveforms kept in memory, by song id (null: the song has none). */
export const WAVEFORM_CACHE_SIZE = 50;

const cache = new LruCache<string, number[] | null>(WAVEFORM_CACHE_SIZE);
const inflight = new Map<string, Promise<number[] | null>>();

/** The cached waveform of a song: peaks, null when it has none, undefined when not known yet. */
export function peekWaveform(songId: string): number[] | null | undefined {
  return cache.has(songId) ? cache.get(songId) : undefined;
}

/**
 * A song's waveform peaks (`GET /api/song/{id}/waveform` → `{peaks}`, 800
 * values 0‥255), or null when it has none (404, or a body that is not a
 * peaks array). Both are cached; a failure (network, 5xx) is not, and
 * rejects.
 */
export function getWaveform(songId: string): Promise<number[] | null> {
  if (cache.has(songId)) return Promise.resolve(cache.get(songId) ?? null);
  const pending = inflight.get(songId);
  if (pending) return pending;
  const request = api
    .get<unknown>(`/api/song/${encodeURIComponent(songId)}/waveform`)
    .then(
      (body) => parsePeaks(body),
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      },
    )
    .then((peaks) => {
      cache.set(songId, peaks);
      return peaks;
    })
    .finally(() => inflight.delete(songId));
  inflight.set(songId, request);
  return request;
}

export function clearWaveformCache(): void {
  cache.clear();
  inflight.clear();
}
