import { Cover, IconButton, CloseIcon } from '@/components/ui';
import { cn } from '@/lib/cn';
import { formatDuration } from '@/lib/format';
import { selectCurrentQueueIndex, usePlayerStore } from '../stores/player-store';

/** The queue in play order (shuffled order when shuffle is on). */
export function QueuePanel() {
  const open = usePlayerStore((s) => s.queueOpen);
  const setOpen = usePlayerStore((s) => s.setQueueOpen);
  const queue = usePlayerStore((s) => s.queue);
  const order = usePlayerStore((s) => s.order);
  const currentIndex = usePlayerStore(selectCurrentQueueIndex);
  const jumpTo = usePlayerStore((s) => s.jumpTo);
  const remove = usePlayerStore((s) => s.removeFromQueue);

  if (!open) return null;
  return (
    <aside
      aria-label="Queue"
      data-testid="queue-panel"
      className="fixed inset-x-0 bottom-[var(--player-h)] top-0 z-30 flex flex-col border-l border-white/10 bg-surface-1/95 backdrop-blur md:left-auto md:w-96"
    >
      <header className="flex items-center justify-between border-b border-white/10 px-4 py-3">
        <h2 className="font-bold">Queue</h2>
        <IconButton label="Close queue" onClick={() => setOpen(false)} data-testid="queue-close">
          <CloseIcon />
        </IconButton>
      </header>
      {queue.length === 0 ? (
        <p className="p-4 text-sm text-fg-muted">Nothing queued. Play an album to fill the queue.</p>
      ) : (
        <ol className="flex-1 overflow-y-auto p-2" data-testid="queue-list">
          {order.map((queueIndex, pos) => {
            const track = queue[queueIndex];
            if (!track) return null;
            const isCurrent = queueIndex === currentIndex;
            return (
              <li
                key={`${track.id}-${queueIndex}`}
                data-testid="queue-item"
                data-track-id={track.id}
                data-current={isCurrent}
                aria-current={isCurrent ? 'true' : undefined}
                className={cn('group flex items-center gap-3 rounded-lg px-2 py-1.5', isCurrent ? 'bg-white/10' : 'hover:bg-white/5')}
              >
                <button
                  type="button"
                  onClick={() => jumpTo(queueIndex)}
                  data-testid="queue-item-play"
                  aria-label={`Play ${track.title} by ${track.artist}`}
                  className="flex min-w-0 flex-1 items-center gap-3 rounded-md text-left focus-ring"
                >
                  <span className="w-5 text-right text-xs tabular-nums text-fg-subtle">{pos + 1}</span>
                  <Cover src={track.artworkUrl} seed={track.albumId ?? track.id} alt="" className="h-10 w-10 shrink-0" />
                  <span className="min-w-0 flex-1">
                    <span className={cn('block truncate text-sm', isCurrent ? 'font-semibold text-accent' : 'text-fg')}>
                      {track.title}
                    </span>
                    <span className="block truncate text-xs text-fg-muted">{track.artist}</span>
                  </span>
                  <span className="text-xs tabular-nums text-fg-subtle">{formatDuration(track.duration)}</span>
                </button>
                <IconButton
                  size="sm"
                  label={`Remove ${track.title} from queue`}
                  onClick={() => remove(queueIndex)}
                  data-testid="queue-item-remove"
                >
                  <CloseIcon size={16} />
                </IconButton>
              </li>
            );
          })}
        </ol>
      )}
    </aside>
  );
}
