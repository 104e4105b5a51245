import { useId, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { Button, ConfirmModal, EditIcon, IconButton, Input, Modal, PageSpinner, TrashIcon, toast } from '@/components/ui';
import { ApiError, errorMessage } from '@/lib/api-client';
import { formatDuration } from '@/lib/format';
import { useAsync } from '@/lib/use-async';
import { deleteSong, listAlbums, listAlbumSongs, updateSong } from '../api';
import { mergeStatuses, songStatus } from '../lib/status';
import { useSongStatusPolling } from '../lib/use-song-status';
import type { AdminSong } from '../types';
import { SongUploader } from './SongUploader';
import { StatusBadge } from './StatusBadge';

function EditSongModal({ song, onClose, onSaved }: { song: AdminSong; onClose: () => void; onSaved: () => void }) {
  const [title, setTitle] = useState(song.title);
  const [artist, setArtist] = useState(song.artist);
  const [trackNumber, setTrackNumber] = useState(String(song.trackNumber ?? ''));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  const save = async (e?: FormEvent) => {
    e?.preventDefault();
    const errs: Record<string, string> = {};
    if (!title.trim()) errs.title = 'Enter a title.';
    if (!artist.trim()) errs.artist = 'Enter the artist.';
    const n = Number(trackNumber);
    if (trackNumber !== '' && (!Number.isInteger(n) || n < 1)) errs.trackNumber = 'Use a whole number from 1.';
    setErrors(errs);
    if (Object.keys(errs).length) return;

    const changes: Partial<Pick<AdminSong, 'title' | 'artist' | 'trackNumber'>> = {};
    if (title.trim() !== song.title) changes.title = title.trim();
    if (artist.trim() !== song.artist) changes.artist = artist.trim();
    if (trackNumber !== '' && n !== song.trackNumber) changes.trackNumber = n;
    if (Object.keys(changes).length === 0) {
      onClose();
      return;
    }
    setBusy(true);
    try {
      await updateSong(song.id, changes);
      toast.success('Song updated.');
      onSaved();
    } catch (err) {
      if (err instanceof ApiError) setErrors(err.fieldMap());
      toast.error(errorMessage(err, 'Could not update the song.'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open
      title={`Edit “${song.title}”`}
      onClose={onClose}
      footer={
        <>
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button onClick={() => void save()} loading={busy} data-testid="edit-song-save">
            Save
          </Button>
        </>
      }
    >
      <form onSubmit={save} noValidate className="flex flex-col gap-4">
        <Input label="Title" value={title} onChange={(e) => setTitle(e.target.value)} error={errors.title} />
        <Input label="Artist" value={artist} onChange={(e) => setArtist(e.target.value)} error={errors.artist} />
        <Input label="Track number" type="number" min={1} value={trackNumber} onChange={(e) => setTrackNumber(e.target.value)} error={errors.trackNumber} />
        <button type="submit" hidden />
      </form>
    </Modal>
  );
}

export function SongsTab() {
  const [params, setParams] = useSearchParams();
  const albumId = params.get('album') ?? '';
  const selectId = useId();
  const albums = useAsync((signal) => listAlbums(signal));
  const songs = useAsync((signal) => (albumId ? listAlbumSongs(albumId, signal) : Promise.resolve([])), albumId);
  const [editing, setEditing] = useState<AdminSong | null>(null);
  const [deleting, setDeleting] = useState<AdminSong | null>(null);
  const [busy, setBusy] = useState(false);

  const album = albums.data?.find((a) => a.id === albumId) ?? null;
  const sorted = [...(songs.data ?? [])].sort(
    (a, b) => (a.trackNumber ?? Infinity) - (b.trackNumber ?? Infinity) || (a.createdAt ?? '').localeCompare(b.createdAt ?? ''),
  );
  const nextTrackNumber = sorted.reduce((max, s) => Math.max(max, s.trackNumber ?? 0), 0) + 1;
  // Songs the media worker has not read yet: follow them until they settle.
  const processingIds = sorted.flatMap((s) => (songStatus(s) === 'processing' ? [s.id] : []));
  useSongStatusPolling(albumId || null, processingIds, (fresh) => songs.setData((current) => mergeStatuses(current, fresh)));

  const confirmDelete = async () => {
    if (!deleting) return;
    setBusy(true);
    try {
      await deleteSong(deleting.id);
      songs.setData((prev) => prev?.filter((s) => s.id !== deleting.id));
      toast.success(`Deleted “${deleting.title}”.`);
      setDeleting(null);
    } catch (err) {
      toast.error(errorMessage(err, 'Could not delete the song.'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="flex flex-col gap-6">
      <div className="flex max-w-md flex-col gap-1.5">
        <label htmlFor={selectId} className="text-sm font-medium">
          Album
        </label>
        <select
          id={selectId}
          value={albumId}
          onChange={(e) => {
            const next = new URLSearchParams(params);
            if (e.target.value) next.set('album', e.target.value);
            else next.delete('album');
            setParams(next, { replace: true });
          }}
          className="h-11 rounded-lg border border-white/10 bg-surface-2 px-3 text-fg focus-ring"
          data-testid="songs-album-select"
        >
          <option value="">{albums.loading ? 'Loading albums…' : 'Choose an album'}</option>
          {albums.data?.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name} — {a.artist}
            </option>
          ))}
        </select>
        {albums.error != null && <p className="text-sm text-red-400">{errorMessage(albums.error)}</p>}
      </div>

      {album && (
        <>
          <SongUploader album={album} nextTrackNumber={nextTrackNumber} onAdded={songs.reload} />
          <section aria-labelledby="songs-heading" className="flex flex-col gap-3">
            <h2 id="songs-heading" className="text-lg font-bold">
              Songs <span className="text-fg-muted">({sorted.length})</span>
            </h2>
            {songs.loading && !songs.data ? (
              <PageSpinner />
            ) : songs.error ? (
              <p role="alert" className="text-red-300">
                {errorMessage(songs.error)}
              </p>
            ) : sorted.length === 0 ? (
              <p className="text-fg-muted">No songs yet.</p>
            ) : (
              <ol className="flex flex-col divide-y divide-white/5 rounded-2xl border border-white/10 bg-surface-1" data-testid="admin-song-list">
                {sorted.map((s) => (
                  <li key={s.id} className="flex items-center gap-4 px-4 py-2.5" data-testid="admin-song-row" data-song-id={s.id} data-status={songStatus(s)}>
                    <span className="w-6 text-right text-sm tabular-nums text-fg-muted">{s.trackNumber ?? '–'}</span>
                    <div className="min-w-0 flex-1">
                      <p className="truncate font-medium">{s.title}</p>
                      <p className="truncate text-sm text-fg-muted">{s.artist}</p>
                    </div>
                    <span className="max-w-[40%]">
                      <StatusBadge status={songStatus(s)} reason={s.statusReason} testId="admin-song-status" />
                    </span>
                    <span className="text-sm tabular-nums text-fg-muted">{formatDuration(s.duration)}</span>
                    <IconButton label={`Edit ${s.title}`} onClick={() => setEditing(s)} data-testid="admin-song-edit">
                      <EditIcon size={18} />
                    </IconButton>
                    <IconButton label={`Delete ${s.title}`} onClick={() => setDeleting(s)} data-testid="admin-song-delete" className="hover:!text-red-400">
                      <TrashIcon size={18} />
                    </IconButton>
                  </li>
                ))}
              </ol>
            )}
          </section>
        </>
      )}

      {editing && (
        <EditSongModal
          song={editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            songs.reload();
          }}
        />
      )}
      <ConfirmModal
        open={deleting !== null}
        title="Delete song?"
        message={deleting ? `“${deleting.title}” and its audio file will be deleted. This cannot be undone.` : ''}
        busy={busy}
        onConfirm={() => void confirmDelete()}
        onCancel={() => setDeleting(null)}
      />
    </div>
  );
}
