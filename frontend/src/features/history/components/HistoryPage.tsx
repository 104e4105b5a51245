import { TrackList } from '@/components/tracks';
import { PageSpinner } from '@/components/ui';
import { errorMessage } from '@/lib/api-client';
import { lookupSongs } from '@/lib/songs';
import { songToTrack } from '@/lib/track';
import { useAsync } from '@/lib/use-async';
import type { Track } from '@/types/track';
import { recentPlays } from '../api';

async function load(signal: AbortSignal): Promise<{ tracks: Track[]; keys: string[] }> {
  const plays = await recentPlays(signal);
  // A deleted song's plays stay in the history; they are not shown.
  const { byId } = await lookupSongs(
    plays.map((p) => p.songId),
    signal,
  );
  const rows = plays.flatMap((p, i) => {
    const s = byId.get(p.songId);
    return s ? [{ track: songToTrack(s), key: `${p.playedAt}-${i}` }] : [];
  });
  return { tracks: rows.map((r) => r.track), keys: rows.map((r) => r.key) };
}

export function HistoryPage() {
  const { data, error, loading } = useAsync(load);
  return (
    <div className="flex flex-col gap-6">
      <h1 className="text-3xl font-extrabold md:text-4xl">Recently played</h1>
      {loading && !data ? (
        <PageSpinner />
      ) : error ? (
        <p role="alert" className="text-red-300">
          {errorMessage(error)}
        </p>
      ) : data && data.tracks.length > 0 ? (
        <TrackList tracks={data.tracks} rowKeys={data.keys} numbering="position" showArtwork testId="history-list" rowTestId="history-row" />
      ) : (
        <p className="text-fg-muted">Songs you listen to show up here.</p>
      )}
    </div>
  );
}
