import { describe, expect, it } from 'vitest';
import { barCount, DEFAULT_BARS, downsamplePeaks, MIN_BAR, parsePeaks, playedBars } from './peaks';

const ramp = Array.from({ length: 800 }, (_, i) => Math.floor((i * 255) / 799));

describe('downsamplePeaks', () => {
  it('turns 800 peaks into the bars that fit, each the loudest of its share', () => {
    const bars = downsamplePeaks(ramp, 200);
    expect(bars).toHaveLength(200);
    // Bar i covers peaks 4i..4i+3: its value is the last (largest) of the ramp's four.
    expect(bars[0]).toBeCloseTo(Math.max(MIN_BAR, (ramp[3] ?? 0) / 255));
    expect(bars[199]).toBe(1);
    for (let i = 1; i < bars.length; i++) expect(bars[i]).toBeGreaterThanOrEqual(bars[i - 1] ?? 0);
  });

  it('keeps a single spike in whichever bar holds it', () => {
    const peaks = new Array<number>(800).fill(0);
    peaks[517] = 255;
    const bars = downsamplePeaks(peaks, 133); // an uneven share
    expect(bars.filter((b) => b === 1)).toHaveLength(1);
    // Bar 86 covers peaks floor(86·800/133) = 517 up to 522.
    expect(bars.indexOf(1)).toBe(86);
    expect(bars.filter((b) => b === MIN_BAR)).toHaveLength(132);
  });

  it('never makes more bars than peaks, and one bar is the loudest peak', () => {
    expect(downsamplePeaks(ramp, 5000)).toHaveLength(800);
    expect(downsamplePeaks(ramp, 1)).toEqual([1]);
    expect(downsamplePeaks(ramp, 0)).toHaveLength(1);
    expect(downsamplePeaks([], 10)).toEqual([]);
  });

  it('limits values to [MIN_BAR, 1]', () => {
    expect(downsamplePeaks([0, 300, -4], 3)).toEqual([MIN_BAR, 1, MIN_BAR]);
  });
});

describe('barCount', () => {
  it('fits one bar per 3 px, with a default while the width is unknown', () => {
    expect(barCount(600)).toBe(200);
    expect(barCount(2)).toBe(1);
    expect(barCount(0)).toBe(DEFAULT_BARS);
    expect(barCount(Number.NaN)).toBe(DEFAULT_BARS);
  });
});

describe('parsePeaks', () => {
  it('accepts a non-empty array of numbers only', () => {
    expect(parsePeaks({ peaks: [1, 2, 255] })).toEqual([1, 2, 255]);
    expect(parsePeaks({ peaks: [] })).toBeNull();
    expect(parsePeaks({ peaks: [1, 'x'] })).toBeNull();
    expect(parsePeaks({ peaks: [1, null] })).toBeNull();
    expect(parsePeaks({})).toBeNull();
    expect(parsePeaks(null)).toBeNull();
  });
});

describe('playedBars', () => {
  it('counts the bars whose middle the playhead has passed', () => {
    expect(playedBars(100, 0, 200)).toBe(0);
    expect(playedBars(100, 100, 200)).toBe(50);
    expect(playedBars(100, 200, 200)).toBe(100);
    expect(playedBars(100, 500, 200)).toBe(100);
    expect(playedBars(100, 10, 0)).toBe(0);
  });
});
