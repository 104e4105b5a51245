import type { AdminSong, SongStatus } from '../types';

/** A song's server state; a song without one (admin-svc without the media worker) is ready. */
export function songStatus(song: Pick<AdminSong, 'status'>): SongStatus {
  return song.status === 'processing' || song.status === 'rejected' ? song.status : 'ready';
}

/** True when no song is still being read by the media worker. */
export const allSettled = (songs: Pick<AdminSong, 'status'>[]) => songs.every((s) => songStatus(s) !== 'processing');

/**
 * True when every watched song is in the answer and settled, and no song in
 * it is processing. A watched id missing from the answer (a song created after
 * the request was sent) is not settled.
 */
export function watchedSettled(songs: Pick<AdminSong, 'id' | 'status'>[], watched: readonly string[]): boolean {
  if (!allSettled(songs)) return false;
  const present = new Set(songs.map((s) => s.id));
  return watched.every((id) => present.has(id));
}

/**
 * A poll answer merged into the list shown: only `status` and `statusReason`,
 * by id. The answer may be older than a delete, edit or reload made since it
 * was sent, so songs not in the list are not added and songs missing from the
 * answer keep their data. The same array when nothing changed.
 */
export function mergeStatuses(current: AdminSong[] | undefined, fresh: AdminSong[]): AdminSong[] | undefined {
  if (!current) return current;
  const byId = new Map(fresh.map((s) => [s.id, s]));
  let changed = false;
  const merged = current.map((s) => {
    const f = byId.get(s.id);
    if (!f || (f.status === s.status && (f.statusReason ?? null) === (s.statusReason ?? null))) return s;
    changed = true;
    const { status: _status, statusReason: _reason, ...rest } = s;
    return { ...rest, ...(f.status !== undefined ? { status: f.status } : {}), ...(f.statusReason !== undefined ? { statusReason: f.statusReason } : {}) };
  });
  return changed ? merged : current;
}

/** A stable key for a set of processing song ids: sorted, comma-joined ('' for none). */
export const processingKey = (ids: readonly string[]) => [...ids].sort().join(',');

export const POLL_FAST_MS = 2000;
export const POLL_SLOW_MS = 5000;
export const POLL_SLOW_AFTER_MS = 60_000;

/** The pause before the next poll: every 2 s for the first minute, then every 5 s. */
export const pollDelay = (elapsedMs: number) => (elapsedMs < POLL_SLOW_AFTER_MS ? POLL_FAST_MS : POLL_SLOW_MS);

export interface Clock {
  now: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Polls an album's songs while any is processing: `load` every 2 s (5 s after
 * the first minute), each answer handed to `onSongs`, until an answer has
 * every `watched` song, settled, and no processing song (`watchedSettled`),
 * or the returned stop function is called (which also aborts a request in
 * flight). A failed request is retried at the next tick.
 */
export function pollSongStatuses(
  load: (signal: AbortSignal) => Promise<AdminSong[]>,
  onSongs: (songs: AdminSong[]) => void,
  clock: Clock = realClock,
  watched: readonly string[] = [],
): () => void {
  const started = clock.now();
  let stopped = false;
  let timer: unknown = null;
  let inFlight: AbortController | null = null;

  const tick = async () => {
    timer = null;
    inFlight = new AbortController();
    const ctrl = inFlight;
    try {
      const songs = await load(ctrl.signal);
      if (stopped) return;
      onSongs(songs);
      if (watchedSettled(songs, watched)) {
        stopped = true;
        return;
      }
    } catch {
      if (stopped) return;
    } finally {
      if (inFlight === ctrl) inFlight = null;
    }
    timer = clock.setTimeout(() => void tick(), pollDelay(clock.now() - started));
  };

  timer = clock.setTimeout(() => void tick(), pollDelay(0));
  return () => {
    stopped = true;
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
    inFlight?.abort();
  };
}
