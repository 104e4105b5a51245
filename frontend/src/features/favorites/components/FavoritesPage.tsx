import { Button, Cover, PageSpinner, PlayIcon } from '@/components/ui';
import { errorMessage } from '@/lib/api-client';
import { cn } from '@/lib/cn';
import { formatDuration } from '@/lib/format';
import { useAsync } from '@/lib/use-async';
import { selectCurrentTrack, songToTrack, usePlayerStore } from '@/features/player';
import type { Song } from '@/types/catalog';
import { getSong, listFavorites } from '../api';
import { useFavoritesStore } from '../stores/favorites-store';
import { FavoriteButton } from './FavoriteButton';

/** Favourites, newest first, with each song resolved from song-svc. */
async function loadFavoriteSongs(signal: AbortSignal): Promise<Song[]> {
  const favs = await listFavorites(signal);
  const sorted = [...favs].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  const results = await Promise.allSettled(sorted.map((f) => getSong(f.songId, signal)));
  // Songs deleted from the catalogue since being favourited are skipped.
  return results.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));
}

export function FavoritesPage() {
  const { data: loadedSongs, error, loading } = useAsync(loadFavoriteSongs, []);
  const favoriteIds = useFavoritesStore((s) => s.items);
  const storeLoaded = useFavoritesStore((s) => s.loaded);
  // Un-hearting a song here removes its row straight away.
  const songs = loadedSongs?.filter((s) => !storeLoaded || favoriteIds.has(s.id));
  const current = usePlayerStore(selectCurrentTrack);
  const playQueue = usePlayerStore((s) => s.playQueue);
  const tracks = (songs ?? []).map((s) => songToTrack(s));

  return (
    <div className="flex flex-col gap-6">
      <header className="flex flex-wrap items-end gap-6">
        <div className="flex h-32 w-32 items-center justify-center rounded-xl bg-gradient-to-br from-indigo-500 via-fuchsia-500 to-accent shadow-2xl">
          <svg viewBox="0 0 24 24" className="h-12 w-12 text-white" aria-hidden="true">
            <path fill="currentColor" d="M12 20.5s-7.5-4.6-9.3-9.1C1.5 8.3 3.4 5 6.7 5c2 0 3.4 1.1 4.3 2.5h2C13.9 6.1 15.3 5 17.3 5c3.3 0 5.2 3.3 4 6.4-1.8 4.5-9.3 9.1-9.3 9.1Z" />
          </svg>
        </div>
        <div>
          <p className="text-xs font-semibold uppercase tracking-widest text-fg-muted">Playlist</p>
          <h1 className="text-3xl font-extrabold md:text-5xl">Favourites</h1>
          <p className="mt-2 text-sm text-fg-muted">{songs ? `${songs.length} ${songs.length === 1 ? 'song' : 'songs'}` : ''}</p>
        </div>
      </header>

      {loading && !songs ? (
        <PageSpinner />
      ) : error ? (
        <p role="alert" className="text-red-300">
          {errorMessage(error)}
        </p>
      ) : songs && songs.length > 0 ? (
        <>
          <div>
            <Button size="lg" onClick={() => playQueue(tracks, 0)} data-testid="favorites-play">
              <PlayIcon size={20} /> Play
            </Button>
          </div>
          <ol className="flex flex-col" data-testid="favorites-list">
            {songs.map((song, i) => {
              const isCurrent = current?.id === song.id;
              return (
                <li key={song.id} data-testid="favorite-row" data-song-id={song.id} className="flex items-center gap-3 rounded-lg px-2 py-2 hover:bg-white/5">
                  <button
                    type="button"
                    onClick={() => playQueue(tracks, i)}
                    aria-label={`Play ${song.title}`}
                    className="flex min-w-0 flex-1 items-center gap-3 rounded-md text-left focus-ring"
                  >
                    <span className="w-6 text-right text-sm tabular-nums text-fg-muted">{i + 1}</span>
                    <Cover src={song.imageSrc} seed={song.albumId ?? song.id} alt="" className="h-10 w-10 shrink-0" />
                    <span className="min-w-0 flex-1">
                      <span className={cn('block truncate', isCurrent ? 'font-semibold text-accent' : '')}>{song.title}</span>
                      <span className="block truncate text-sm text-fg-muted">{song.artist}</span>
                    </span>
                  </button>
                  <FavoriteButton songId={song.id} title={song.title} />
                  <span className="w-12 text-right text-sm tabular-nums text-fg-muted">{formatDuration(song.duration)}</span>
                </li>
              );
            })}
          </ol>
        </>
      ) : (
        <p className="text-fg-muted">Songs you like show up here. Tap the heart next to any song.</p>
      )}
    </div>
  );
}
