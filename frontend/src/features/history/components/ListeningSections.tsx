import { TrackList } from '@/components/tracks';
import { api } from '@/lib/api-client';
import { lookupSongs } from '@/lib/songs';
import { songToTrack } from '@/lib/track';
import { useAsync } from '@/lib/use-async';
import type { Song } from '@/types/catalog';
import type { Track } from '@/types/track';
import { recentPlays, topSongs, trending } from '../api';
import { madeForYou } from '../lib/made-for-you';

interface Sections {
  jumpBackIn: Track[];
  trending: Track[];
  forYou: Track[];
}

const DAY_MS = 86_400_000;

async function load(favorites: string[], signal: AbortSignal): Promise<Sections> {
  const [recent, top, hot] = await Promise.all([recentPlays(signal, 50), topSongs(signal, 50), trending(signal)]);
  const mine = [...recent.map((p) => p.songId), ...top.map((t) => t.songId), ...favorites];
  // Songs gone from the catalogue are not shown (the favourites and
  // playlist pages repair the lists themselves).
  const { byId } = await lookupSongs([...mine, ...hot.map((t) => t.songId)], signal);
  const tracks = (ids: string[]) => ids.flatMap((id) => (byId.has(id) ? [songToTrack(byId.get(id) as Song)] : []));
  const jumpBackIn = tracks([...new Set(recent.map((p) => p.songId))]).slice(0, 8);
  let forYou: Track[] = [];
  if (top.length > 0 || favorites.length > 0) {
    const catalogue = await api.get<Song[]>('/api/song/', { signal, auth: false });
    const since = Date.now() - DAY_MS;
    const playedRecently = new Set(recent.filter((p) => Date.parse(p.playedAt) >= since).map((p) => p.songId));
    forYou = madeForYou({ top, favorites, playedRecently }, byId, catalogue).map((s) => songToTrack(s));
  }
  return { jumpBackIn, trending: tracks(hot.map((t) => t.songId)).slice(0, 10), forYou };
}

function Section({ title, id, tracks }: { title: string; id: string; tracks: Track[] }) {
  if (tracks.length === 0) return null;
  return (
    <section aria-labelledby={`${id}-heading`} className="flex flex-col gap-3" data-testid={id}>
      <h2 id={`${id}-heading`} className="text-xl font-bold">
        {title}
      </h2>
      <TrackList tracks={tracks} numbering="position" showArtwork testId={`${id}-list`} rowTestId={`${id}-row`} />
    </section>
  );
}

/** The home page's listening sections: jump back in, trending, made for you. */
export function ListeningSections({ favorites }: { favorites: string[] }) {
  const key = favorites.length;
  const { data } = useAsync((signal) => load(favorites, signal), key);
  if (!data) return null;
  return (
    <>
      <Section title="Jump back in" id="jump-back-in" tracks={data.jumpBackIn} />
      <Section title="Trending this week" id="trending" tracks={data.trending} />
      <Section title="Made for you" id="made-for-you" tracks={data.forYou} />
    </>
  );
}
