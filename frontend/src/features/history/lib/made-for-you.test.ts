import { describe, expect, it } from 'vitest';
import type { Song } from '@/types/catalog';
import { madeForYou } from './made-for-you';

const song = (id: string, artist: string, title = id): Song => ({ id, artist, title, duration: 100 });

describe('madeForYou', () => {
  const catalogue = [song('a1', 'A'), song('a2', 'A'), song('b1', 'B'), song('b2', 'B'), song('c1', 'C'), song('d1', 'D'), song('e1', 'E')];
  const known = new Map(catalogue.map((s) => [s.id, s]));

  it('picks the strongest artists, plays and favourites together, strongest first', () => {
    const picks = madeForYou(
      { top: [{ songId: 'a1', plays: 5 }, { songId: 'b1', plays: 2 }, { songId: 'd1', plays: 1 }], favorites: ['c1'], playedRecently: new Set() },
      known,
      catalogue,
    );
    // A 5, C 3 (a favourite), B 2; D (1) is fourth and left out.
    expect(picks.map((s) => s.id)).toEqual(['a1', 'a2', 'c1', 'b1', 'b2']);
  });

  it('leaves out what was played in the last day', () => {
    const picks = madeForYou({ top: [{ songId: 'a1', plays: 5 }], favorites: [], playedRecently: new Set(['a1']) }, known, catalogue);
    expect(picks.map((s) => s.id)).toEqual(['a2']);
  });

  it('is empty for a new listener', () => {
    expect(madeForYou({ top: [], favorites: [], playedRecently: new Set() }, known, catalogue)).toEqual([]);
  });
});
