import { api } from '@/lib/api-client';
import type { Song } from '@/types/catalog';

/** The most ids song-svc takes in one lookup. */
export const LOOKUP_MAX = 500;

export interface SongLookup {
  /** Songs that exist, by id. */
  byId: Map<string, Song>;
  /**
   * Ids song-svc says are no longer in the catalogue (deleted): lists hide
   * them. Ids that are not catalogue ids are not asked for, and not listed
   * here either: they are hidden, never pruned.
   */
  missing: Set<string>;
  /**
   * Ids of songs that exist but cannot be played now (`processing` or
   * `rejected`, docs/media.md): not in `byId`, never pruned, shown as not
   * playable where a list keeps its order (a playlist).
   */
  unavailable: Set<string>;
}

/**
 * Song details for any list of ids (a playlist, the history, trending): one
 * `POST /api/song/songs` per 500 distinct ids.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function lookupSongs(ids: string[], signal?: AbortSignal): Promise<SongLookup> {
  const byId = new Map<string, Song>();
  const missing = new Set<string>();
  const unavailable = new Set<string>();
  // An id that is not a catalogue id (an old import) names no song; asking
  // for it would fail the whole lookup.
  const distinct = [...new Set(ids)].filter((id) => UUID.test(id));
  for (let i = 0; i < distinct.length; i += LOOKUP_MAX) {
    const chunk = distinct.slice(i, i + LOOKUP_MAX);
    const res = await api.post<{ songs: Song[]; missing: string[]; unavailable?: string[] }>(
      '/api/song/songs',
      { ids: chunk },
      { signal, auth: false },
    );
    for (const s of res.songs) byId.set(s.id, s);
    for (const m of res.missing) missing.add(m);
    // Older servers do not send `unavailable`.
    for (const u of res.unavailable ?? []) unavailable.add(u);
  }
  // Only `missing` ids are gone; an id the server called both is kept.
  for (const u of unavailable) missing.delete(u);
  return { byId, missing, unavailable };
}

export interface Pruned {
  /** Playlist entries removed. */
  entries: number;
  favorites: number;
}

/**
 * Songs song-svc reported `missing` (never `unavailable` ones) leave the listener's own playlists and
 * favourites (their deletion's event was missed by user-svc). Resolves to
 * what was removed, or null when nothing was asked (nothing missing, the
 * page was left) or the request failed: the songs then stay hidden until
 * the next read tries again.
 */
export async function pruneMissing(missing: Iterable<string>, signal?: AbortSignal): Promise<Pruned | null> {
  const songIds = [...new Set(missing)].slice(0, LOOKUP_MAX);
  if (songIds.length === 0 || signal?.aborted) return null;
  try {
    return await api.post<Pruned>('/api/user/library/prune', { songIds }, { signal });
  } catch {
    return null;
  }
}
