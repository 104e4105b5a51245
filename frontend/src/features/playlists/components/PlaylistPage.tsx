import { useRef, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { TrackList, usePlayback } from '@/components/tracks';
import { Button, PageSpinner, PlayIcon, ShuffleIcon, toast, TrashIcon } from '@/components/ui';
import { ApiError, errorMessage } from '@/lib/api-client';
import { lookupSongs, pruneMissing } from '@/lib/songs';
import { songToTrack } from '@/lib/track';
import { useAsync } from '@/lib/use-async';
import type { Track } from '@/types/track';
import { deletePlaylist, getPlaylist, moveEntry, removeEntry, updatePlaylist, type Entry, type Playlist } from '../api';
import { moved, moveTarget } from '../lib/reorder';
import { usePlaylistsStore } from '../stores/playlists-store';
import { PlaylistCover } from './PlaylistCover';

interface Loaded {
  playlist: Playlist;
  /** Entries whose song still exists, in order, with their tracks. */
  rows: { entry: Entry; track: Track }[];
  /** Songs that exist but cannot be played yet (processing or rejected): listed, not playable. */
  unavailable: Set<string>;
}

/** The row of a song song-svc knows but will not describe yet (docs/media.md: `unavailable`). */
const unavailableTrack = (songId: string): Track => ({ id: songId, title: 'Song not available yet', artist: '', duration: 0 });

/** The playlist and its songs: one call to user-svc, one to song-svc. */
async function load(id: string, signal: AbortSignal): Promise<Loaded> {
  let { playlist, entries } = await getPlaylist(id, signal);
  const { byId, missing, unavailable } = await lookupSongs(
    entries.map((e) => e.songId),
    signal,
  );
  // Songs deleted while user-svc missed the event: the owner's read drops
  // them for good, and the playlist (a new revision) is read again. Only
  // `missing` ids: an `unavailable` song (processing) stays in the playlist.
  if (playlist.owned && ((await pruneMissing(missing, signal))?.entries ?? 0) > 0) {
    ({ playlist, entries } = await getPlaylist(id, signal));
  }
  const rows = entries.flatMap((entry) => {
    const song = byId.get(entry.songId);
    if (song) return [{ entry, track: songToTrack(song) }];
    // A song still processing keeps its place, shown as not playable; a song
    // deleted from the catalogue is not shown.
    return unavailable.has(entry.songId) ? [{ entry, track: unavailableTrack(entry.songId) }] : [];
  });
  return { playlist, rows, unavailable };
}

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export function PlaylistPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const { data, error, loading, reload, setData } = useAsync((signal) => load(id, signal), id);
  const { playQueue } = usePlayback();
  const upsert = usePlaylistsStore((s) => s.upsert);
  const removeFromStore = usePlaylistsStore((s) => s.remove);
  const [renaming, setRenaming] = useState(false);

  // Changes go to the server one at a time, each with the revision the
  // previous one produced (quick keyboard moves would otherwise race each
  // other into 412s); the page shows the result at once.
  const latest = useRef<Playlist | null>(null);
  const chain = useRef<Promise<void>>(Promise.resolve());
  if (data && (latest.current?.id !== data.playlist.id || data.playlist.revision > latest.current.revision)) {
    latest.current = data.playlist;
  }

  /** Queues a change; on a 412 (changed in another tab) the page reloads and says so. */
  const change = (run: (p: Playlist) => Promise<Playlist>, optimistic?: (d: Loaded) => Loaded) => {
    if (optimistic) setData((d) => (d ? optimistic(d) : d));
    chain.current = chain.current.then(async () => {
      const current = latest.current;
      if (!current) return;
      try {
        const playlist = await run(current);
        latest.current = playlist;
        upsert(playlist);
        setData((d) => (d ? { ...d, playlist } : d));
      } catch (e) {
        if (e instanceof ApiError && e.status === 412) toast.info('This playlist changed elsewhere; here it is as it is now.');
        else toast.error(errorMessage(e));
        reload();
      }
    });
  };

  if (loading && !data) return <PageSpinner />;
  if (error || !data) {
    return (
      <p role="alert" className="text-red-300">
        {error instanceof ApiError && error.status === 404 ? 'This playlist does not exist, or is private.' : errorMessage(error)}
      </p>
    );
  }

  const { playlist, rows, unavailable } = data;
  const tracks = rows.map((r) => r.track);
  const playable = tracks.filter((t) => !unavailable.has(t.id));
  const owned = playlist.owned;

  const onMove = (from: number, to: number) => {
    const t = moveTarget(rows, from, to);
    if (!t) return;
    void change(
      (p) => moveEntry(p, t.item.entry.entryId, t.before?.entry.entryId ?? null),
      (d) => ({ ...d, rows: moved(d.rows, from, to) }),
    );
  };

  const onRename = (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const raw = new FormData(e.currentTarget).get('name');
    const name = typeof raw === 'string' ? raw.trim() : '';
    setRenaming(false);
    if (name && name !== playlist.name) void change((p) => updatePlaylist(p, { name }));
  };

  const onDelete = async () => {
    if (!window.confirm(`Delete "${playlist.name}"?`)) return;
    try {
      await deletePlaylist(playlist);
      removeFromStore(playlist.id);
      void navigate('/playlists');
    } catch (e) {
      toast.error(errorMessage(e));
    }
  };

  return (
    <div className="flex flex-col gap-6">
      <header className="flex flex-wrap items-end gap-6">
        <PlaylistCover covers={tracks.map((t) => t.artworkUrl)} seed={playlist.id} className="h-40 w-40 shadow-2xl" />
        <div className="min-w-0">
          <p className="text-xs font-semibold uppercase tracking-widest text-fg-muted">{playlist.shared ? 'Shared playlist' : 'Playlist'}</p>
          {renaming ? (
            <form onSubmit={onRename} className="flex gap-2">
              <input name="name" defaultValue={playlist.name} maxLength={100} autoFocus aria-label="Playlist name" data-testid="playlist-name-input" className="rounded bg-white/10 px-2 py-1 text-2xl font-bold" />
              <Button type="submit" size="sm" data-testid="playlist-name-save">
                Save
              </Button>
            </form>
          ) : (
            <h1 className="truncate text-3xl font-extrabold md:text-5xl" data-testid="playlist-name">
              {playlist.name}
            </h1>
          )}
          <p className="mt-2 text-sm text-fg-muted" data-testid="playlist-count">
            {rows.length} {rows.length === 1 ? 'song' : 'songs'}
          </p>
        </div>
      </header>

      <div className="flex flex-wrap items-center gap-2">
        <Button size="lg" disabled={playable.length === 0} onClick={() => playQueue(playable, 0)} data-testid="playlist-play">
          <PlayIcon size={20} /> Play
        </Button>
        <Button size="lg" variant="secondary" disabled={playable.length === 0} onClick={() => playQueue(shuffled(playable), 0)} data-testid="playlist-shuffle">
          <ShuffleIcon size={20} /> Shuffle
        </Button>
        {owned && (
          <>
            <Button variant="ghost" onClick={() => setRenaming(true)} data-testid="playlist-rename">
              Rename
            </Button>
            <Button
              variant="ghost"
              onClick={() => void change((p) => updatePlaylist(p, { shared: !p.shared }))}
              data-testid="playlist-share"
              aria-pressed={playlist.shared}
            >
              {playlist.shared ? 'Make private' : 'Share'}
            </Button>
            {playlist.shared && (
              <Button
                variant="ghost"
                onClick={() => {
                  void navigator.clipboard?.writeText(window.location.href);
                  toast.success('Link copied');
                }}
              >
                Copy link
              </Button>
            )}
            <Button variant="ghost" onClick={() => void onDelete()} aria-label="Delete playlist" data-testid="playlist-delete">
              <TrashIcon size={18} />
            </Button>
          </>
        )}
      </div>

      {rows.length === 0 ? (
        <p className="text-fg-muted">{owned ? 'Add songs with + on any song.' : 'This playlist is empty.'}</p>
      ) : (
        <TrackList
          tracks={tracks}
          numbering="position"
          showArtwork
          rowKeys={rows.map((r) => r.entry.entryId)}
          unavailableIds={unavailable}
          onMove={owned ? onMove : undefined}
          rowExtras={
            owned
              ? (track, i) => (
                  <button
                    type="button"
                    aria-label={`Remove ${track.title} from this playlist`}
                    data-testid="playlist-remove"
                    className="rounded px-1 text-fg-subtle hover:text-fg focus-ring"
                    onClick={() =>
                      void change(
                        (p) => removeEntry(p, rows[i]?.entry.entryId ?? ''),
                        (d) => ({ ...d, rows: d.rows.filter((_, j) => j !== i) }),
                      )
                    }
                  >
                    <TrashIcon size={16} />
                  </button>
                )
              : undefined
          }
          testId="playlist-tracks"
          rowTestId="playlist-row"
        />
      )}
    </div>
  );
}
