import { useRef, useState, type CSSProperties } from 'react';
import { formatDuration } from '@/lib/format';
import { useWaveform } from '../hooks/useWaveform';
import { selectCurrentTrack, usePlayerStore } from '../stores/player-store';
import { WaveformSeek } from './WaveformSeek';

/** The seek bar of the current track: its waveform when it has one, else a plain slider. */
export function SeekBar({ compact = false }: { compact?: boolean }) {
  const currentTime = usePlayerStore((s) => s.currentTime);
  const duration = usePlayerStore((s) => s.duration);
  const seek = usePlayerStore((s) => s.seek);
  const trackId = usePlayerStore((s) => selectCurrentTrack(s)?.id ?? null);
  const peaks = useWaveform(trackId);
  return <SeekBarView compact={compact} currentTime={currentTime} duration={duration} hasTrack={trackId !== null} peaks={peaks} onSeek={seek} />;
}

export interface SeekBarViewProps {
  compact?: boolean;
  currentTime: number;
  duration: number;
  hasTrack: boolean;
  /** The current song's waveform, or null (none, loading, failed): the plain slider. */
  peaks: readonly number[] | null;
  onSeek: (time: number) => void;
}

/** Seek slider: drags update locally and commit on release; keyboard commits at once. */
export function SeekBarView({ compact = false, currentTime, duration, hasTrack, peaks, onSeek }: SeekBarViewProps) {
  const [dragValue, setDragValue] = useState<number | null>(null);
  const dragging = useRef(false);

  const max = duration > 0 ? duration : 0;
  const value = Math.min(dragValue ?? currentTime, max || 0);
  const fill = max > 0 ? (value / max) * 100 : 0;

  const commit = () => {
    if (dragValue !== null) onSeek(dragValue);
    dragging.current = false;
    setDragValue(null);
  };

  return (
    <div className="flex w-full items-center gap-2 text-xs tabular-nums text-fg-muted">
      {!compact && (
        <span data-testid="player-current-time" className="w-10 text-right">
          {formatDuration(value)}
        </span>
      )}
      {peaks && hasTrack && max > 0 ? (
        <WaveformSeek peaks={peaks} value={value} max={max} onDrag={setDragValue} onSeek={onSeek} />
      ) : (
        <input
          type="range"
          className="range flex-1"
          aria-label="Seek"
          aria-valuetext={`${formatDuration(value)} of ${formatDuration(max)}`}
          data-testid="player-seek"
          min={0}
          max={max || 1}
          step={0.1}
          value={value}
          disabled={!hasTrack}
          style={{ '--fill': `${fill}%` } as CSSProperties}
          onPointerDown={() => {
            dragging.current = true;
          }}
          onChange={(e) => {
            const v = Number(e.target.value);
            if (dragging.current) setDragValue(v);
            else onSeek(v);
          }}
          onPointerUp={commit}
          onPointerCancel={commit}
          onBlur={() => dragging.current && commit()}
        />
      )}
      {!compact && (
        <span data-testid="player-duration" className="w-10">
          {formatDuration(max)}
        </span>
      )}
    </div>
  );
}
