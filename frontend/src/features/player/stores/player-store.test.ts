import { beforeEach, describe, expect, it } from 'vitest';
import type { Track } from '../types';
import { selectCurrentQueueIndex, selectCurrentTrack, selectUpcomingTrack, usePlayerStore } from './player-store';

const tracks = (n: number): Track[] =>
  Array.from({ length: n }, (_, i) => ({ id: `t${i}`, title: `Track ${i}`, artist: 'A', duration: 100 + i }));

const player = () => usePlayerStore.getState();
const current = () => selectCurrentTrack(player())?.id;

beforeEach(() => {
  usePlayerStore.setState({ shuffle: false, repeat: 'off' });
  player().reset();
});

describe('queue navigation', () => {
  it('starts the queue at the requested track and plays', () => {
    player().playQueue(tracks(5), 2);
    expect(current()).toBe('t2');
    expect(player().isPlaying).toBe(true);
    expect(player().duration).toBe(102);
  });

  it('next and previous walk the queue in order', () => {
    player().playQueue(tracks(3), 0);
    player().next();
    expect(current()).toBe('t1');
    player().next();
    expect(current()).toBe('t2');
    player().previous();
    expect(current()).toBe('t1');
  });

  it('previous restarts the track when more than 3 s in, otherwise goes back', () => {
    player().playQueue(tracks(3), 1);
    player().reportTime(42);
    const before = player().seekRequest?.nonce;
    player().previous();
    expect(current()).toBe('t1');
    expect(player().currentTime).toBe(0);
    expect(player().seekRequest).toMatchObject({ time: 0 });
    expect(player().seekRequest?.nonce).not.toBe(before);

    player().reportTime(2);
    player().previous();
    expect(current()).toBe('t0');
  });

  it('previous on the first track restarts it when repeat is off', () => {
    player().playQueue(tracks(3), 0);
    player().reportTime(1);
    player().previous();
    expect(current()).toBe('t0');
    expect(player().currentTime).toBe(0);
  });

  it('auto-advances when a track ends and stops at the end of the queue', () => {
    player().playQueue(tracks(3), 0);
    player().trackEnded();
    expect(current()).toBe('t1');
    expect(player().isPlaying).toBe(true);
    player().trackEnded();
    expect(current()).toBe('t2');
    player().trackEnded();
    expect(current()).toBe('t2');
    expect(player().isPlaying).toBe(false);
    expect(selectUpcomingTrack(player())).toBeNull();
  });

  it('manual next at the end of the queue with repeat off stays put', () => {
    player().playQueue(tracks(2), 1);
    player().next();
    expect(current()).toBe('t1');
    expect(player().isPlaying).toBe(true);
  });

  it('does nothing with an empty queue', () => {
    player().next();
    player().previous();
    player().trackEnded();
    player().play();
    expect(player().isPlaying).toBe(false);
    expect(current()).toBeUndefined();
  });

  it('jumpTo plays the chosen queue item; removeFromQueue keeps the current track', () => {
    player().playQueue(tracks(5), 1);
    player().jumpTo(3);
    expect(current()).toBe('t3');
    player().removeFromQueue(0);
    expect(current()).toBe('t3');
    expect(player().queue.map((t) => t.id)).toEqual(['t1', 't2', 't3', 't4']);
    player().removeFromQueue(3); // t4, after the current
    expect(current()).toBe('t3');
    expect(selectUpcomingTrack(player())).toBeNull();
  });

  it('removing the current track moves on to the next one', () => {
    player().playQueue(tracks(4), 1);
    player().removeFromQueue(1);
    expect(current()).toBe('t2');
    expect(player().isPlaying).toBe(true);
  });

  it('removing the last remaining track empties the player', () => {
    player().playQueue(tracks(1), 0);
    player().removeFromQueue(0);
    expect(player().queue).toHaveLength(0);
    expect(player().isPlaying).toBe(false);
  });
});

describe('repeat', () => {
  it('repeat one restarts the same track when it ends, but next still advances', () => {
    player().playQueue(tracks(3), 1);
    player().setRepeat('one');
    player().reportTime(101);
    const nonce = player().seekRequest?.nonce;
    player().trackEnded();
    expect(current()).toBe('t1');
    expect(player().isPlaying).toBe(true);
    expect(player().currentTime).toBe(0);
    expect(player().seekRequest?.nonce).not.toBe(nonce);
    player().next();
    expect(current()).toBe('t2');
  });

  it('repeat all wraps from the last track to the first, both ways', () => {
    player().playQueue(tracks(3), 2);
    player().setRepeat('all');
    expect(selectUpcomingTrack(player())?.id).toBe('t0');
    player().trackEnded();
    expect(current()).toBe('t0');
    expect(player().isPlaying).toBe(true);
    player().previous();
    expect(current()).toBe('t2');
    player().next();
    expect(current()).toBe('t0');
  });

  it('cycles off → all → one → off', () => {
    const seen = [player().repeat];
    for (let i = 0; i < 3; i++) {
      player().cycleRepeat();
      seen.push(player().repeat);
    }
    expect(seen).toEqual(['off', 'all', 'one', 'off']);
  });
});

describe('shuffle', () => {
  it('keeps the current track current and plays every track exactly once', () => {
    const q = tracks(20);
    player().playQueue(q, 7);
    player().toggleShuffle();
    expect(current()).toBe('t7');
    expect(player().queue.map((t) => t.id)).toEqual(q.map((t) => t.id)); // original order kept

    const played = [current()];
    for (let i = 0; i < 19; i++) {
      player().trackEnded();
      played.push(current());
    }
    expect(new Set(played).size).toBe(20);
    expect(played.slice().sort()).toEqual(q.map((t) => t.id).sort());
    player().trackEnded();
    expect(player().isPlaying).toBe(false);
  });

  it('actually changes the order (not the identity) for a long queue', () => {
    player().playQueue(tracks(30), 0);
    player().toggleShuffle();
    expect(player().order).not.toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('toggling off restores the original order at the current track', () => {
    player().playQueue(tracks(10), 0);
    player().toggleShuffle();
    player().next();
    player().next();
    const id = current();
    const queueIndex = selectCurrentQueueIndex(player());
    player().toggleShuffle();
    expect(player().shuffle).toBe(false);
    expect(current()).toBe(id);
    expect(player().order).toEqual(Array.from({ length: 10 }, (_, i) => i));
    player().next();
    expect(selectCurrentQueueIndex(player())).toBe(queueIndex + 1 < 10 ? queueIndex + 1 : queueIndex);
  });

  it('a new queue started while shuffling begins at the chosen track', () => {
    player().toggleShuffle();
    player().playQueue(tracks(8), 5);
    expect(current()).toBe('t5');
    expect(player().position).toBe(0);
    expect(player().order.slice().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('removing tracks while shuffled keeps a valid order and the current track', () => {
    player().playQueue(tracks(8), 3);
    player().toggleShuffle();
    player().next();
    const id = current();
    const victims = player().order.filter((i) => i !== selectCurrentQueueIndex(player())).slice(0, 3);
    for (const v of victims.sort((a, b) => b - a)) player().removeFromQueue(v);
    expect(current()).toBe(id);
    expect(player().queue).toHaveLength(5);
    expect(player().order.slice().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
    player().toggleShuffle();
    expect(current()).toBe(id);
  });

  it('repeat all with shuffle wraps around the shuffled order', () => {
    player().playQueue(tracks(4), 0);
    player().toggleShuffle();
    player().setRepeat('all');
    const first = current();
    for (let i = 0; i < 4; i++) player().trackEnded();
    expect(current()).toBe(first);
  });
});

describe('volume and seeking', () => {
  it('clamps volume, and unmutes when the volume is raised', () => {
    player().toggleMute();
    expect(player().muted).toBe(true);
    player().setVolume(1.7);
    expect(player().volume).toBe(1);
    expect(player().muted).toBe(false);
  });

  it('clamps seeks to the track duration', () => {
    player().playQueue(tracks(1), 0);
    player().reportTime(10, 200);
    player().seekBy(-30);
    expect(player().currentTime).toBe(0);
    player().seek(500);
    expect(player().currentTime).toBe(200);
  });
});
