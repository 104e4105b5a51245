import { useState, type ReactNode } from 'react';
import { ChevronUpIcon, Cover } from '@/components/ui';
import { cn } from '@/lib/cn';
import { formatDuration } from '@/lib/format';
import type { Track } from '@/types/track';
import { usePlayback } from './playback';

export interface TrackListProps {
  tracks: Track[];
  /** `album`: the track's number on its album; `position`: 1, 2, 3… in this list. */
  numbering?: 'album' | 'position';
  /** Show each track's artwork (lists that mix albums). */
  showArtwork?: boolean;
  /** data-testid of the list (`track-list`) and of each row (`track-row`). */
  testId?: string;
  rowTestId?: string;
  /** Keys of the rows, when a track may be listed twice (playlist entries). */
  rowKeys?: string[];
  /**
   * Makes the list reorderable: rows get a handle that can be dragged, or
   * focused and moved with Alt+ArrowUp / Alt+ArrowDown (or its buttons).
   */
  onMove?: (from: number, to: number) => void;
  /** Extra controls at the end of a row (e.g. remove from this playlist). */
  rowExtras?: (track: Track, index: number) => ReactNode;
  /**
   * Ids of songs that exist but cannot be played now (still processing, or
   * rejected): their rows stay, marked "Processing" with play disabled, and
   * playing the list skips them.
   */
  unavailableIds?: ReadonlySet<string>;
}

/** The queue choosing `tracks[index]` plays: the list without its unavailable tracks, from that one. */
export function playableFrom(tracks: Track[], index: number, unavailableIds?: ReadonlySet<string>): { tracks: Track[]; index: number } {
  if (!unavailableIds || unavailableIds.size === 0) return { tracks, index };
  const ok = (t: Track) => !unavailableIds.has(t.id);
  return { tracks: tracks.filter(ok), index: tracks.slice(0, index).filter(ok).length };
}

/**
 * An ordered list of tracks. Choosing a track plays the list from there;
 * choosing the current track pauses or resumes it. Rows carry
 * `data-song-id`, `data-current` and `data-unavailable`; the play button is
 * `track-play`.
 */
export function TrackList({
  tracks,
  numbering = 'album',
  showArtwork = false,
  testId = 'track-list',
  rowTestId = 'track-row',
  rowKeys,
  onMove,
  rowExtras,
  unavailableIds,
}: TrackListProps) {
  const { currentTrackId, isPlaying, playQueue, togglePlay, trackActions } = usePlayback();
  const [dragging, setDragging] = useState<number | null>(null);
  const [over, setOver] = useState<number | null>(null);
  const move = (from: number, to: number) => {
    if (onMove && to >= 0 && to < tracks.length && from !== to) onMove(from, to);
  };
  const isPlayable = (track: Track) => !unavailableIds?.has(track.id);
  const playFrom = (index: number) => {
    const q = playableFrom(tracks, index, unavailableIds);
    playQueue(q.tracks, q.index);
  };

  return (
    <ol className="flex flex-col" data-testid={testId}>
      {tracks.map((track, i) => {
        const isCurrent = currentTrackId === track.id;
        const unavailable = !isPlayable(track);
        const number = numbering === 'album' ? (track.trackNumber ?? i + 1) : i + 1;
        return (
          <li
            key={rowKeys?.[i] ?? track.id}
            data-testid={rowTestId}
            data-song-id={track.id}
            data-current={isCurrent}
            data-unavailable={unavailable}
            className={cn(
              'group flex items-center gap-3 rounded-lg px-2 py-2 hover:bg-white/5',
              isCurrent && 'bg-white/5',
              dragging === i && 'opacity-50',
              over === i && dragging !== null && dragging !== i && 'ring-1 ring-accent',
            )}
            onDragOver={
              onMove
                ? (e) => {
                    if (dragging === null) return;
                    e.preventDefault();
                    setOver(i);
                  }
                : undefined
            }
            onDrop={
              onMove
                ? (e) => {
                    e.preventDefault();
                    if (dragging !== null) move(dragging, i);
                    setDragging(null);
                    setOver(null);
                  }
                : undefined
            }
          >
            {onMove && (
              <span className="flex items-center">
                <button
                  type="button"
                  draggable
                  onDragStart={(e) => {
                    e.dataTransfer.effectAllowed = 'move';
                    e.dataTransfer.setData('text/plain', String(i));
                    setDragging(i);
                  }}
                  onDragEnd={() => {
                    setDragging(null);
                    setOver(null);
                  }}
                  onKeyDown={(e) => {
                    if (!e.altKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
                    e.preventDefault();
                    move(i, e.key === 'ArrowUp' ? i - 1 : i + 1);
                  }}
                  aria-label={`Move ${track.title} (Alt+Up or Alt+Down)`}
                  aria-keyshortcuts="Alt+ArrowUp Alt+ArrowDown"
                  data-testid="track-drag"
                  className="cursor-grab rounded px-1 text-fg-subtle hover:text-fg focus-ring"
                >
                  ⋮⋮
                </button>
                <span className="flex flex-col">
                  <button
                    type="button"
                    onClick={() => move(i, i - 1)}
                    disabled={i === 0}
                    aria-label={`Move ${track.title} up`}
                    data-testid="track-move-up"
                    className="rounded text-fg-subtle hover:text-fg disabled:opacity-30 focus-ring"
                  >
                    <ChevronUpIcon size={14} />
                  </button>
                  <button
                    type="button"
                    onClick={() => move(i, i + 1)}
                    disabled={i === tracks.length - 1}
                    aria-label={`Move ${track.title} down`}
                    data-testid="track-move-down"
                    className="rotate-180 rounded text-fg-subtle hover:text-fg disabled:opacity-30 focus-ring"
                  >
                    <ChevronUpIcon size={14} />
                  </button>
                </span>
              </span>
            )}
            <button
              type="button"
              onClick={() => (isCurrent ? togglePlay() : playFrom(i))}
              disabled={unavailable}
              aria-label={
                unavailable ? `${track.title}: processing, not playable yet` : isCurrent && isPlaying ? `Pause ${track.title}` : `Play ${track.title}`
              }
              data-testid="track-play"
              className={cn(
                'flex min-w-0 flex-1 items-center rounded-md text-left focus-ring disabled:cursor-not-allowed disabled:opacity-50',
                showArtwork ? 'gap-3' : 'gap-4',
              )}
            >
              <span className="w-6 text-right text-sm tabular-nums text-fg-muted">
                {isCurrent && isPlaying ? <span className="text-accent">♪</span> : number}
              </span>
              {showArtwork && <Cover src={track.artworkUrl} seed={track.albumId ?? track.id} alt="" className="h-10 w-10 shrink-0" />}
              <span className="min-w-0 flex-1">
                <span className={cn('block truncate', isCurrent ? 'font-semibold text-accent' : 'text-fg')}>{track.title}</span>
                <span className="block truncate text-sm text-fg-muted">
                  {unavailable ? (
                    <span data-testid="track-unavailable" className="rounded bg-white/10 px-1.5 py-0.5 text-xs uppercase tracking-wide">
                      Processing
                    </span>
                  ) : (
                    track.artist
                  )}
                </span>
              </span>
            </button>
            {!unavailable && trackActions?.(track)}
            {rowExtras?.(track, i)}
            <span className="w-12 text-right text-sm tabular-nums text-fg-muted">{unavailable ? '' : formatDuration(track.duration)}</span>
          </li>
        );
      })}
    </ol>
  );
}
