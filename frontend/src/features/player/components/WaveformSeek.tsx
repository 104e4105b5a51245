import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { cn } from '@/lib/cn';
import { formatDuration } from '@/lib/format';
import { barCount, DEFAULT_BARS, downsamplePeaks, playedBars } from '../lib/peaks';

/** Arrow keys move this far (s); Page Up/Down ten times as far. */
const KEY_STEP_S = 5;

export interface WaveformSeekProps {
  /** The song's peaks (0‥255). */
  peaks: readonly number[];
  /** The playhead (or the dragged position), seconds. */
  value: number;
  /** The duration, seconds (> 0). */
  max: number;
  disabled?: boolean;
  /** A drag moved the position (null: the drag ended). */
  onDrag: (value: number | null) => void;
  /** Move the playhead here. */
  onSeek: (value: number) => void;
}

/**
 * The seek bar drawn as the song's waveform: bars of its loudness, the played
 * part highlighted. A slider like the plain one (role=slider, aria-value*):
 * click or drag to seek (committed on release), arrows ±5 s, Page Up/Down
 * ±50 s, Home/End. `data-testid="waveform"`.
 */
export function WaveformSeek({ peaks, value, max, disabled = false, onDrag, onSeek }: WaveformSeekProps) {
  const ref = useRef<HTMLDivElement>(null);
  const dragging = useRef(false);
  const [bars, setBars] = useState(DEFAULT_BARS);

  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const measure = () => setBars(barCount(el.getBoundingClientRect().width));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const heights = useMemo(() => downsamplePeaks(peaks, bars), [peaks, bars]);
  const played = playedBars(heights.length, value, max);

  const valueAt = (clientX: number) => {
    const rect = ref.current?.getBoundingClientRect();
    if (!rect || rect.width <= 0) return value;
    return Math.min(1, Math.max(0, (clientX - rect.left) / rect.width)) * max;
  };

  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (disabled || e.button !== 0) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    e.currentTarget.focus();
    dragging.current = true;
    onDrag(valueAt(e.clientX));
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    if (dragging.current) onDrag(valueAt(e.clientX));
  };
  const end = (e: PointerEvent<HTMLDivElement>, commit: boolean) => {
    if (!dragging.current) return;
    dragging.current = false;
    if (commit) onSeek(valueAt(e.clientX));
    onDrag(null);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (disabled || e.altKey || e.ctrlKey || e.metaKey) return;
    const steps: Record<string, number> = {
      ArrowLeft: -KEY_STEP_S,
      ArrowDown: -KEY_STEP_S,
      ArrowRight: KEY_STEP_S,
      ArrowUp: KEY_STEP_S,
      PageDown: -10 * KEY_STEP_S,
      PageUp: 10 * KEY_STEP_S,
    };
    let target: number;
    if (e.key === 'Home') target = 0;
    else if (e.key === 'End') target = max;
    else if (e.key in steps) target = value + (steps[e.key] ?? 0);
    else return;
    // Handled here: the player's global arrow shortcuts leave it alone.
    e.preventDefault();
    onSeek(Math.min(max, Math.max(0, target)));
  };

  return (
    <div
      ref={ref}
      role="slider"
      tabIndex={disabled ? -1 : 0}
      aria-label="Seek"
      aria-valuemin={0}
      aria-valuemax={Math.round(max)}
      aria-valuenow={Math.round(value)}
      aria-valuetext={`${formatDuration(value)} of ${formatDuration(max)}`}
      aria-disabled={disabled || undefined}
      data-testid="waveform"
      data-bars={heights.length}
      className={cn(
        'group relative h-6 flex-1 touch-none select-none rounded focus-ring',
        disabled ? 'cursor-default opacity-50' : 'cursor-pointer',
      )}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={(e) => end(e, true)}
      onPointerCancel={(e) => end(e, false)}
      onLostPointerCapture={(e) => end(e, false)}
      onKeyDown={onKeyDown}
    >
      <svg
        className="pointer-events-none h-full w-full"
        viewBox={`0 0 ${heights.length} 100`}
        preserveAspectRatio="none"
        aria-hidden="true"
        focusable="false"
      >
        <g className="fill-fg group-hover:fill-accent group-focus-visible:fill-accent">
          {heights.slice(0, played).map((h, i) => (
            <rect key={i} x={i + 0.15} width={0.7} y={50 - h * 50} height={h * 100} />
          ))}
        </g>
        <g className="fill-white/25">
          {heights.slice(played).map((h, i) => (
            <rect key={played + i} x={played + i + 0.15} width={0.7} y={50 - h * 50} height={h * 100} />
          ))}
        </g>
      </svg>
    </div>
  );
}
