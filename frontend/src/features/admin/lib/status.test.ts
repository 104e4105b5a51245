import { describe, expect, it } from 'vitest';
import type { AdminSong } from '../types';
import { allSettled, mergeStatuses, pollDelay, pollSongStatuses, processingKey, songStatus, watchedSettled, type Clock } from './status';

const song = (id: string, status?: AdminSong['status']): AdminSong => ({ id, title: id, artist: 'A', duration: 1, albumId: 'al', ...(status ? { status } : {}) });

/** A manual clock: timers fire only when advanced. */
function fakeClock() {
  let now = 0;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      timers.set(++seq, { at: now + ms, fn });
      return seq;
    },
    clearTimeout: (h) => void timers.delete(h as number),
  };
  const advance = async (ms: number) => {
    const end = now + ms;
    for (;;) {
      const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      timers.delete(due[0]);
      now = due[1].at;
      due[1].fn();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    now = end;
  };
  return { clock, advance, pending: () => [...timers.values()].map((t) => t.at - now) };
}

describe('song status', () => {
  it('treats a song without a status as ready', () => {
    expect(songStatus(song('a'))).toBe('ready');
    expect(songStatus(song('a', 'rejected'))).toBe('rejected');
    expect(allSettled([song('a'), song('b', 'rejected')])).toBe(true);
    expect(allSettled([song('a'), song('b', 'processing')])).toBe(false);
  });

  it('polls every 2 s for a minute, then every 5 s', () => {
    expect(pollDelay(0)).toBe(2000);
    expect(pollDelay(59_999)).toBe(2000);
    expect(pollDelay(60_000)).toBe(5000);
  });
});

describe('pollSongStatuses', () => {
  it('stops once no song is processing', async () => {
    const { clock, advance, pending } = fakeClock();
    const answers = [[song('a', 'processing'), song('b', 'processing')], [song('a', 'ready'), song('b', 'processing')], [song('a', 'ready'), song('b', 'rejected')]];
    let calls = 0;
    const seen: string[][] = [];
    pollSongStatuses(
      () => Promise.resolve(answers[Math.min(calls++, answers.length - 1)] ?? []),
      (songs) => seen.push(songs.map((s) => songStatus(s))),
      clock,
    );
    expect(calls).toBe(0);
    await advance(2000);
    expect(calls).toBe(1);
    await advance(2000);
    await advance(2000);
    expect(seen).toEqual([
      ['processing', 'processing'],
      ['ready', 'processing'],
      ['ready', 'rejected'],
    ]);
    expect(pending()).toEqual([]); // nothing scheduled any more
    await advance(60_000);
    expect(calls).toBe(3);
  });

  it('backs off to 5 s after a minute, and keeps going through errors', async () => {
    const { clock, advance } = fakeClock();
    const times: number[] = [];
    let n = 0;
    pollSongStatuses(
      () => {
        times.push(clock.now());
        return ++n % 4 === 0 ? Promise.reject(new Error('502')) : Promise.resolve([song('a', 'processing')]);
      },
      () => {},
      clock,
    );
    await advance(80_000);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    expect(gaps.filter((_, i) => (times[i] ?? 0) < 60_000).every((g) => g === 2000)).toBe(true);
    expect(gaps.filter((_, i) => (times[i] ?? 0) >= 60_000).every((g) => g === 5000)).toBe(true);
    expect(times.at(-1)).toBeGreaterThan(60_000);
  });

  it('stop() cancels the timer and aborts a request in flight, and its answer is dropped', async () => {
    const { clock, advance, pending } = fakeClock();
    let signal: AbortSignal | null = null;
    let answer: (songs: AdminSong[]) => void = () => {};
    const onSongs: AdminSong[][] = [];
    const stop = pollSongStatuses(
      (s) => {
        signal = s;
        return new Promise((r) => (answer = r));
      },
      (songs) => onSongs.push(songs),
      clock,
    );
    await advance(2000);
    expect(signal).not.toBeNull();
    stop();
    expect((signal as AbortSignal | null)?.aborted).toBe(true);
    answer([song('a', 'processing')]);
    await advance(10_000);
    expect(onSongs).toEqual([]);
    expect(pending()).toEqual([]);

    const second = fakeClock();
    let calls = 0;
    const stopEarly = pollSongStatuses(() => Promise.resolve([song('a', 'processing')]).finally(() => calls++), () => {}, second.clock);
    stopEarly();
    await second.advance(10_000);
    expect(calls).toBe(0);
  });

  it('keeps polling while a watched song is absent from the answer (created after the poll was sent)', async () => {
    const { clock, advance, pending } = fakeClock();
    // The first answer was read before song b existed; the second has it processing, the third settled.
    const answers = [[song('a', 'ready')], [song('a', 'ready'), song('b', 'processing')], [song('a', 'ready'), song('b', 'ready')]];
    let calls = 0;
    pollSongStatuses(() => Promise.resolve(answers[Math.min(calls++, answers.length - 1)] ?? []), () => {}, clock, ['a', 'b']);
    await advance(2000);
    expect(calls).toBe(1);
    expect(pending()).toEqual([2000]);
    await advance(4000);
    expect(calls).toBe(3);
    expect(pending()).toEqual([]);
  });
});

describe('watchedSettled / processingKey', () => {
  it('needs every watched id present and settled', () => {
    expect(watchedSettled([song('a', 'ready')], ['a', 'b'])).toBe(false);
    expect(watchedSettled([song('a', 'ready'), song('b', 'rejected')], ['a', 'b'])).toBe(true);
    expect(watchedSettled([song('a', 'ready'), song('b', 'processing')], ['a'])).toBe(false);
    expect(watchedSettled([song('a')], [])).toBe(true);
  });

  it('is the sorted processing ids, the same for the same set', () => {
    expect(processingKey(['b', 'a'])).toBe('a,b');
    expect(processingKey(['a', 'b'])).toBe(processingKey(['b', 'a']));
    expect(processingKey([])).toBe('');
  });
});

describe('mergeStatuses', () => {
  it('takes only status and statusReason, by id, from an answer that may be older than the list', () => {
    const current: AdminSong[] = [
      { ...song('a', 'processing'), title: 'Renamed after the poll was sent' },
      song('b', 'processing'),
      song('c', 'processing'),
    ];
    const fresh: AdminSong[] = [
      { ...song('a', 'ready'), title: 'Old title' },
      { ...song('b', 'rejected'), statusReason: 'not audio' },
      song('deleted', 'ready'), // deleted meanwhile: not brought back
    ];
    const merged = mergeStatuses(current, fresh);
    expect(merged).toEqual([
      { ...song('a', 'ready'), title: 'Renamed after the poll was sent' },
      { ...song('b', 'rejected'), statusReason: 'not audio' },
      song('c', 'processing'), // missing from the answer: unchanged
    ]);
    expect(mergeStatuses(undefined, fresh)).toBeUndefined();
  });

  it('keeps the same list when nothing changed', () => {
    const current = [song('a', 'processing')];
    expect(mergeStatuses(current, [song('a', 'processing')])).toBe(current);
  });
});
