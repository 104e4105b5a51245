import type { CSSProperties, ReactNode } from 'react';
import {
  Cover,
  IconButton,
  LoudnessIcon,
  MuteIcon,
  NextIcon,
  PauseIcon,
  PlayIcon,
  PrevIcon,
  QueueIcon,
  RepeatIcon,
  RepeatOneIcon,
  ShuffleIcon,
  VolumeIcon,
} from '@/components/ui';
import { selectCurrentTrack, usePlayerStore } from '../stores/player-store';
import { usePlayerSettings } from '../stores/settings-store';
import type { Track } from '../types';
import { QueuePanel } from './QueuePanel';
import { SeekBar } from './SeekBar';

const repeatLabels = { off: 'Repeat: off', all: 'Repeat: all', one: 'Repeat: one' } as const;

export interface PlayerBarProps {
  /** Extra per-track controls supplied by the app (e.g. a favourite toggle). */
  trackActions?: (track: Track) => ReactNode;
}

/** The persistent player bar. Collapses to title + play/next below the md breakpoint. */
export function PlayerBar({ trackActions }: PlayerBarProps) {
  const track = usePlayerStore(selectCurrentTrack);
  const isPlaying = usePlayerStore((s) => s.isPlaying);
  const shuffle = usePlayerStore((s) => s.shuffle);
  const repeat = usePlayerStore((s) => s.repeat);
  const volume = usePlayerStore((s) => s.volume);
  const muted = usePlayerStore((s) => s.muted);
  const queueOpen = usePlayerStore((s) => s.queueOpen);
  const currentTime = usePlayerStore((s) => s.currentTime);
  const duration = usePlayerStore((s) => s.duration);
  const normalize = usePlayerSettings((s) => s.normalize);
  const toggleNormalize = usePlayerSettings((s) => s.toggleNormalize);
  const actions = usePlayerStore.getState();
  const hasTrack = !!track;
  const effectiveVolume = muted ? 0 : volume;
  const progress = duration > 0 ? Math.min(100, (currentTime / duration) * 100) : 0;

  return (
    <>
      <QueuePanel />
      <section
        aria-label="Player"
        data-testid="player-bar"
        className="fixed inset-x-0 bottom-0 z-40 h-[var(--player-h)] border-t border-white/10 bg-surface-1/95 backdrop-blur"
      >
        {/* Thin progress line for the collapsed (mobile) layout. */}
        <div
          role="progressbar"
          aria-label="Playback progress"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(progress)}
          data-testid="player-progress"
          className="absolute inset-x-0 top-0 h-0.5 bg-white/10 md:hidden"
        >
          <div className="h-full bg-accent" style={{ width: `${progress}%` }} />
        </div>
        <div className="mx-auto flex h-full max-w-screen-2xl items-center gap-3 px-3 md:grid md:grid-cols-[1fr_minmax(0,2fr)_1fr] md:px-4">
          {/* Now playing */}
          <div className="flex min-w-0 flex-1 items-center gap-3">
            {track ? (
              <>
                <Cover src={track.artworkUrl} seed={track.albumId ?? track.id} alt="" className="h-12 w-12 shrink-0 md:h-14 md:w-14" />
                <div className="min-w-0">
                  <p className="truncate text-sm font-semibold" data-testid="player-title">
                    {track.title}
                  </p>
                  <p className="truncate text-xs text-fg-muted" data-testid="player-artist">
                    {track.artist}
                  </p>
                </div>
                <div className="hidden sm:block">{trackActions?.(track)}</div>
              </>
            ) : (
              <p className="whitespace-nowrap text-sm text-fg-subtle">Nothing playing</p>
            )}
          </div>

          {/* Transport */}
          <div className="flex shrink-0 flex-col items-center gap-1 md:w-full">
            <div className="flex items-center gap-1 md:gap-2">
              <IconButton
                label="Shuffle"
                aria-pressed={shuffle}
                active={shuffle}
                onClick={actions.toggleShuffle}
                disabled={!hasTrack}
                data-testid="player-shuffle"
                className="max-md:hidden"
              >
                <ShuffleIcon size={18} />
              </IconButton>
              <IconButton
                label="Previous"
                onClick={actions.previous}
                disabled={!hasTrack}
                data-testid="player-prev"
                className="max-md:hidden"
              >
                <PrevIcon />
              </IconButton>
              <IconButton
                label={isPlaying ? 'Pause' : 'Play'}
                onClick={actions.togglePlay}
                disabled={!hasTrack}
                data-testid="player-play"
                data-state={isPlaying ? 'playing' : 'paused'}
                size="lg"
                className="bg-fg !text-black hover:scale-105 hover:bg-white"
              >
                {isPlaying ? <PauseIcon size={22} /> : <PlayIcon size={22} />}
              </IconButton>
              <IconButton label="Next" onClick={actions.next} disabled={!hasTrack} data-testid="player-next">
                <NextIcon />
              </IconButton>
              <IconButton
                label={repeatLabels[repeat]}
                aria-pressed={repeat !== 'off'}
                active={repeat !== 'off'}
                onClick={actions.cycleRepeat}
                data-testid="player-repeat"
                data-mode={repeat}
                className="max-md:hidden"
              >
                {repeat === 'one' ? <RepeatOneIcon size={18} /> : <RepeatIcon size={18} />}
              </IconButton>
            </div>
            <div className="hidden w-full md:block">
              <SeekBar />
            </div>
          </div>

          {/* Volume and queue */}
          <div className="flex shrink-0 items-center justify-end gap-1 md:gap-2">
            <IconButton
              label="Queue"
              aria-pressed={queueOpen}
              active={queueOpen}
              onClick={() => actions.setQueueOpen(!queueOpen)}
              data-testid="player-queue-toggle"
            >
              <QueueIcon size={18} />
            </IconButton>
            <IconButton
              label="Loudness normalisation"
              aria-pressed={normalize}
              active={normalize}
              onClick={toggleNormalize}
              data-testid="player-normalize"
              data-state={normalize ? 'on' : 'off'}
              className="max-md:hidden"
            >
              <LoudnessIcon size={18} />
            </IconButton>
            <IconButton
              label="Mute"
              aria-pressed={muted}
              active={muted}
              onClick={actions.toggleMute}
              data-testid="player-mute"
              className="max-md:hidden"
            >
              {muted || volume === 0 ? <MuteIcon size={18} /> : <VolumeIcon size={18} />}
            </IconButton>
            <input
              type="range"
              className="range hidden w-24 lg:block"
              aria-label="Volume"
              data-testid="player-volume"
              min={0}
              max={1}
              step={0.01}
              value={effectiveVolume}
              style={{ '--fill': `${effectiveVolume * 100}%` } as CSSProperties}
              onChange={(e) => actions.setVolume(Number(e.target.value))}
            />
          </div>
        </div>
      </section>
    </>
  );
}
