import { describe, expect, it, vi } from 'vitest';
import type { Song } from '@/types/catalog';
import { lookupSongs } from './songs';
import { songToTrack } from './track';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const C = '00000000-0000-4000-8000-00000000000c';

const song = (id: string, extra: Partial<Song> = {}): Song => ({ id, title: `t-${id}`, artist: 'x', duration: 60, albumId: 'al', ...extra });

const answer = (body: unknown) => {
  const fetchMock = vi.fn(async () => new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } }));
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
};

describe('lookupSongs', () => {
  it('keeps unavailable (processing/rejected) ids apart from missing ones', async () => {
    answer({ songs: [song(A)], missing: [C], unavailable: [B] });
    const res = await lookupSongs([A, B, C, 'not-a-uuid']);
    expect([...res.byId.keys()]).toEqual([A]);
    expect([...res.missing]).toEqual([C]);
    expect([...res.unavailable]).toEqual([B]);
  });

  it('never reports an id as missing that the server also called unavailable', async () => {
    answer({ songs: [], missing: [B], unavailable: [B] });
    const res = await lookupSongs([B]);
    expect(res.missing.size).toBe(0);
    expect([...res.unavailable]).toEqual([B]);
  });

  it('accepts an older server without `unavailable`', async () => {
    answer({ songs: [song(A)], missing: [] });
    const res = await lookupSongs([A]);
    expect(res.unavailable.size).toBe(0);
  });
});

describe('songToTrack gains', () => {
  it('carries the song gains, the album gain standing in for a song without one', () => {
    expect(songToTrack(song(A, { trackGainDb: -3.5, albumGainDb: -4 }))).toMatchObject({ trackGainDb: -3.5, albumGainDb: -4 });
    expect(songToTrack(song(A, { trackGainDb: null }), { thumbnailUrl: null, albumGainDb: -2 })).toMatchObject({ trackGainDb: null, albumGainDb: -2 });
    expect(songToTrack(song(A))).toMatchObject({ trackGainDb: null, albumGainDb: null }); // an older server
  });
});
