import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';
import { SeekBarView, type SeekBarViewProps } from './SeekBar';

const peaks = Array.from({ length: 800 }, (_, i) => (i * 7) % 256);

const render = (props: Partial<SeekBarViewProps>) =>
  renderToStaticMarkup(createElement(SeekBarView, { currentTime: 60, duration: 240, hasTrack: true, peaks, onSeek: vi.fn(), ...props }));

/** The opening tag with a given data-testid. */
const tag = (html: string, testId: string) => html.match(new RegExp(`<[a-z]+ [^>]*data-testid="${testId}"[^>]*>`))?.[0] ?? null;

describe('SeekBar', () => {
  it('draws the waveform as an accessible slider, a quarter of it played', () => {
    const html = render({});
    const wave = tag(html, 'waveform');
    expect(wave).not.toBeNull();
    expect(wave).toContain('role="slider"');
    expect(wave).toContain('aria-label="Seek"');
    expect(wave).toContain('aria-valuemin="0"');
    expect(wave).toContain('aria-valuemax="240"');
    expect(wave).toContain('aria-valuenow="60"');
    expect(wave).toContain('aria-valuetext="1:00 of 4:00"');
    expect(wave).toContain('tabindex="0"');
    expect(tag(html, 'player-seek')).toBeNull();
    // 120 bars before the width is measured, 30 of them played (the highlighted group comes first).
    expect(wave).toContain('data-bars="120"');
    const groups = html.match(/<g [^>]*>.*?<\/g>/g) ?? [];
    expect(groups).toHaveLength(2);
    expect(groups[0]?.match(/<rect/g)).toHaveLength(30);
    expect(groups[1]?.match(/<rect/g)).toHaveLength(90);
    expect(html).toContain('data-testid="player-current-time"');
    expect(html).toContain('data-testid="player-duration"');
  });

  it('falls back to the plain slider without a waveform (none, loading or failed), or without a duration', () => {
    for (const props of [{ peaks: null }, { duration: 0 }, { hasTrack: false, currentTime: 0 }]) {
      const html = render(props);
      expect(tag(html, 'waveform')).toBeNull();
      const input = tag(html, 'player-seek');
      expect(input).toContain('type="range"');
      expect(input).toContain('aria-label="Seek"');
    }
  });
});
