import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';
import type { Track } from '@/types/track';
import { PlaybackContext, type Playback } from './playback';
import { playableFrom, TrackList, type TrackListProps } from './TrackList';

const tracks: Track[] = [
  { id: 's1', title: 'Aurora', artist: 'Nordlys', duration: 185, trackNumber: 3, artworkUrl: 'https://cdn.test/a.jpg', albumId: 'al1' },
  { id: 's2', title: 'Polar Night', artist: 'Nordlys', duration: 61, trackNumber: 4, artworkUrl: null, albumId: 'al1' },
];

function render(props: TrackListProps, playback: Partial<Playback> = {}): string {
  const value: Playback = { currentTrackId: null, isPlaying: false, playQueue: vi.fn(), togglePlay: vi.fn(), ...playback };
  return renderToStaticMarkup(createElement(PlaybackContext.Provider, { value }, createElement(TrackList, props)));
}

/** The opening tags with a given data-testid, in order. */
const tags = (html: string, testId: string) => html.match(new RegExp(`<[a-z]+ [^>]*data-testid="${testId}"[^>]*>`, 'g')) ?? [];

describe('TrackList', () => {
  it('renders the album markup the e2e tests select: track-list, track-row (data-song-id, data-current), track-play', () => {
    const html = render({ tracks }, { currentTrackId: 's2', isPlaying: true, trackActions: (t) => createElement('button', { 'data-testid': 'favorite-toggle' }, t.id) });
    expect(tags(html, 'track-list')).toHaveLength(1);
    expect(html.startsWith('<ol')).toBe(true);
    const rows = tags(html, 'track-row');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('data-song-id="s1"');
    expect(rows[0]).toContain('data-current="false"');
    expect(rows[1]).toContain('data-current="true"');
    const plays = tags(html, 'track-play');
    expect(plays[0]).toContain('aria-label="Play Aurora"');
    expect(plays[1]).toContain('aria-label="Pause Polar Night"');
    // Album numbering; the current, playing track shows a note instead.
    expect(html).toContain('>3</span>');
    expect(html).not.toContain('>4</span>');
    expect(html).toContain('♪');
    // The actions slot (the favourite heart, supplied by app/) in every row.
    expect(tags(html, 'favorite-toggle')).toHaveLength(2);
    expect(html).toContain('3:05');
    expect(html).not.toContain('<img');
  });

  it('renders the favourites variant: own test ids, position numbers, artwork', () => {
    const html = render({ tracks, numbering: 'position', showArtwork: true, testId: 'favorites-list', rowTestId: 'favorite-row' });
    expect(tags(html, 'favorites-list')).toHaveLength(1);
    expect(tags(html, 'favorite-row')).toHaveLength(2);
    expect(tags(html, 'track-row')).toHaveLength(0);
    expect(html).toContain('>1</span>');
    expect(html).toContain('>2</span>');
    expect(html).toContain('src="https://cdn.test/a.jpg"');
    expect(html).toContain('role="img"'); // the gradient stand-in for the track without artwork
  });

  it('keeps an unavailable (processing) song in its place, not playable, and skips it when the list plays', () => {
    const processing: Track = { id: 's3', title: 'Song not available yet', artist: '', duration: 0 };
    const list = [tracks[0] as Track, processing, tracks[1] as Track];
    const html = render({ tracks: list, numbering: 'position', unavailableIds: new Set(['s3']) });
    const rows = tags(html, 'track-row');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toContain('data-unavailable="true"');
    expect(rows[0]).toContain('data-unavailable="false"');
    const plays = tags(html, 'track-play');
    expect(plays[1]).toContain('disabled=""');
    expect(plays[1]).toContain('processing, not playable yet');
    expect(plays[2]).not.toContain('disabled=""');
    expect(tags(html, 'track-unavailable')).toHaveLength(1);
    expect(html).toContain('Processing');

    // Choosing the third row plays the list without the processing song, from that row.
    expect(playableFrom(list, 2, new Set(['s3']))).toEqual({ tracks: [tracks[0], tracks[1]], index: 1 });
    expect(playableFrom(list, 0, new Set(['s3']))).toEqual({ tracks: [tracks[0], tracks[1]], index: 0 });
    expect(playableFrom(list, 1, undefined)).toEqual({ tracks: list, index: 1 });
  });

  it('needs a Playback provider', () => {
    expect(() => renderToStaticMarkup(createElement(TrackList, { tracks }))).toThrow(/PlaybackContext/);
  });
});
