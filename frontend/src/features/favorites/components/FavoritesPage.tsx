import { TrackList, usePlayback } from '@/components/tracks';
import { Button, PageSpinner, PlayIcon } from '@/components/ui';
import { errorMessage } from '@/lib/api-client';
import { lookupSongs, pruneMissing } from '@/lib/songs';
import { songToTrack } from '@/lib/track';
import { useAsync } from '@/lib/use-async';
import type { Song } from '@/types/catalog';
import { listFavorites } from '../api';
import { useFavoritesStore } from '../stores/favorites-store';

/** Favourites, newest first, with their songs from one song-svc lookup. */
async function loadFavoriteSongs(signal: AbortSignal): Promise<Song[]> {
  const favs = await listFavorites(signal);
  const sorted = [...favs].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  const { byId, missing } = await lookupSongs(
    sorted.map((f) => f.songId),
    signal,
  );
  // Songs deleted from the catalogue since being favourited are skipped,
  // and dropped for good if user-svc missed their deletion.
  void pruneMissing(missing, signal).then((pruned) => {
    if (pruned && pruned.favorites > 0) useFavoritesStore.getState().forget(missing);
  });
  return sorted.flatMap((f) => byId.get(f.songId) ?? []);
}

export function FavoritesPage() {
  const { data: loadedSongs, error, loading } = useAsync(loadFavoriteSongs);
  const favoriteIds = useFavoritesStore((s) => s.items);
  const storeLoaded = useFavoritesStore((s) => s.loaded);
  // Un-hearting a song here removes its row straight away.
  const songs = loadedSongs?.filter((s) => !storeLoaded || favoriteIds.has(s.id));
  const { playQueue } = usePlayback();
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
          <TrackList tracks={tracks} numbering="position" showArtwork testId="favorites-list" rowTestId="favorite-row" />
        </>
      ) : (
        <p className="text-fg-muted">Songs you like show up here. Tap the heart next to any song.</p>
      )}
    </div>
  );
}
