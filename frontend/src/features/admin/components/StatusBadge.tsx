import { cn } from '@/lib/cn';

export type RowStatus = 'pending' | 'uploading' | 'processing' | 'ready' | 'rejected' | 'failed';

const styles: Record<RowStatus, string> = {
  pending: 'bg-white/10 text-fg-muted',
  uploading: 'bg-sky-500/15 text-sky-300',
  processing: 'bg-amber-500/15 text-amber-300',
  ready: 'bg-emerald-500/15 text-emerald-300',
  rejected: 'bg-red-500/15 text-red-300',
  failed: 'bg-red-500/15 text-red-300',
};

const labels: Record<RowStatus, string> = {
  pending: 'Waiting',
  uploading: 'Uploading',
  processing: 'Processing',
  ready: 'Ready',
  rejected: 'Rejected',
  failed: 'Upload failed',
};

/** A song's state: its upload's (pending, uploading, failed) or the server's (processing, ready, rejected: reason). */
export function StatusBadge({ status, reason, testId, extra }: { status: RowStatus; reason?: string | null; testId?: string; extra?: string }) {
  const text = status === 'rejected' && reason ? `rejected: ${reason}` : `${labels[status]}${extra ? ` ${extra}` : ''}`;
  return (
    <span
      className={cn('inline-flex max-w-full items-center gap-1 truncate rounded-full px-2 py-0.5 text-xs font-semibold', styles[status])}
      title={text}
      data-testid={testId}
      data-status={status}
    >
      {status === 'processing' && <span className="h-1.5 w-1.5 animate-pulse rounded-full bg-current" aria-hidden />}
      {text}
    </span>
  );
}
