import type { Track } from '../types';

/**
 * Loudness normalisation: which gain a track gets, as pure functions.
 *
 * song-svc gives each song a track gain and, once the whole album is
 * measured, an album gain (dB to a −14 LUFS reference, capped so the true
 * peak stays at or below −1 dBTP; docs/media.md). An album played in order
 * uses the album gain, so its songs keep their level relative to each other;
 * anything else uses the track gain; an unknown gain is 0 dB.
 */

/** The most a gain may boost (dB), whatever the server says. */
export const MAX_BOOST_DB = 12;
/** The most a gain may cut (dB). */
export const MAX_CUT_DB = -30;

export function dbToLinear(db: number): number {
  return 10 ** (db / 20);
}

/** A gain in dB limited to [MAX_CUT_DB, MAX_BOOST_DB]; 0 for anything that is not a finite number. */
export function clampDb(db: number | null | undefined): number {
  if (typeof db !== 'number' || !Number.isFinite(db)) return 0;
  return Math.min(MAX_BOOST_DB, Math.max(MAX_CUT_DB, db));
}

/**
 * Whether the queue, in play order, is one album played in order: at least
 * two tracks, shuffle off, all of the same album, track numbers ascending
 * (a playlist of one album's songs in another order is not).
 */
export function isAlbumInOrder(queue: readonly Track[], order: readonly number[], shuffle: boolean): boolean {
  if (shuffle || queue.length < 2) return false;
  const albumId = queue[0]?.albumId;
  if (!albumId) return false;
  let lastNumber = Number.NEGATIVE_INFINITY;
  for (let position = 0; position < order.length; position++) {
    const track = queue[order[position] ?? -1];
    if (!track || track.albumId !== albumId) return false;
    const n = track.trackNumber;
    if (typeof n === 'number') {
      if (n < lastNumber) return false;
      lastNumber = n;
    }
  }
  return true;
}

/** The gain (dB) to play `track` at. */
export function gainDbFor(track: Pick<Track, 'trackGainDb' | 'albumGainDb'>, opts: { enabled: boolean; albumMode: boolean }): number {
  if (!opts.enabled) return 0;
  const album = track.albumGainDb;
  if (opts.albumMode && typeof album === 'number' && Number.isFinite(album)) return clampDb(album);
  return clampDb(track.trackGainDb);
}

/** The linear gain to play `track` at (1 when normalisation is off or the gain unknown). */
export function gainFor(track: Pick<Track, 'trackGainDb' | 'albumGainDb'>, opts: { enabled: boolean; albumMode: boolean }): number {
  return dbToLinear(gainDbFor(track, opts));
}

/**
 * The element volume for the no-Web-Audio fallback: the listener's volume
 * scaled by the gain, which can only cut there (an element's volume stops
 * at 1), so a gain above 1 counts as 1.
 */
export function fallbackVolume(volume: number, gain: number): number {
  const v = Number.isFinite(volume) ? Math.min(1, Math.max(0, volume)) : 1;
  const g = Number.isFinite(gain) ? Math.min(1, Math.max(0, gain)) : 1;
  return v * g;
}

/**
 * The linear gains of the tracks about to play (the current and the upcoming
 * one), by id, for `PlaybackEngine.setGains`.
 */
export function queueGains(
  queue: { queue: readonly Track[]; order: readonly number[]; shuffle: boolean },
  tracks: ReadonlyArray<Track | null>,
  enabled: boolean,
): Map<string, number> {
  const albumMode = enabled && isAlbumInOrder(queue.queue, queue.order, queue.shuffle);
  const gains = new Map<string, number>();
  for (const track of tracks) if (track) gains.set(track.id, gainFor(track, { enabled, albumMode }));
  return gains;
}
