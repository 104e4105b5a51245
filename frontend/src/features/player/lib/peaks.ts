/**
 * Waveform peaks (song-svc: the loudest sample of each of 800 equal slices
 * of the song, 0‥255) turned into the bars a seek bar has room for.
 */

/** Bar pitch on screen: a bar and its gap (CSS px). */
export const BAR_PITCH_PX = 3;
/** Bars drawn before the element's width is known (and in server rendering). */
export const DEFAULT_BARS = 120;
/** The shortest bar, as a fraction of the height, so silence still shows a line. */
export const MIN_BAR = 0.06;

/** Whether a response body is a usable peaks array: non-empty, numbers only. */
export function parsePeaks(body: unknown): number[] | null {
  if (typeof body !== 'object' || body === null || !('peaks' in body)) return null;
  const { peaks } = body;
  if (!Array.isArray(peaks) || peaks.length === 0) return null;
  if (!peaks.every((p): p is number => typeof p === 'number' && Number.isFinite(p))) return null;
  return peaks;
}

/** How many bars fit in `widthPx` (at least 1; `DEFAULT_BARS` while the width is unknown). */
export function barCount(widthPx: number, pitchPx = BAR_PITCH_PX): number {
  if (!Number.isFinite(widthPx) || widthPx <= 0) return DEFAULT_BARS;
  return Math.max(1, Math.floor(widthPx / pitchPx));
}

/**
 * `bars` heights in [MIN_BAR, 1]: each the loudest peak of its share of the
 * peaks (a peak is a maximum, so the maximum keeps its meaning). Never more
 * bars than peaks.
 */
export function downsamplePeaks(peaks: readonly number[], bars: number): number[] {
  const n = Math.min(peaks.length, Math.max(1, Math.floor(bars)));
  if (peaks.length === 0) return [];
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const start = Math.floor((i * peaks.length) / n);
    const end = Math.max(start + 1, Math.floor(((i + 1) * peaks.length) / n));
    let max = 0;
    for (let j = start; j < end; j++) {
      const p = peaks[j] ?? 0;
      if (p > max) max = p;
    }
    out[i] = Math.max(MIN_BAR, Math.min(1, max / 255));
  }
  return out;
}

/** How many of `bars` bars are played at `value` of `max` (a bar counts once its middle is reached). */
export function playedBars(bars: number, value: number, max: number): number {
  if (!(max > 0) || !(value > 0)) return 0;
  const fraction = Math.min(1, value / max);
  return Math.min(bars, Math.floor(fraction * bars + 0.5));
}
