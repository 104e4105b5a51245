import { describe, expect, it } from 'vitest';
import { createPlayCounter, type CountedPlay } from './play-counter';

function counter() {
  const counted: CountedPlay[] = [];
  let n = 0;
  const c = createPlayCounter((p) => counted.push(p), () => `pb-${++n}`);
  const play = (trackId: string, from: number, to: number, duration: number, step = 0.25) => {
    for (let t = from; t <= to + 1e-9; t += step) c.update({ trackId, currentTime: t, duration, isPlaying: true });
  };
  return { c, counted, play };
}

describe('play counter', () => {
  it('counts a long song after 30 s of playing, once', () => {
    const { counted, play } = counter();
    play('a', 0, 29.5, 300);
    expect(counted).toHaveLength(0);
    play('a', 29.75, 120, 300);
    expect(counted).toHaveLength(1);
    expect(counted[0]).toMatchObject({ songId: 'a', playbackId: 'pb-1', durationSeconds: 300 });
    expect(counted[0]?.playedSeconds ?? 0).toBeGreaterThanOrEqual(30);
  });

  it('counts a short song after half of it', () => {
    const { counted, play } = counter();
    play('b', 0, 19, 40);
    expect(counted).toHaveLength(0);
    play('b', 19.25, 21, 40);
    expect(counted).toHaveLength(1);
  });

  it('does not count seeking ahead, nor time while paused', () => {
    const { c, counted, play } = counter();
    play('a', 0, 5, 300);
    c.update({ trackId: 'a', currentTime: 200, duration: 300, isPlaying: true });
    play('a', 200.25, 210, 300);
    c.update({ trackId: 'a', currentTime: 211, duration: 300, isPlaying: false });
    expect(counted).toHaveLength(0);
  });

  it('makes a new playback for the next track and for a replay', () => {
    const { counted, play } = counter();
    play('a', 0, 31, 300);
    play('b', 0, 31, 300);
    play('b', 0, 31, 300);
    expect(counted.map((p) => [p.songId, p.playbackId])).toEqual([
      ['a', 'pb-1'],
      ['b', 'pb-2'],
      ['b', 'pb-3'],
    ]);
  });
});
