import { Cover } from '@/components/ui';
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
}

/**
 * An ordered list of tracks. Choosing a track plays the list from there;
 * choosing the current track pauses or resumes it. Rows carry
 * `data-song-id` and `data-current`; the play button is `track-play`.
 */
export function TrackList({ tracks, numbering = 'album', showArtwork = false, testId = 'track-list', rowTestId = 'track-row' }: TrackListProps) {
  const { currentTrackId, isPlaying, playQueue, togglePlay, trackActions } = usePlayback();

  return (
    <ol className="flex flex-col" data-testid={testId}>
      {tracks.map((track, i) => {
        const isCurrent = currentTrackId === track.id;
        const number = numbering === 'album' ? (track.trackNumber ?? i + 1) : i + 1;
        return (
          <li
            key={track.id}
            data-testid={rowTestId}
            data-song-id={track.id}
            data-current={isCurrent}
            className={cn('group flex items-center gap-3 rounded-lg px-2 py-2 hover:bg-white/5', isCurrent && 'bg-white/5')}
          >
            <button
              type="button"
              onClick={() => (isCurrent ? togglePlay() : playQueue(tracks, i))}
              aria-label={isCurrent && isPlaying ? `Pause ${track.title}` : `Play ${track.title}`}
              data-testid="track-play"
              className={cn('flex min-w-0 flex-1 items-center rounded-md text-left focus-ring', showArtwork ? 'gap-3' : 'gap-4')}
            >
              <span className="w-6 text-right text-sm tabular-nums text-fg-muted">
                {isCurrent && isPlaying ? <span className="text-accent">♪</span> : number}
              </span>
              {showArtwork && <Cover src={track.artworkUrl} seed={track.albumId ?? track.id} alt="" className="h-10 w-10 shrink-0" />}
              <span className="min-w-0 flex-1">
                <span className={cn('block truncate', isCurrent ? 'font-semibold text-accent' : 'text-fg')}>{track.title}</span>
                <span className="block truncate text-sm text-fg-muted">{track.artist}</span>
              </span>
            </button>
            {trackActions?.(track)}
            <span className="w-12 text-right text-sm tabular-nums text-fg-muted">{formatDuration(track.duration)}</span>
          </li>
        );
      })}
    </ol>
  );
}
