import { useEffect, useId, useMemo, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { Link } from 'react-router';
import { Button, ChevronUpIcon, CloseIcon, IconButton, Input, ProgressBar, Spinner, toast } from '@/components/ui';
import { errorMessage } from '@/lib/api-client';
import { cn } from '@/lib/cn';
import { formatBytes, formatDuration } from '@/lib/format';
import { createAlbum } from '../api';
import { uploadFile } from '../api/upload';
import { addSongTask, failureText, worthRetrying } from '../lib/add-song';
import { chooseCover, embeddedCoverFile, folderCover } from '../lib/cover';
import { checkFile, contentTypeOf, readAudioDuration } from '../lib/files';
import { pickedFromDataTransfer, pickedFromFileList, sortFolder, type PickedFile } from '../lib/folder';
import { whileRunning } from '../lib/phase';
import { runPool, type PoolEvent, type PoolTask } from '../lib/pool';
import { songStatus } from '../lib/status';
import { buildFolderForm, readTags, type FolderSong } from '../lib/tags';
import { useSongStatusPolling } from '../lib/use-song-status';
import type { AdminSong } from '../types';
import { CoverPicker } from './CoverPicker';
import { StatusBadge, type RowStatus } from './StatusBadge';

interface Row extends FolderSong {
  key: string;
  status: RowStatus;
  progress: number;
  error: string | null;
  songId: string | null;
  reason: string | null;
}

type Phase = 'empty' | 'reading' | 'form' | 'running' | 'finished';

/** Songs uploaded at once. */
const CONCURRENCY = 3;

let rowSeq = 0;

/**
 * "Add album from files": pick or drop a folder, check what its tags say,
 * then create the album (cover from the admin, else the folder's image, else
 * the first embedded picture) and upload its songs three at a time; each row
 * then follows the media worker's verdict.
 */
export function FolderImport() {
  const headingId = useId();
  const inputRef = useRef<HTMLInputElement | null>(null);
  const [phase, setPhase] = useState<Phase>('empty');
  const [dragging, setDragging] = useState(false);
  const [rows, setRows] = useState<Row[]>([]);
  const [albumName, setAlbumName] = useState('');
  const [albumArtist, setAlbumArtist] = useState('');
  const [chosen, setChosen] = useState<File | null>(null);
  const [folderImage, setFolderImage] = useState<PickedFile | null>(null);
  const [embedded, setEmbedded] = useState<{ file: File; from: string } | null>(null);
  const [skipped, setSkipped] = useState<string[]>([]);
  const [coverProgress, setCoverProgress] = useState<number | null>(null);
  const [albumId, setAlbumId] = useState<string | null>(null);
  const [createdName, setCreatedName] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const tasks = useRef(new Map<string, PoolTask<AdminSong>>());
  const abort = useRef<AbortController | null>(null);
  const generation = useRef(0);

  useEffect(() => {
    const ctrl = new AbortController();
    abort.current = ctrl;
    return () => ctrl.abort();
  }, []);

  const cover = chooseCover({ chosen, folder: folderImage, embedded });
  const [autoPreview, setAutoPreview] = useState<string | null>(null);
  const autoFile = cover && cover.source !== 'chosen' ? cover.file : null;
  useEffect(() => {
    if (!autoFile) {
      setAutoPreview(null);
      return;
    }
    const url = URL.createObjectURL(autoFile);
    setAutoPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [autoFile]);

  const patch = (key: string, changes: Partial<Row>) => setRows((rs) => rs.map((r) => (r.key === key ? { ...r, ...changes } : r)));

  const setInput = (el: HTMLInputElement | null) => {
    inputRef.current = el;
    // Not in React's typings; the attribute makes the picker choose a folder.
    if (el) {
      el.setAttribute('webkitdirectory', '');
      el.setAttribute('directory', '');
    }
  };

  const reset = () => {
    generation.current++;
    tasks.current.clear();
    setPhase('empty');
    setRows([]);
    setAlbumName('');
    setAlbumArtist('');
    setChosen(null);
    setFolderImage(null);
    setEmbedded(null);
    setSkipped([]);
    setCoverProgress(null);
    setAlbumId(null);
    setErrors({});
  };

  const load = async (picked: PickedFile[]) => {
    const gen = ++generation.current;
    const contents = sortFolder(picked);
    if (contents.audio.length === 0) {
      toast.error(picked.length ? 'No MP3, FLAC, OGG, M4A or WAV files in what you picked.' : 'Nothing to import.');
      return;
    }
    setPhase('reading');
    tasks.current.clear();
    const read = await runPool(
      contents.audio.map((a) => ({ id: a.path, run: () => readTags(a.file) })),
      { concurrency: 4, retries: 0 },
    );
    const tagged = contents.audio.map((a, i) => {
      const res = read[i];
      return { ...a, tags: res?.ok ? res.result : null };
    });
    if (gen !== generation.current) return;
    const form = buildFolderForm(tagged, contents.folderName);
    setRows(form.songs.map((s) => ({ ...s, key: `r${++rowSeq}`, status: 'pending', progress: 0, error: null, songId: null, reason: null })));
    setAlbumName(form.albumName);
    setAlbumArtist(form.albumArtist);
    setFolderImage(folderCover(contents.images));
    const embeddedFile = embeddedCoverFile(form.embedded);
    setEmbedded(embeddedFile && form.embedded ? { file: embeddedFile, from: form.embedded.from } : null);
    setChosen(null);
    setSkipped(contents.skipped);
    setErrors({});
    setPhase('form');
  };

  const pick = (picked: Promise<PickedFile[]>) => {
    picked.then(load).catch((err: unknown) => {
      toast.error(errorMessage(err, 'Could not read that folder.'));
      setPhase('empty');
    });
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (phase === 'reading' || phase === 'running' || albumId) return;
    pick(pickedFromDataTransfer(e.dataTransfer));
  };

  const move = (index: number, delta: number) =>
    setRows((rs) => {
      const j = index + delta;
      const a = rs[index];
      const b = rs[j];
      if (!a || !b) return rs;
      const next = [...rs];
      next[index] = b;
      next[j] = a;
      return next;
    });

  const onEvent = (e: PoolEvent<AdminSong>) => {
    switch (e.type) {
      case 'start':
        patch(e.id, { status: 'uploading', progress: 0, error: null });
        break;
      case 'progress':
        patch(e.id, { progress: e.percent });
        break;
      case 'retry':
        patch(e.id, { error: `${failureText(e.error)} Trying again…` });
        break;
      case 'done':
        patch(e.id, { status: songStatus(e.result), songId: e.result.id || null, reason: e.result.statusReason ?? null, progress: 100, error: null });
        break;
      case 'failed':
        patch(e.id, { status: 'failed', error: failureText(e.error) });
        break;
    }
  };

  const uploadRows = async (targets: Row[], id: string, artist: string) => {
    const signal = abort.current?.signal;
    // The server measures the real duration; the create request still needs
    // one: the tags', else the browser decoder's, else 0.
    const durations = await Promise.all(
      targets.map((r) => (r.duration !== null || tasks.current.has(r.key) ? Promise.resolve(r.duration) : readAudioDuration(r.file, 5000).catch(() => null))),
    );
    const list = targets.map((r, i) => {
      let task = tasks.current.get(r.key);
      if (!task) {
        const trackNumber = rows.findIndex((x) => x.key === r.key) + 1;
        const duration = durations[i] ?? null;
        task = addSongTask({ id: r.key, file: r.file, contentType: r.contentType, title: r.title, artist: r.artist.trim() || artist, albumId: id, trackNumber, duration });
        tasks.current.set(r.key, task);
      }
      return task;
    });
    const results = await runPool(list, { concurrency: CONCURRENCY, retries: 1, retryable: worthRetrying, onEvent, ...(signal ? { signal } : {}) });
    if (signal?.aborted) return;
    const failed = results.filter((r) => !r.ok).length;
    if (failed) toast.error(`${failed} of ${results.length} ${results.length === 1 ? 'song' : 'songs'} could not be added: retry them below.`);
  };

  const start = async (e?: FormEvent) => {
    e?.preventDefault();
    const errs: Record<string, string> = {};
    if (!albumName.trim()) errs.name = 'Enter the album name.';
    if (!albumArtist.trim()) errs.artist = 'Enter the artist.';
    if (!cover) errs.cover = 'No cover found in the folder or the files: choose one.';
    else {
      const problem = checkFile(cover.file, 'thumbnail');
      if (problem) errs.cover = problem;
    }
    const untitled = rows.find((r) => !r.title.trim());
    if (untitled) errs.songs = `${untitled.path}: enter a title.`;
    if (rows.length === 0) errs.songs = 'No songs to add.';
    setErrors(errs);
    if (Object.keys(errs).length || !cover) return;

    setPhase('running');
    const name = albumName.trim();
    const artist = albumArtist.trim();
    let id = albumId;
    try {
      if (!id) {
        setCoverProgress(0);
        const thumbnailKey = await uploadFile(cover.file, 'thumbnail', contentTypeOf(cover.file), setCoverProgress, abort.current?.signal);
        const answer = await createAlbum({ name, artist, thumbnailKey });
        id = answer.album?.id ?? answer.id ?? null;
        if (!id) throw new Error('admin-svc did not say which album it created.');
        setAlbumId(id);
        setCreatedName(name);
      }
    } catch (err) {
      if (abort.current?.signal.aborted) return;
      setCoverProgress(null);
      toast.error(errorMessage(err, 'Could not create the album.'));
      setPhase('form');
      return;
    }
    await uploadRows(
      rows.filter((r) => r.status === 'pending' || r.status === 'failed'),
      id,
      artist,
    );
    if (!abort.current?.signal.aborted) setPhase('finished');
  };

  const retry = (row: Row) => {
    if (!albumId) return;
    void whileRunning(setPhase, () => uploadRows([row], albumId, albumArtist.trim()), () => abort.current?.signal.aborted ?? false);
  };

  const processingIds = rows.flatMap((r) => (r.status === 'processing' && r.songId ? [r.songId] : []));
  useSongStatusPolling(albumId, processingIds, (songs) => {
    const byId = new Map(songs.map((s) => [s.id, s]));
    setRows((rs) =>
      rs.map((r) => {
        const s = r.songId ? byId.get(r.songId) : undefined;
        if (!s || r.status !== 'processing') return r;
        return { ...r, status: songStatus(s), reason: s.statusReason ?? null };
      }),
    );
  });

  const counts = useMemo(() => {
    const c: Partial<Record<RowStatus, number>> = {};
    for (const r of rows) c[r.status] = (c[r.status] ?? 0) + 1;
    return c;
  }, [rows]);

  const locked = phase === 'running' || albumId !== null;
  const coverLabel =
    cover?.source === 'folder' ? `Cover: ${cover.from} from the folder` : cover?.source === 'embedded' ? `Cover: the picture embedded in ${cover.from}` : 'Cover image';

  return (
    <section aria-labelledby={headingId} className="flex flex-col gap-4 rounded-2xl border border-white/10 bg-surface-1 p-5" data-testid="folder-import">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 id={headingId} className="text-lg font-bold">
          Add album from files
        </h2>
        {phase !== 'empty' && phase !== 'reading' && phase !== 'running' && (
          <Button variant="ghost" size="sm" onClick={reset} data-testid="folder-reset">
            {albumId ? 'Import another folder' : 'Start over'}
          </Button>
        )}
      </div>

      {!locked && (
        <div
          onDragOver={(e) => {
            e.preventDefault();
            e.dataTransfer.dropEffect = 'copy';
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
          className={cn(
            'flex flex-col items-center justify-center gap-3 rounded-xl border-2 border-dashed px-4 py-8 text-center transition-colors',
            dragging ? 'border-accent bg-accent/10' : 'border-white/15',
          )}
          data-testid="folder-drop"
        >
          {phase === 'reading' ? (
            <p className="flex items-center gap-2 text-sm text-fg-muted" role="status">
              <Spinner size={16} label="" /> Reading tags…
            </p>
          ) : (
            <>
              <p className="text-sm text-fg-muted">Drop an album folder (or its files) here, or</p>
              <label className="cursor-pointer rounded-full bg-white/10 px-4 py-2 text-sm font-semibold hover:bg-white/15 focus-within:outline-2 focus-within:outline-accent">
                Choose a folder…
                <input
                  ref={setInput}
                  type="file"
                  multiple
                  className="sr-only"
                  onChange={(e) => {
                    const files = e.target.files ? pickedFromFileList(e.target.files) : [];
                    e.target.value = '';
                    pick(Promise.resolve(files));
                  }}
                  data-testid="folder-input"
                />
              </label>
              <p className="text-xs text-fg-subtle">
                MP3, FLAC, OGG, M4A and WAV files are added; cover.jpg, folder.jpg or front.* becomes the cover, else the first embedded picture.
              </p>
            </>
          )}
        </div>
      )}

      {rows.length > 0 && (
        <form onSubmit={(e) => void start(e)} noValidate className="flex flex-col gap-4">
          <div className="grid gap-4 sm:grid-cols-2">
            <Input
              label="Album name"
              value={albumName}
              disabled={locked}
              onChange={(e) => setAlbumName(e.target.value)}
              error={errors.name}
              data-testid="folder-album-name"
            />
            <Input
              label="Album artist"
              value={albumArtist}
              disabled={locked}
              onChange={(e) => setAlbumArtist(e.target.value)}
              error={errors.artist}
              data-testid="folder-album-artist"
            />
          </div>
          {locked ? (
            coverProgress !== null && coverProgress < 100 && <ProgressBar value={coverProgress} label="Uploading the cover" testId="folder-cover-progress" />
          ) : (
            <CoverPicker
              file={chosen}
              onChange={setChosen}
              progress={null}
              currentUrl={autoPreview}
              seed={albumName || 'folder'}
              error={errors.cover}
              label={coverLabel}
              hint={cover && cover.source !== 'chosen' ? 'Choose an image to use another cover.' : 'JPEG, PNG or WebP, up to 10 MiB.'}
              testId="folder-cover-input"
              progressTestId="folder-cover-progress"
            />
          )}
          {skipped.length > 0 && (
            <p className="text-xs text-fg-subtle" data-testid="folder-skipped">
              Not added ({skipped.length}): {skipped.slice(0, 5).join(', ')}
              {skipped.length > 5 ? ', …' : ''}
            </p>
          )}

          <ol className="flex flex-col gap-2" data-testid="folder-songs">
            {rows.map((r, i) => (
              <li
                key={r.key}
                className="grid grid-cols-[2rem_1fr_auto] items-center gap-x-3 gap-y-1.5 rounded-xl bg-surface-2 p-3"
                data-testid="folder-song-row"
                data-status={r.status}
                data-song-id={r.songId ?? undefined}
              >
                <span className="text-right text-sm tabular-nums text-fg-muted" data-testid="folder-song-track">
                  {i + 1}
                </span>
                <label className="flex min-w-0 flex-col gap-0.5 text-xs text-fg-muted">
                  <span className="sr-only">Title of {r.path}</span>
                  <input
                    value={r.title}
                    disabled={locked}
                    onChange={(e) => patch(r.key, { title: e.target.value })}
                    className="h-9 rounded-md border border-white/10 bg-surface-3 px-2 text-sm text-fg focus-ring disabled:opacity-80"
                    data-testid="folder-song-title"
                  />
                </label>
                <div className="flex items-center gap-1">
                  {!locked ? (
                    <>
                      <IconButton size="sm" label={`Move ${r.title} up`} disabled={i === 0} onClick={() => move(i, -1)} data-testid="folder-song-up">
                        <ChevronUpIcon size={16} />
                      </IconButton>
                      <IconButton size="sm" label={`Move ${r.title} down`} disabled={i === rows.length - 1} onClick={() => move(i, 1)} data-testid="folder-song-down">
                        <ChevronUpIcon size={16} className="rotate-180" />
                      </IconButton>
                      <IconButton size="sm" label={`Leave out ${r.path}`} onClick={() => setRows((rs) => rs.filter((x) => x.key !== r.key))} data-testid="folder-song-remove">
                        <CloseIcon size={16} />
                      </IconButton>
                    </>
                  ) : (
                    <StatusBadge
                      status={r.status}
                      reason={r.reason}
                      testId="folder-song-status"
                      {...(r.status === 'uploading' ? { extra: `${Math.round(r.progress)}%` } : {})}
                    />
                  )}
                </div>
                <div className="col-span-2 col-start-2 flex flex-col gap-1">
                  <p className="truncate text-xs text-fg-subtle">
                    {r.path} · {formatBytes(r.file.size)}
                    {r.duration !== null && ` · ${formatDuration(r.duration)}`}
                    {r.artist && r.artist !== albumArtist && ` · ${r.artist}`}
                    {r.tagDisc !== null && ` · disc ${r.tagDisc}`}
                    {r.tagTrack !== null && ` · track ${r.tagTrack}`}
                  </p>
                  {r.status === 'uploading' && (
                    <ProgressBar value={r.progress} label={`Upload progress for ${r.path}`} testId="folder-song-progress" />
                  )}
                  {r.error && (
                    <p className="flex flex-wrap items-center gap-2 text-xs text-red-400" data-testid="folder-song-error">
                      {r.error}
                      {r.status === 'failed' && phase !== 'running' && (
                        <Button size="sm" variant="secondary" onClick={() => retry(r)} data-testid="folder-song-retry">
                          Retry
                        </Button>
                      )}
                    </p>
                  )}
                </div>
              </li>
            ))}
          </ol>
          {errors.songs && <p className="text-sm text-red-400">{errors.songs}</p>}

          {!albumId ? (
            <div>
              <Button type="submit" loading={phase === 'running'} disabled={rows.length === 0} data-testid="folder-start">
                Create album with {rows.length} {rows.length === 1 ? 'song' : 'songs'}
              </Button>
            </div>
          ) : (
            <p className="text-sm text-fg-muted" role="status" data-testid="folder-summary" data-album-id={albumId}>
              “{createdName}”: {counts.ready ?? 0} ready
              {counts.processing ? `, ${counts.processing} processing` : ''}
              {counts.uploading ? `, ${counts.uploading} uploading` : ''}
              {counts.pending ? `, ${counts.pending} waiting` : ''}
              {counts.rejected ? `, ${counts.rejected} rejected` : ''}
              {counts.failed ? `, ${counts.failed} failed` : ''}.{' '}
              <Link to={`/admin?tab=songs&album=${encodeURIComponent(albumId)}`} className="font-semibold text-accent hover:underline">
                Open its songs
              </Link>
            </p>
          )}
        </form>
      )}
    </section>
  );
}
