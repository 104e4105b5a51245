import { useEffect, useId, useRef, useState } from 'react';
import { Button, CloseIcon, IconButton, ProgressBar, toast } from '@/components/ui';
import { errorMessage } from '@/lib/api-client';
import { formatBytes, formatDuration } from '@/lib/format';
import { addSongTask, failureText, worthRetrying } from '../lib/add-song';
import { AUDIO_TYPES, checkFile, contentTypeOf, readAudioDuration, titleFromFileName } from '../lib/files';
import { runPool, type PoolEvent } from '../lib/pool';
import type { AdminAlbum, AdminSong } from '../types';

type Status = 'reading' | 'ready' | 'uploading' | 'saving' | 'done' | 'error';

interface Draft {
  /** Also the pool task's id. */
  key: string;
  file: File;
  title: string;
  artist: string;
  trackNumber: number;
  duration: number | null;
  status: Status;
  progress: number;
  error: string | null;
}

let draftKey = 0;

const statusText: Record<Status, string> = {
  reading: 'Reading…',
  ready: 'Ready',
  uploading: 'Uploading',
  saving: 'Saving',
  done: 'Added',
  error: 'Failed',
};

/**
 * Adds several songs at once: each file gets a row with its own title, track
 * number and progress bar; durations come from the browser's decoder.
 */
export function SongUploader({ album, nextTrackNumber, onAdded }: { album: AdminAlbum; nextTrackNumber: number; onAdded: () => void }) {
  const [drafts, setDrafts] = useState<Draft[]>([]);
  const [running, setRunning] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const inputId = useId();
  // Aborted when the uploader goes away (leaving the tab): no more uploads, no more toasts.
  const abort = useRef<AbortController | null>(null);
  useEffect(() => {
    const ctrl = new AbortController();
    abort.current = ctrl;
    return () => ctrl.abort();
  }, []);

  const patch = (key: string, changes: Partial<Draft>) =>
    setDrafts((ds) => ds.map((d) => (d.key === key ? { ...d, ...changes } : d)));

  const addFiles = (files: FileList | null) => {
    if (!files || files.length === 0) return;
    const accepted: Draft[] = [];
    const pendingNumbers = drafts.filter((d) => d.status !== 'done').map((d) => d.trackNumber);
    let next = Math.max(nextTrackNumber, ...pendingNumbers.map((n) => n + 1));
    for (const file of Array.from(files).sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }))) {
      const problem = checkFile(file, 'song');
      if (problem) {
        toast.error(problem);
        continue;
      }
      accepted.push({
        key: `d${++draftKey}`,
        file,
        title: titleFromFileName(file.name),
        artist: album.artist,
        trackNumber: next++,
        duration: null,
        status: 'reading',
        progress: 0,
        error: null,
      });
    }
    setDrafts((ds) => [...ds, ...accepted]);
    for (const d of accepted) {
      readAudioDuration(d.file)
        .then((duration) => patch(d.key, { duration, status: 'ready' }))
        .catch((err: unknown) => patch(d.key, { status: 'error', error: errorMessage(err) }));
    }
    if (inputRef.current) inputRef.current.value = '';
  };

  const uploadAll = async () => {
    const todo = drafts.filter((d) => d.status === 'ready' || (d.status === 'error' && d.duration !== null));
    const invalid = todo.find((d) => !d.title.trim() || !d.artist.trim() || !(d.trackNumber > 0));
    if (invalid) {
      toast.error(`${invalid.file.name}: title, artist and a positive track number are required.`);
      return;
    }
    const signal = abort.current?.signal;
    if (!signal || signal.aborted) return;
    setRunning(true);
    const onEvent = (e: PoolEvent<AdminSong>) => {
      if (signal.aborted) return;
      const k = e.id;
      if (e.type === 'start') patch(k, { status: 'uploading', progress: 0, error: null });
      else if (e.type === 'progress') patch(k, e.percent >= 100 ? { status: 'saving', progress: 100 } : { progress: e.percent });
      else if (e.type === 'retry') patch(k, { error: `${failureText(e.error)} Trying again…` });
      else if (e.type === 'done') {
        patch(k, { status: 'done', error: null });
        onAdded();
      } else {
        patch(k, { status: 'error', error: failureText(e.error) });
        const name = drafts.find((d) => d.key === k)?.file.name ?? 'A song';
        toast.error(`${name}: ${errorMessage(e.error, 'Upload failed.')}`);
      }
    };
    // Three at a time (shared with the folder import), each retried once by itself.
    await runPool(
      todo.map((d) =>
        addSongTask({
          id: d.key,
          file: d.file,
          contentType: contentTypeOf(d.file),
          title: d.title,
          artist: d.artist,
          albumId: album.id,
          trackNumber: d.trackNumber,
          duration: d.duration,
        }),
      ),
      { concurrency: 3, retries: 1, retryable: worthRetrying, onEvent, signal },
    );
    if (!signal.aborted) setRunning(false);
  };

  const ready = drafts.filter((d) => d.status === 'ready' || (d.status === 'error' && d.duration !== null)).length;
  const editable = (d: Draft) => !running && (d.status === 'ready' || d.status === 'error' || d.status === 'reading');

  return (
    <section aria-labelledby={`${inputId}-h`} className="flex flex-col gap-4 rounded-2xl border border-white/10 bg-surface-1 p-5" data-testid="song-uploader">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 id={`${inputId}-h`} className="text-lg font-bold">
          Add songs to “{album.name}”
        </h2>
        <div className="flex items-center gap-2">
          <label htmlFor={inputId} className="cursor-pointer rounded-full bg-white/10 px-4 py-2 text-sm font-semibold hover:bg-white/15 focus-within:outline-2 focus-within:outline-accent">
            Choose audio files…
            <input
              ref={inputRef}
              id={inputId}
              type="file"
              multiple
              accept={[...AUDIO_TYPES, '.mp3', '.flac', '.ogg', '.m4a', '.wav'].join(',')}
              onChange={(e) => addFiles(e.target.files)}
              className="sr-only"
              data-testid="song-files-input"
            />
          </label>
          {drafts.some((d) => d.status === 'done') && !running && (
            <Button variant="ghost" size="sm" onClick={() => setDrafts((ds) => ds.filter((d) => d.status !== 'done'))}>
              Clear finished
            </Button>
          )}
        </div>
      </div>

      {drafts.length === 0 ? (
        <p className="text-sm text-fg-muted">MP3, FLAC, OGG, M4A or WAV, up to 500 MiB each. Pick several files at once; titles come from the file names.</p>
      ) : (
        <ul className="flex flex-col gap-3" data-testid="upload-drafts">
          {drafts.map((d) => (
            <li key={d.key} className="grid grid-cols-[4rem_1fr_auto] items-start gap-3 rounded-xl bg-surface-2 p-3 sm:grid-cols-[4rem_1fr_1fr_auto]" data-testid="upload-draft" data-status={d.status}>
              <label className="flex flex-col gap-1 text-xs text-fg-muted">
                Track #
                <input
                  type="number"
                  min={1}
                  value={d.trackNumber}
                  disabled={!editable(d)}
                  onChange={(e) => patch(d.key, { trackNumber: Number(e.target.value) })}
                  className="h-9 rounded-md border border-white/10 bg-surface-3 px-2 text-sm text-fg focus-ring"
                  data-testid="draft-track-number"
                />
              </label>
              <label className="flex min-w-0 flex-col gap-1 text-xs text-fg-muted">
                Title
                <input
                  value={d.title}
                  disabled={!editable(d)}
                  onChange={(e) => patch(d.key, { title: e.target.value })}
                  className="h-9 rounded-md border border-white/10 bg-surface-3 px-2 text-sm text-fg focus-ring"
                  data-testid="draft-title"
                />
              </label>
              <label className="col-span-2 row-start-2 flex min-w-0 flex-col gap-1 text-xs text-fg-muted sm:col-span-1 sm:row-start-auto">
                Artist
                <input
                  value={d.artist}
                  disabled={!editable(d)}
                  onChange={(e) => patch(d.key, { artist: e.target.value })}
                  className="h-9 rounded-md border border-white/10 bg-surface-3 px-2 text-sm text-fg focus-ring"
                />
              </label>
              <IconButton
                size="sm"
                label={`Remove ${d.file.name}`}
                disabled={d.status === 'uploading' || d.status === 'saving'}
                onClick={() => setDrafts((ds) => ds.filter((x) => x.key !== d.key))}
                className="col-start-3 row-start-1 mt-5 sm:col-start-4"
              >
                <CloseIcon size={16} />
              </IconButton>
              <div className="col-span-3 flex flex-col gap-1.5 sm:col-span-4">
                <div className="flex flex-wrap justify-between gap-2 text-xs text-fg-muted">
                  <span className="truncate">
                    {d.file.name} · {formatBytes(d.file.size)} · {d.duration === null ? '…' : formatDuration(d.duration)}
                  </span>
                  <span className={d.status === 'error' ? 'text-red-400' : d.status === 'done' ? 'text-accent' : ''} data-testid="draft-status">
                    {statusText[d.status]}
                    {d.status === 'uploading' && ` ${Math.round(d.progress)}%`}
                  </span>
                </div>
                <ProgressBar value={d.progress} label={`Upload progress for ${d.file.name}`} testId="upload-progress" />
                {d.error && <p className="text-xs text-red-400">{d.error}</p>}
              </div>
            </li>
          ))}
        </ul>
      )}

      {(ready > 0 || running) && (
        <div>
          <Button onClick={() => void uploadAll()} loading={running} disabled={ready === 0} data-testid="upload-songs">
            Upload {ready} {ready === 1 ? 'song' : 'songs'}
          </Button>
        </div>
      )}
    </section>
  );
}
