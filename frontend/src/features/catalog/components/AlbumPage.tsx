import { useParams } from 'react-router';
import { Button, Cover, PageSpinner, PauseIcon, PlayIcon } from '@/components/ui';
import { errorMessage } from '@/lib/api-client';
import { cn } from '@/lib/cn';
import { formatDuration } from '@/lib/format';
import { useAsync } from '@/lib/use-async';
import { FavoriteButton } from '@/features/favorites';
import { selectCurrentTrack, songToTrack, usePlayerStore } from '@/features/player';
import { getAlbum } from '../api';

export function AlbumPage() {
  const { id = '' } = useParams();
  const { data, error, loading } = useAsync((signal) => getAlbum(id, signal), [id]);
  const current = usePlayerStore(selectCurrentTrack);
  const isPlaying = usePlayerStore((s) => s.isPlaying);
  const playQueue = usePlayerStore((s) => s.playQueue);
  const togglePlay = usePlayerStore((s) => s.togglePlay);

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
  const albumIsCurrent = !!current && songs.some((s) => s.id === current.id);
  const totalSeconds = songs.reduce((sum, s) => sum + (s.duration || 0), 0);
  const year = album.createdAt ? new Date(album.createdAt).getFullYear() : null;

  const playFrom = (index: number) => {
    const song = songs[index];
    if (song && current?.id === song.id) togglePlay();
    else playQueue(tracks, index);
  };

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
        <ol className="flex flex-col" data-testid="track-list">
          {songs.map((song, i) => {
            const isCurrent = current?.id === song.id;
            return (
              <li
                key={song.id}
                data-testid="track-row"
                data-song-id={song.id}
                data-current={isCurrent}
                className={cn('group flex items-center gap-3 rounded-lg px-2 py-2 hover:bg-white/5', isCurrent && 'bg-white/5')}
              >
                <button
                  type="button"
                  onClick={() => playFrom(i)}
                  aria-label={isCurrent && isPlaying ? `Pause ${song.title}` : `Play ${song.title}`}
                  data-testid="track-play"
                  className="flex min-w-0 flex-1 items-center gap-4 rounded-md text-left focus-ring"
                >
                  <span className="w-6 text-right text-sm tabular-nums text-fg-muted">
                    {isCurrent && isPlaying ? <span className="text-accent">♪</span> : (song.trackNumber ?? i + 1)}
                  </span>
                  <span className="min-w-0 flex-1">
                    <span className={cn('block truncate', isCurrent ? 'font-semibold text-accent' : 'text-fg')}>{song.title}</span>
                    <span className="block truncate text-sm text-fg-muted">{song.artist}</span>
                  </span>
                </button>
                <FavoriteButton songId={song.id} title={song.title} />
                <span className="w-12 text-right text-sm tabular-nums text-fg-muted">{formatDuration(song.duration)}</span>
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}
