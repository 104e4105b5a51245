import { useState, type FormEvent } from 'react';
import { Button, ConfirmModal, Cover, EditIcon, IconButton, Input, Modal, PageSpinner, TrashIcon, toast } from '@/components/ui';
import { ApiError, errorMessage } from '@/lib/api-client';
import { formatDate } from '@/lib/format';
import { useAsync } from '@/lib/use-async';
import { createAlbum, deleteAlbum, listAlbums, updateAlbum } from '../api';
import { uploadFile } from '../api/upload';
import { checkFile, contentTypeOf } from '../lib/files';
import type { AdminAlbum } from '../types';
import { CoverPicker } from './CoverPicker';

type Errors = Record<string, string>;

function apiFieldErrors(err: unknown): Errors {
  return err instanceof ApiError ? err.fieldMap() : {};
}

function CreateAlbumForm({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [artist, setArtist] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Errors>({});

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const errs: Errors = {};
    if (!name.trim()) errs.name = 'Enter the album name.';
    if (!artist.trim()) errs.artist = 'Enter the artist.';
    if (!file) errs.thumbnailKey = 'Choose a cover image.';
    else {
      const fileError = checkFile(file, 'thumbnail');
      if (fileError) errs.thumbnailKey = fileError;
    }
    setErrors(errs);
    if (Object.keys(errs).length || !file) return;

    setBusy(true);
    setProgress(0);
    try {
      const thumbnailKey = await uploadFile(file, 'thumbnail', contentTypeOf(file), setProgress);
      await createAlbum({ name: name.trim(), artist: artist.trim(), thumbnailKey });
      toast.success(`Album “${name.trim()}” created.`);
      setName('');
      setArtist('');
      setFile(null);
      setProgress(null);
      onCreated();
    } catch (err) {
      setErrors(apiFieldErrors(err));
      toast.error(errorMessage(err, 'Could not create the album.'));
      setProgress(null);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={onSubmit} noValidate className="flex flex-col gap-4 rounded-2xl border border-white/10 bg-surface-1 p-5" data-testid="create-album-form">
      <h2 className="text-lg font-bold">New album</h2>
      <div className="grid gap-4 sm:grid-cols-2">
        <Input label="Album name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} data-testid="album-name" />
        <Input label="Artist" value={artist} onChange={(e) => setArtist(e.target.value)} error={errors.artist} data-testid="album-artist" />
      </div>
      <CoverPicker file={file} onChange={setFile} progress={progress} seed={name || 'new'} error={errors.thumbnailKey} />
      <div>
        <Button type="submit" loading={busy} data-testid="create-album-submit">
          Create album
        </Button>
      </div>
    </form>
  );
}

function EditAlbumModal({ album, onClose, onSaved }: { album: AdminAlbum; onClose: () => void; onSaved: () => void }) {
  const [name, setName] = useState(album.name);
  const [artist, setArtist] = useState(album.artist);
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Errors>({});

  const save = async (e?: FormEvent) => {
    e?.preventDefault();
    const errs: Errors = {};
    if (!name.trim()) errs.name = 'Enter the album name.';
    if (!artist.trim()) errs.artist = 'Enter the artist.';
    if (file) {
      const fileError = checkFile(file, 'thumbnail');
      if (fileError) errs.thumbnailKey = fileError;
    }
    setErrors(errs);
    if (Object.keys(errs).length) return;

    const changes: { name?: string; artist?: string; thumbnailKey?: string } = {};
    if (name.trim() !== album.name) changes.name = name.trim();
    if (artist.trim() !== album.artist) changes.artist = artist.trim();
    setBusy(true);
    try {
      if (file) {
        setProgress(0);
        changes.thumbnailKey = await uploadFile(file, 'thumbnail', contentTypeOf(file), setProgress);
      }
      if (Object.keys(changes).length === 0) {
        onClose();
        return;
      }
      await updateAlbum(album.id, changes);
      toast.success('Album updated.');
      onSaved();
    } catch (err) {
      setErrors(apiFieldErrors(err));
      toast.error(errorMessage(err, 'Could not update the album.'));
      setProgress(null);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open
      title={`Edit “${album.name}”`}
      onClose={onClose}
      footer={
        <>
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button onClick={() => void save()} loading={busy} data-testid="edit-album-save">
            Save
          </Button>
        </>
      }
    >
      <form onSubmit={save} noValidate className="flex flex-col gap-4">
        <Input label="Album name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} />
        <Input label="Artist" value={artist} onChange={(e) => setArtist(e.target.value)} error={errors.artist} />
        <CoverPicker
          file={file}
          onChange={setFile}
          progress={progress}
          currentUrl={album.thumbnailUrl}
          seed={album.id}
          error={errors.thumbnailKey}
          label="Replace cover (optional)"
        />
        <button type="submit" hidden />
      </form>
    </Modal>
  );
}

export function AlbumsTab() {
  const { data: albums, error, loading, reload, setData } = useAsync((signal) => listAlbums(signal));
  const [editing, setEditing] = useState<AdminAlbum | null>(null);
  const [deleting, setDeleting] = useState<AdminAlbum | null>(null);
  const [busy, setBusy] = useState(false);

  const confirmDelete = async () => {
    if (!deleting) return;
    setBusy(true);
    try {
      await deleteAlbum(deleting.id);
      setData((prev) => prev?.filter((a) => a.id !== deleting.id));
      toast.success(`Deleted “${deleting.name}” and its songs.`);
      setDeleting(null);
    } catch (err) {
      toast.error(errorMessage(err, 'Could not delete the album.'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="flex flex-col gap-6">
      <CreateAlbumForm onCreated={reload} />
      <section aria-labelledby="albums-heading" className="flex flex-col gap-3">
        <h2 id="albums-heading" className="text-lg font-bold">
          Albums {albums && <span className="text-fg-muted">({albums.length})</span>}
        </h2>
        {loading && !albums ? (
          <PageSpinner />
        ) : error ? (
          <p role="alert" className="text-red-300">
            {errorMessage(error)}
          </p>
        ) : albums && albums.length ? (
          <ul className="flex flex-col divide-y divide-white/5 rounded-2xl border border-white/10 bg-surface-1" data-testid="admin-album-list">
            {albums.map((a) => (
              <li key={a.id} className="flex items-center gap-4 px-4 py-3" data-testid="admin-album-row" data-album-id={a.id}>
                <Cover src={a.thumbnailUrl} seed={a.id} alt="" className="h-12 w-12 shrink-0" />
                <div className="min-w-0 flex-1">
                  <p className="truncate font-semibold">{a.name}</p>
                  <p className="truncate text-sm text-fg-muted">
                    {a.artist} · {formatDate(a.createdAt)}
                  </p>
                </div>
                <IconButton label={`Edit ${a.name}`} onClick={() => setEditing(a)} data-testid="admin-album-edit">
                  <EditIcon size={18} />
                </IconButton>
                <IconButton label={`Delete ${a.name}`} onClick={() => setDeleting(a)} data-testid="admin-album-delete" className="hover:!text-red-400">
                  <TrashIcon size={18} />
                </IconButton>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-fg-muted">No albums yet.</p>
        )}
      </section>

      {editing && (
        <EditAlbumModal
          album={editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            reload();
          }}
        />
      )}
      <ConfirmModal
        open={deleting !== null}
        title="Delete album?"
        message={deleting ? `“${deleting.name}” by ${deleting.artist} and all of its songs will be deleted, with their files. This cannot be undone.` : ''}
        busy={busy}
        onConfirm={() => void confirmDelete()}
        onCancel={() => setDeleting(null)}
      />
    </div>
  );
}
