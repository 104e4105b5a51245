import type { Song } from '@/types/catalog';

export interface Taste {
  /** The listener's play counts. */
  top: { songId: string; plays: number }[];
  /** Their favourites (each weighs like three plays). */
  favorites: string[];
  /** Songs they played in the last day: left out. */
  playedRecently: Set<string>;
}

/**
 * "Made for you": songs by the artists a listener plays and favourites most
 * (their three strongest), excluding what they played in the last day,
 * strongest artist first. `known` resolves the listener's song ids,
 * `catalogue` is every song.
 */
export function madeForYou(taste: Taste, known: Map<string, Song>, catalogue: Song[], size = 12): Song[] {
  const score = new Map<string, number>();
  const add = (songId: string, weight: number) => {
    const artist = known.get(songId)?.artist;
    if (artist) score.set(artist, (score.get(artist) ?? 0) + weight);
  };
  for (const t of taste.top) add(t.songId, t.plays);
  for (const f of taste.favorites) add(f, 3);
  const artists = [...score.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 3)
    .map(([a]) => a);
  const rank = new Map(artists.map((a, i) => [a, i]));
  return catalogue
    .filter((s) => rank.has(s.artist) && !taste.playedRecently.has(s.id))
    .sort((a, b) => (rank.get(a.artist) ?? 0) - (rank.get(b.artist) ?? 0) || a.title.localeCompare(b.title))
    .slice(0, size);
}
