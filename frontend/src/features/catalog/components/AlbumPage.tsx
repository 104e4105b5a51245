import { useParams } from 'react-router';
import { TrackList, usePlayback } from '@/components/tracks';
import { Button, Cover, PageSpinner, PauseIcon, PlayIcon } from '@/components/ui';
import { errorMessage } from '@/lib/api-client';
import { formatDuration } from '@/lib/format';
import { songToTrack } from '@/lib/track';
import { useAsync } from '@/lib/use-async';
import { getAlbum } from '../api';

export function AlbumPage() {
  const { id = '' } = useParams();
  const { data, error, loading } = useAsync((signal) => getAlbum(id, signal), id);
  const { currentTrackId, isPlaying, playQueue, togglePlay } = usePlayback();

  if (loading && !data) return <PageSpinner />;
  if (error || !data) {
    return (
      <p role="alert" className="py-10 text-red-300">
        {errorMessage(error, 'Album not found.')}
      </p>
    );
  }

  const { album, songs } = data;
  const tracks = songs.map((s) => songToTrack(s, album));
  const albumIsCurrent = currentTrackId !== null && songs.some((s) => s.id === currentTrackId);
  const totalSeconds = songs.reduce((sum, s) => sum + (s.duration || 0), 0);
  const year = album.createdAt ? new Date(album.createdAt).getFullYear() : null;

  return (
    <div className="flex flex-col gap-8">
      <header className="flex flex-col gap-6 md:flex-row md:items-end">
        <Cover src={album.thumbnailUrl} seed={album.id} alt={`Cover of ${album.name}`} rounded="xl" className="w-48 shadow-2xl shadow-black/60 md:w-56" />
        <div className="flex min-w-0 flex-col gap-2">
          <p className="text-xs font-semibold uppercase tracking-widest text-fg-muted">Album</p>
          <h1 className="text-3xl font-extrabold tracking-tight break-words md:text-5xl" data-testid="album-title">
            {album.name}
          </h1>
          <p className="text-sm text-fg-muted">
            <span className="font-semibold text-fg">{album.artist}</span>
            {year && ` · ${year}`} · {songs.length} {songs.length === 1 ? 'song' : 'songs'} · {formatDuration(totalSeconds)}
          </p>
        </div>
      </header>

      <div className="flex items-center gap-4">
        <Button
          size="lg"
          className="h-14 w-14 !px-0"
          aria-label={albumIsCurrent && isPlaying ? 'Pause' : 'Play album'}
          disabled={songs.length === 0}
          onClick={() => (albumIsCurrent ? togglePlay() : playQueue(tracks, 0))}
          data-testid="album-play"
        >
          {albumIsCurrent && isPlaying ? <PauseIcon size={26} /> : <PlayIcon size={26} />}
        </Button>
      </div>

      {songs.length === 0 ? (
        <p className="text-fg-muted">This album has no songs yet.</p>
      ) : (
        <TrackList tracks={tracks} numbering="album" />
      )}
    </div>
  );
}
