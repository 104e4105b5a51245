import { useEffect, useId, useState } from 'react';
import { Cover, ProgressBar } from '@/components/ui';
import { COVER_TYPES } from '../lib/files';

interface Props {
  file: File | null;
  onChange: (file: File | null) => void;
  progress: number | null;
  currentUrl?: string | null | undefined;
  seed: string;
  error?: string | undefined;
  label?: string;
  hint?: string;
  /** Test ids of the input and the progress bar (two pickers can share a page). */
  testId?: string;
  progressTestId?: string;
}

/** Cover image chooser with a local preview and an upload progress bar. */
export function CoverPicker({
  file,
  onChange,
  progress,
  currentUrl,
  seed,
  error,
  label = 'Cover image',
  hint = 'JPEG, PNG or WebP, up to 10 MiB.',
  testId = 'cover-input',
  progressTestId = 'cover-progress',
}: Props) {
  const id = useId();
  const [preview, setPreview] = useState<string | null>(null);
  useEffect(() => {
    if (!file) {
      setPreview(null);
      return;
    }
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);

  return (
    <div className="flex items-start gap-4">
      <Cover src={preview ?? currentUrl} seed={seed} alt="" className="h-24 w-24 shrink-0" />
      <div className="flex min-w-0 flex-1 flex-col gap-2">
        <label htmlFor={id} className="text-sm font-medium">
          {label}
        </label>
        <input
          id={id}
          type="file"
          accept={COVER_TYPES.join(',')}
          onChange={(e) => onChange(e.target.files?.[0] ?? null)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : `${id}-hint`}
          data-testid={testId}
          className="text-sm text-fg-muted file:mr-3 file:rounded-full file:border-0 file:bg-white/10 file:px-4 file:py-2 file:text-sm file:font-semibold file:text-fg hover:file:bg-white/15 focus-ring"
        />
        {error ? (
          <p id={`${id}-error`} className="text-sm text-red-400">
            {error}
          </p>
        ) : (
          <p id={`${id}-hint`} className="text-xs text-fg-subtle">
            {hint}
          </p>
        )}
        {progress !== null && <ProgressBar value={progress} label={`Uploading ${file?.name ?? 'cover'}`} testId={progressTestId} />}
      </div>
    </div>
  );
}
