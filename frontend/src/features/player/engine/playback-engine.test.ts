import { describe, expect, it, vi } from 'vitest';
import type { StreamUrl } from '../api/stream';
import type { AudioContextLike, AudioNodeLike, GainNodeLike, GainParamLike } from './audio-output';
import {
  PlaybackEngine,
  type Clock,
  type EngineHost,
  type EngineOptions,
  type EngineOutputOptions,
  type MediaEventType,
  type MediaElement,
  type Slot,
} from './playback-engine';

/** An <audio> stand-in: state changes like the real element's, events on demand. */
class FakeAudio implements MediaElement {
  src = '';
  currentTime = 0;
  volume = 1;
  muted = false;
  duration = Number.NaN;
  paused = true;
  ended = false;
  seeking = false;
  readyState = 0;
  playbackRate = 1;
  error: { code: number } | null = null;
  dataset: Record<string, string | undefined> = {};
  playCalls = 0;
  loadCalls = 0;
  /** What the next play() does. */
  playOutcome: 'play' | 'blocked' = 'play';
  /** Called as play() starts the element (to look at the level it starts at). */
  onPlay: (() => void) | null = null;
  private listeners = new Map<MediaEventType, Set<() => void>>();

  play(): Promise<void> {
    this.playCalls += 1;
    if (this.playOutcome === 'blocked') {
      return Promise.reject(Object.assign(new Error('play() needs a user gesture'), { name: 'NotAllowedError' }));
    }
    this.paused = false;
    this.onPlay?.();
    this.emit('playing');
    return Promise.resolve();
  }
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.emit('pause');
  }
  load(): void {
    this.loadCalls += 1;
    this.currentTime = 0;
    this.readyState = 0;
    this.duration = Number.NaN;
    this.error = null;
    this.ended = false;
  }
  removeAttribute(): void {
    this.src = '';
  }
  addEventListener(type: MediaEventType, fn: () => void): void {
    const set = this.listeners.get(type) ?? new Set();
    set.add(fn);
    this.listeners.set(type, set);
  }
  removeEventListener(type: MediaEventType, fn: () => void): void {
    this.listeners.get(type)?.delete(fn);
  }
  emit(type: MediaEventType): void {
    this.listeners.get(type)?.forEach((fn) => fn());
  }

  // What the browser does on its own:
  metadata(duration = 180): void {
    this.readyState = 4;
    this.duration = duration;
    this.emit('loadedmetadata');
  }
  tick(time: number): void {
    this.currentTime = time;
    this.emit('timeupdate');
  }
  finish(): void {
    this.currentTime = this.duration;
    this.ended = true;
    this.paused = true;
    this.emit('pause');
    this.emit('ended');
  }
  /** A network error, e.g. the CDN refusing an expired URL with 403. */
  fail(): void {
    this.error = { code: 2 };
    this.emit('error');
  }
  /** The OS paused it (headphones unplugged). */
  systemPause(): void {
    this.pause();
  }
  get listenerCount(): number {
    return [...this.listeners.values()].reduce((n, s) => n + s.size, 0);
  }
}

class FakeClock implements Clock {
  private t = Date.parse('2026-01-01T00:00:00Z');
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (handle: unknown) => {
    this.timers.delete(handle as number);
  };
  /** Moves time forward, running each timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
  /** Moves time forward without running timers (a suspended laptop, a throttled tab). */
  sleep(ms: number): void {
    this.t += ms;
  }
  get pending(): number {
    return this.timers.size;
  }
}

/** Lets promise callbacks (stream fetches, play()) run. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

const TTL_MS = 10 * 60_000;

function setup(options: EngineOptions & EngineOutputOptions<FakeAudio> = {}) {
  const clock = new FakeClock();
  const els = [new FakeAudio(), new FakeAudio()] as const;
  let urlSeq = 0;
  let streamFailure: Error | null = null;
  const fetchStream = vi.fn(async (trackId: string, _opts: { force: boolean }): Promise<StreamUrl> => {
    await Promise.resolve();
    if (streamFailure) throw streamFailure;
    urlSeq += 1;
    return { url: `https://cdn.test/songs/${trackId}.mp3?sig=${urlSeq}`, expiresAt: clock.now() + TTL_MS };
  });
  const host = {
    fetchStream,
    onTime: vi.fn<EngineHost['onTime']>(),
    onEnded: vi.fn<EngineHost['onEnded']>(),
    onPaused: vi.fn<EngineHost['onPaused']>(),
    onError: vi.fn<EngineHost['onError']>(),
    onActiveChange: vi.fn<EngineHost['onActiveChange']>(),
  } satisfies EngineHost;
  const engine = new PlaybackEngine(els, host, clock, options);
  const active = () => els[engine.active];
  const idle = () => els[engine.active === 0 ? 1 : 0];
  return {
    clock,
    els,
    host,
    engine,
    fetchStream,
    active,
    idle,
    failStreams: (err: Error | null) => {
      streamFailure = err;
    },
    /** Plays `trackId` with `upcoming` next, as the store asks on playQueue. */
    async playTrack(trackId: string, upcoming: string | null = null) {
      engine.setTrack(trackId);
      engine.setUpcoming(upcoming);
      engine.setPlaying(true);
      engine.seek(0);
      await settle();
      active().metadata();
    },
  };
}

describe('PlaybackEngine: loading and playing', () => {
  it('fetches a signed URL for the current track, loads it and plays', async () => {
    const t = setup();
    await t.playTrack('a');
    expect(t.fetchStream).toHaveBeenCalledExactlyOnceWith('a', { force: false });
    expect(t.els[0].src).toBe('https://cdn.test/songs/a.mp3?sig=1');
    expect(t.els[0].paused).toBe(false);
    t.els[0].tick(12.5);
    expect(t.host.onTime).toHaveBeenLastCalledWith(12.5, 180, 1);
  });

  it('drops the URL of a load that a newer track superseded', async () => {
    const t = setup();
    t.engine.setPlaying(true);
    t.engine.setTrack('a');
    t.engine.setTrack('b');
    await settle();
    expect(t.els[0].src).toMatch(/\/b\.mp3/);
    expect(t.els[0].loadCalls).toBe(1);
  });

  it('reports a track that cannot be loaded', async () => {
    const t = setup();
    t.failStreams(new Error('song-svc is down'));
    t.engine.setPlaying(true);
    t.engine.setTrack('a');
    await settle();
    expect(t.host.onError).toHaveBeenCalledExactlyOnceWith('song-svc is down');
  });

  it('tells the host when autoplay is blocked, but not when it pauses on request', async () => {
    const t = setup();
    t.els[0].playOutcome = 'blocked';
    await t.playTrack('a');
    await settle();
    expect(t.host.onPaused).toHaveBeenCalledTimes(1);

    const u = setup();
    await u.playTrack('a');
    u.engine.setPlaying(false);
    expect(u.els[0].paused).toBe(true);
    expect(u.host.onPaused).not.toHaveBeenCalled();
    u.engine.setPlaying(true);
    u.els[0].systemPause(); // headphones unplugged
    expect(u.host.onPaused).toHaveBeenCalledTimes(1);
  });

  it('applies volume and mute to both elements; seeks before metadata wait for it', async () => {
    const t = setup();
    t.engine.setVolume(0.3, true);
    expect(t.els.map((e) => [e.volume, e.muted])).toEqual([
      [0.3, true],
      [0.3, true],
    ]);
    t.engine.setTrack('a');
    t.engine.seek(42);
    await settle();
    t.els[0].metadata();
    expect(t.els[0].currentTime).toBe(42);
  });

  it('destroy removes its listeners and timers, and ignores a load still in flight', async () => {
    const t = setup();
    t.engine.setTrack('a');
    t.engine.setUpcoming('b');
    t.engine.destroy();
    await settle();
    expect(t.els[0].src).toBe('');
    expect(t.els[0].listenerCount + t.els[1].listenerCount).toBe(0);
    expect(t.clock.pending).toBe(0);
  });
});

describe('PlaybackEngine: gapless hand-over', () => {
  it('preloads the upcoming track into the idle element and swaps to it when the track ends', async () => {
    const t = setup();
    await t.playTrack('a', 'b');
    expect(t.fetchStream).toHaveBeenCalledTimes(1); // not yet: the current track gets the bandwidth first

    t.clock.advance(1500);
    await settle();
    expect(t.fetchStream).toHaveBeenLastCalledWith('b', { force: false });
    expect(t.els[1].src).toMatch(/\/b\.mp3/);
    expect(t.els[1].paused).toBe(true); // buffering, silent
    t.els[1].metadata();

    // The store answers `ended` by moving to the next track, synchronously.
    t.host.onEnded.mockImplementation(() => {
      t.engine.setTrack('b');
      t.engine.setUpcoming(null);
      t.engine.seek(0);
    });
    t.els[0].finish();

    expect(t.host.onEnded).toHaveBeenCalledTimes(1);
    expect(t.engine.active).toBe(1);
    expect(t.host.onActiveChange).toHaveBeenLastCalledWith(1 satisfies Slot);
    expect(t.els[1].paused).toBe(false); // started in the same task, from its buffer
    expect(t.els[1].currentTime).toBe(0);
    expect(t.fetchStream).toHaveBeenCalledTimes(2); // no fetch at the hand-over
    expect(t.els[1].loadCalls).toBe(1); // and no reload

    // The old element no longer reports time.
    t.host.onTime.mockClear();
    t.els[0].tick(3);
    expect(t.host.onTime).not.toHaveBeenCalled();
    t.els[1].tick(0.25);
    expect(t.host.onTime).toHaveBeenCalledWith(0.25, 180, 1);
  });

  it('preloads only the track that is still upcoming when the delay is over', async () => {
    const t = setup();
    await t.playTrack('a', 'b');
    t.clock.advance(1000);
    t.engine.setUpcoming('c'); // shuffle turned on
    t.clock.advance(1500);
    await settle();
    expect(t.fetchStream.mock.calls.map(([id]) => id)).toEqual(['a', 'c']);
    expect(t.els[1].src).toMatch(/\/c\.mp3/);
  });

  it('drops a preload that failed, and fetches the track when it becomes current', async () => {
    const t = setup();
    await t.playTrack('a', 'b');
    t.clock.advance(1500);
    await settle();
    t.els[1].fail();
    expect(t.host.onError).not.toHaveBeenCalled();

    t.engine.setTrack('b');
    expect(t.engine.active).toBe(0); // no hand-over to a broken element
    await settle();
    expect(t.fetchStream).toHaveBeenLastCalledWith('b', { force: false });
    expect(t.els[0].src).toMatch(/\/b\.mp3\?sig=3/);
    expect(t.els[0].paused).toBe(false);
  });
});

describe('PlaybackEngine: URL renewal before expiry', () => {
  it('renews the preloaded URL before it expires, so the hand-over gets a working one', async () => {
    const t = setup();
    await t.playTrack('a', 'b');
    t.clock.advance(1500);
    await settle();
    const first = t.els[1].src;

    t.clock.advance(TTL_MS - 30_000 - 1000); // just before the renewal margin
    await settle();
    expect(t.els[1].src).toBe(first);
    t.clock.advance(1000);
    await settle();
    expect(t.fetchStream).toHaveBeenLastCalledWith('b', { force: true });
    expect(t.els[1].src).not.toBe(first);
    expect(t.els[1].src).toMatch(/\/b\.mp3/);

    t.engine.setTrack('b');
    expect(t.engine.active).toBe(1);
    expect(t.fetchStream).toHaveBeenCalledTimes(3);
  });

  it('renews the URL of a paused track in place, keeping its position', async () => {
    const t = setup();
    await t.playTrack('a');
    t.els[0].tick(42);
    t.engine.setPlaying(false);
    const first = t.els[0].src;

    t.clock.advance(TTL_MS - 30_000);
    await settle();
    expect(t.fetchStream).toHaveBeenLastCalledWith('a', { force: true });
    expect(t.els[0].src).not.toBe(first);
    t.els[0].metadata();
    expect(t.els[0].currentTime).toBe(42);
    expect(t.els[0].paused).toBe(true); // still paused
    expect(t.host.onPaused).not.toHaveBeenCalled();
  });

  it('leaves a playing track alone at renewal time (a reload would be audible)', async () => {
    const t = setup();
    await t.playTrack('a');
    t.els[0].tick(100);
    t.clock.advance(TTL_MS - 30_000);
    await settle();
    expect(t.fetchStream).toHaveBeenCalledTimes(1);
    expect(t.els[0].loadCalls).toBe(1);
    expect(t.els[0].paused).toBe(false);
  });

  it('resuming after the URL went stale (timers asleep) fetches a fresh one first and resumes in place', async () => {
    const t = setup();
    await t.playTrack('a');
    t.els[0].tick(42);
    t.engine.setPlaying(false);
    t.clock.sleep(TTL_MS);

    t.engine.setPlaying(true);
    expect(t.els[0].playCalls).toBe(1); // not played on the stale URL
    await settle();
    expect(t.fetchStream).toHaveBeenLastCalledWith('a', { force: true });
    expect(t.els[0].src).toMatch(/sig=2/);
    expect(t.els[0].playCalls).toBe(2);
    t.els[0].metadata();
    expect(t.els[0].currentTime).toBe(42);
  });
});

describe('PlaybackEngine: error recovery', () => {
  it('fetches a fresh URL after a media error and resumes at the same time', async () => {
    const t = setup();
    await t.playTrack('a');
    t.els[0].tick(30);
    t.els[0].fail(); // 403 from the CDN
    await settle();
    expect(t.fetchStream).toHaveBeenLastCalledWith('a', { force: true });
    expect(t.els[0].src).toMatch(/sig=2/);
    expect(t.els[0].paused).toBe(false);
    t.host.onTime.mockClear();
    t.els[0].emit('timeupdate'); // the reset reports 0 with nothing loaded: not a position
    expect(t.host.onTime).not.toHaveBeenCalled();
    t.els[0].metadata();
    expect(t.els[0].currentTime).toBe(30);
    expect(t.host.onError).not.toHaveBeenCalled();
  });

  it('gives up after three failed recoveries in a row, and counts again once the track plays', async () => {
    const t = setup();
    await t.playTrack('a');
    for (let i = 0; i < 3; i++) {
      t.els[0].playOutcome = 'blocked'; // keep it from reaching `playing`
      t.els[0].fail();
      await settle();
    }
    t.host.onPaused.mockClear();
    expect(t.fetchStream).toHaveBeenCalledTimes(4);
    t.els[0].fail();
    await settle();
    expect(t.fetchStream).toHaveBeenCalledTimes(4);
    expect(t.host.onError).toHaveBeenCalledExactlyOnceWith('This track cannot be played right now.');

    const u = setup();
    await u.playTrack('a');
    for (let i = 0; i < 5; i++) {
      u.els[0].fail();
      await settle(); // each recovery plays again, which resets the count
    }
    expect(u.fetchStream).toHaveBeenCalledTimes(6);
    expect(u.host.onError).not.toHaveBeenCalled();
  });

  it('reports a recovery whose URL fetch fails', async () => {
    const t = setup();
    await t.playTrack('a');
    t.failStreams(new Error('Could not reach song-svc'));
    t.els[0].fail();
    await settle();
    expect(t.host.onError).toHaveBeenCalledExactlyOnceWith('Could not reach song-svc');
  });

  it('ignores a recovery that finishes after the listener moved on', async () => {
    const t = setup();
    await t.playTrack('a');
    t.els[0].fail();
    t.engine.setTrack('b');
    await settle();
    expect(t.els[0].src).toMatch(/\/b\.mp3/);
    expect(t.els[0].loadCalls).toBe(2);
  });
});

/** AudioParam stand-in: its value, and every glide asked of it. */
class FakeParam implements GainParamLike {
  value = 1;
  glides: number[] = [];
  setTargetAtTime(target: number): void {
    this.glides.push(target);
    this.value = target; // good enough: the glide is short
  }
  cancelScheduledValues(): void {}
}

class FakeNode implements AudioNodeLike {
  outputs: AudioNodeLike[] = [];
  connect(destination: AudioNodeLike): AudioNodeLike {
    this.outputs.push(destination);
    return destination;
  }
}

class FakeGain extends FakeNode implements GainNodeLike {
  readonly gain = new FakeParam();
}

/** AudioContext stand-in (none exists in node): created suspended, as outside a user gesture. */
class FakeContext implements AudioContextLike<FakeAudio> {
  state = 'suspended';
  currentTime = 0;
  readonly destination = new FakeNode();
  resumeCalls = 0;
  /** Elements whose createMediaElementSource throws. */
  refuse = new Set<FakeAudio>();
  /** What resume() does. */
  resumeOutcome: 'run' | 'hang' = 'run';
  private readonly sources = new Map<FakeAudio, FakeNode>();

  resume(): Promise<void> {
    this.resumeCalls += 1;
    if (this.resumeOutcome === 'hang') return new Promise(() => {});
    this.state = 'running';
    return Promise.resolve();
  }
  createGain(): FakeGain {
    return new FakeGain();
  }
  createMediaElementSource(element: FakeAudio): FakeNode {
    if (this.refuse.has(element) || this.sources.has(element)) throw new Error('InvalidStateError');
    const source = new FakeNode();
    this.sources.set(element, source);
    return source;
  }
  /** The gain stage an element plays through, or null when it is not routed. */
  stage(element: FakeAudio): FakeGain | null {
    const gain = this.sources.get(element)?.outputs[0];
    if (!(gain instanceof FakeGain)) return null;
    return gain.outputs.includes(this.destination) ? gain : null;
  }
}

function withContext() {
  const contexts: FakeContext[] = [];
  const t = setup({
    createAudioContext: () => {
      const ctx = new FakeContext();
      contexts.push(ctx);
      return ctx;
    },
  });
  const ctx = () => {
    const c = contexts[0];
    if (!c) throw new Error('no AudioContext was created');
    return c;
  };
  return { ...t, contexts, ctx };
}

const gains = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('PlaybackEngine: loudness normalisation', () => {
  it('creates the AudioContext on the first play (a user gesture), not before, and routes both elements once it runs', async () => {
    const t = withContext();
    t.engine.setVolume(0.6, false);
    t.engine.setGains(gains({ a: 0.5 }));
    t.engine.setTrack('a');
    await settle();
    expect(t.contexts).toHaveLength(0);

    t.engine.setPlaying(true);
    expect(t.contexts).toHaveLength(1);
    expect(t.ctx().resumeCalls).toBe(1);
    await settle();
    expect(t.engine.routed(0) && t.engine.routed(1)).toBe(true);
    expect(t.ctx().stage(t.els[0])?.gain.value).toBe(0.5);
    expect(t.ctx().stage(t.els[1])?.gain.value).toBe(1);
    // The listener's volume stays on the element; the gain is the node's.
    expect(t.els.map((e) => e.volume)).toEqual([0.6, 0.6]);
    expect(t.els[0].paused).toBe(false);

    // Paused and resumed: the same context, resumed again if the browser suspended it.
    t.ctx().state = 'suspended';
    t.engine.setPlaying(false);
    t.engine.setPlaying(true);
    expect(t.contexts).toHaveLength(1);
    expect(t.ctx().resumeCalls).toBe(2);
  });

  it('gives the preloaded element its gain when it preloads; the hand-over starts it at that gain and changes nothing', async () => {
    const t = withContext();
    t.engine.setGains(gains({ a: 0.5, b: 1.6 }));
    await t.playTrack('a', 'b');
    await settle();
    t.clock.advance(1500);
    await settle();
    const stageA = t.ctx().stage(t.els[0]);
    const stageB = t.ctx().stage(t.els[1]);
    expect(stageB?.gain.value).toBe(1.6); // set while it buffers, silent
    t.els[1].metadata();

    const levelAtStart: number[] = [];
    t.els[1].onPlay = () => levelAtStart.push(stageB?.gain.value ?? Number.NaN);
    // The store moves on; the hook sends the new gains first, then the track.
    t.host.onEnded.mockImplementation(() => {
      t.engine.setGains(gains({ b: 1.6 }));
      t.engine.setTrack('b');
      t.engine.setUpcoming(null);
      t.engine.seek(0);
    });
    t.els[0].finish();

    expect(t.engine.active).toBe(1);
    expect(levelAtStart).toEqual([1.6]);
    expect(stageB?.gain.glides).toEqual([]); // no change at the hand-over
    expect(stageA?.gain.value).toBe(0.5); // the element left behind keeps its own
    expect(t.els[1].loadCalls).toBe(1); // still gapless: no reload
  });

  it('glides the playing element to its new gain when normalisation is switched off', async () => {
    const t = withContext();
    t.engine.setGains(gains({ a: 0.5 }));
    await t.playTrack('a');
    await settle();
    t.engine.setGains(gains({ a: 1 }));
    expect(t.ctx().stage(t.els[0])?.gain.glides).toEqual([1]);
  });

  it('caps a boost at +12 dB', async () => {
    const t = withContext();
    t.engine.setGains(gains({ a: 100 }));
    await t.playTrack('a');
    await settle();
    expect(t.ctx().stage(t.els[0])?.gain.value).toBeCloseTo(10 ** (12 / 20));
    expect(t.els[0].dataset).toEqual({ route: 'graph', gain: (10 ** (12 / 20)).toFixed(4) });
  });

  it('without Web Audio, scales the element volume by the gain, never above the listener volume', async () => {
    const t = setup();
    t.engine.setVolume(0.8, false);
    t.engine.setGains(gains({ a: 0.5 }));
    await t.playTrack('a');
    expect(t.els[0].volume).toBeCloseTo(0.4);
    t.engine.setGains(gains({ a: 2 })); // a boost cannot be done with element volume
    expect(t.els[0].volume).toBeCloseTo(0.8);
    expect(t.els[0].paused).toBe(false);
    expect(t.els[0].dataset.gain).toBe('1.0000');
    expect(t.els[0].dataset.route).not.toBe('graph');
  });

  it('keeps playing on element volume when the AudioContext cannot be made', async () => {
    const t = setup({
      createAudioContext: () => {
        throw new Error('Web Audio is not allowed here');
      },
    });
    t.engine.setVolume(1, false);
    t.engine.setGains(gains({ a: 0.25 }));
    await t.playTrack('a');
    expect(t.els[0].paused).toBe(false);
    expect(t.engine.routed(0)).toBe(false);
    expect(t.els[0].volume).toBeCloseTo(0.25);
  });

  it('keeps an element that createMediaElementSource refuses on element volume; the other is routed', async () => {
    const t = withContext();
    t.engine.setGains(gains({ a: 0.5 }));
    t.engine.setVolume(1, false);
    t.engine.setTrack('a');
    t.engine.setPlaying(true);
    t.ctx().refuse.add(t.els[0]); // before the context runs (resume resolves after this task)
    await settle();
    expect(t.engine.routed(0)).toBe(false);
    expect(t.engine.routed(1)).toBe(true);
    expect(t.els[0].volume).toBeCloseTo(0.5);
    expect(t.els[0].paused).toBe(false);
  });

  it('plays on element volume until the context runs (resume still pending)', async () => {
    const contexts: FakeContext[] = [];
    const t = setup({
      createAudioContext: () => {
        const c = new FakeContext();
        c.resumeOutcome = 'hang';
        contexts.push(c);
        return c;
      },
    });
    t.engine.setVolume(1, false);
    t.engine.setGains(gains({ a: 0.5 }));
    await t.playTrack('a');
    expect(contexts).toHaveLength(1);
    expect(t.engine.routed(0)).toBe(false);
    expect(t.els[0].volume).toBeCloseTo(0.5);
    expect(t.els[0].paused).toBe(false);
  });
});
