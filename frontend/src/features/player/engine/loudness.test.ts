import { describe, expect, it } from 'vitest';
import type { Track } from '../types';
import { clampDb, dbToLinear, fallbackVolume, gainDbFor, gainFor, isAlbumInOrder, MAX_BOOST_DB, MAX_CUT_DB, queueGains } from './loudness';

const track = (id: string, extra: Partial<Track> = {}): Track => ({ id, title: id, artist: 'x', duration: 60, albumId: 'al', ...extra });

describe('dbToLinear', () => {
  it('is 10^(dB/20)', () => {
    expect(dbToLinear(0)).toBe(1);
    expect(dbToLinear(-6)).toBeCloseTo(0.5012, 4);
    expect(dbToLinear(6)).toBeCloseTo(1.9953, 4);
    expect(dbToLinear(-20)).toBeCloseTo(0.1, 10);
  });
});

describe('clampDb', () => {
  it('limits to the boost and cut bounds, and takes anything unknown as 0 dB', () => {
    expect(clampDb(-7.5)).toBe(-7.5);
    expect(clampDb(40)).toBe(MAX_BOOST_DB);
    expect(clampDb(-90)).toBe(MAX_CUT_DB);
    expect(clampDb(null)).toBe(0);
    expect(clampDb(undefined)).toBe(0);
    expect(clampDb(Number.NaN)).toBe(0);
    expect(clampDb(Number.POSITIVE_INFINITY)).toBe(0);
  });
});

describe('gainDbFor', () => {
  const both = { trackGainDb: -4, albumGainDb: -6 };
  it('uses the album gain for an album played in order, else the track gain', () => {
    expect(gainDbFor(both, { enabled: true, albumMode: true })).toBe(-6);
    expect(gainDbFor(both, { enabled: true, albumMode: false })).toBe(-4);
  });
  it('falls back to the track gain when the album gain is not known yet', () => {
    expect(gainDbFor({ trackGainDb: -4, albumGainDb: null }, { enabled: true, albumMode: true })).toBe(-4);
    expect(gainDbFor({ trackGainDb: -4 }, { enabled: true, albumMode: true })).toBe(-4);
  });
  it('is 0 dB when unknown (older server, not measured) or normalisation is off', () => {
    expect(gainDbFor({}, { enabled: true, albumMode: false })).toBe(0);
    expect(gainDbFor({ trackGainDb: null, albumGainDb: null }, { enabled: true, albumMode: true })).toBe(0);
    expect(gainDbFor(both, { enabled: false, albumMode: true })).toBe(0);
    expect(gainFor(both, { enabled: false, albumMode: false })).toBe(1);
  });
  it('gives the linear gain', () => {
    expect(gainFor({ trackGainDb: -20 }, { enabled: true, albumMode: false })).toBeCloseTo(0.1, 10);
  });
});

describe('isAlbumInOrder', () => {
  const album = [track('a', { trackNumber: 1 }), track('b', { trackNumber: 2 }), track('c', { trackNumber: 3 })];
  it('is an album in order: one album, shuffle off, ascending track numbers', () => {
    expect(isAlbumInOrder(album, [0, 1, 2], false)).toBe(true);
  });
  it('is not when shuffled, mixed, reordered, single or album-less', () => {
    expect(isAlbumInOrder(album, [2, 0, 1], true)).toBe(false);
    expect(isAlbumInOrder([...album, track('z', { albumId: 'other', trackNumber: 4 })], [0, 1, 2, 3], false)).toBe(false);
    // A playlist's own shuffle: the album's songs queued out of order.
    const reordered = [album[2], album[0], album[1]] as Track[];
    expect(isAlbumInOrder(reordered, [0, 1, 2], false)).toBe(false);
    expect(isAlbumInOrder([album[0] as Track], [0], false)).toBe(false);
    expect(isAlbumInOrder([track('x', { albumId: null }), track('y', { albumId: null })], [0, 1], false)).toBe(false);
  });
  it('tolerates songs without a track number', () => {
    expect(isAlbumInOrder([track('a'), track('b', { trackNumber: 2 }), track('c')], [0, 1, 2], false)).toBe(true);
  });
});

describe('fallbackVolume', () => {
  it('scales the volume by the gain, which can only cut', () => {
    expect(fallbackVolume(0.8, 0.5)).toBeCloseTo(0.4);
    expect(fallbackVolume(0.8, 3)).toBeCloseTo(0.8);
    expect(fallbackVolume(1, Number.NaN)).toBe(1);
    expect(fallbackVolume(2, 1)).toBe(1);
  });
});

describe('queueGains', () => {
  const a = track('a', { trackNumber: 1, trackGainDb: -20, albumGainDb: -6 });
  const b = track('b', { trackNumber: 2, trackGainDb: 0, albumGainDb: -6 });
  it('gives the current and upcoming tracks the album gain when the album plays in order', () => {
    const g = queueGains({ queue: [a, b], order: [0, 1], shuffle: false }, [a, b], true);
    expect(g.get('a')).toBeCloseTo(dbToLinear(-6));
    expect(g.get('b')).toBeCloseTo(dbToLinear(-6));
  });
  it('gives track gains when shuffled, and 1 when switched off', () => {
    const g = queueGains({ queue: [a, b], order: [1, 0], shuffle: true }, [b, a], true);
    expect(g.get('a')).toBeCloseTo(0.1);
    expect(g.get('b')).toBe(1);
    const off = queueGains({ queue: [a, b], order: [0, 1], shuffle: false }, [a, null], false);
    expect([...off]).toEqual([['a', 1]]);
  });
});
