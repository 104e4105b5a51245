import { errorMessage } from '@/lib/api-client';
import type { StreamUrl } from '../api/stream';
import { AudioOutput, type AudioContextLike } from './audio-output';

/**
 * The audio engine: two media elements, one active and one preloading the
 * upcoming track, driven by plain method calls and reporting back through a
 * host. No React and no store here: `hooks/useAudioEngine.ts` connects it to
 * the player store, and the unit tests drive it with fake elements and a fake
 * clock.
 *
 * - Gapless hand-over: the upcoming track is loaded into the idle element a
 *   moment after a track starts; when playback moves on to it the two
 *   elements swap roles and the next track starts from its buffer.
 * - URL renewal: signed stream URLs expire (song-svc: the track's duration
 *   plus 10 minutes). A loaded URL is renewed `renewMarginMs` before it
 *   expires: the idle element reloads its preload, a paused active element
 *   reloads at the same position, a playing one is left alone (a swap would
 *   be audible); and `play` after a long pause renews a stale URL first.
 * - Error recovery: when the active element fails (an expired URL answers
 *   403), a fresh URL is fetched and playback resumes where it was, at most
 *   `maxRecoveries` times until the track plays again. A failed preload is
 *   dropped.
 * - Loudness normalisation: each element plays at the gain of the track it
 *   holds (`setGains`, linear, by track id), through `AudioOutput` (a
 *   GainNode per element, or the element's volume without Web Audio). A
 *   preloaded track gets its gain when it is loaded, so the hand-over starts
 *   it at its own level with nothing to change.
 */

export type Slot = 0 | 1;

/** HTMLMediaElement ready states (the constants do not exist outside a browser). */
const HAVE_NOTHING = 0;
const HAVE_METADATA = 1;

export type MediaEventType = 'timeupdate' | 'loadedmetadata' | 'playing' | 'ended' | 'pause' | 'error';

/** The part of HTMLAudioElement the engine uses. */
export interface MediaElement {
  src: string;
  currentTime: number;
  volume: number;
  muted: boolean;
  readonly duration: number;
  readonly paused: boolean;
  readonly ended: boolean;
  readonly seeking: boolean;
  readonly readyState: number;
  readonly playbackRate: number;
  readonly error: { readonly code: number } | null;
  play(): Promise<void>;
  pause(): void;
  load(): void;
  removeAttribute(name: 'src'): void;
  addEventListener(type: MediaEventType, listener: () => void): void;
  removeEventListener(type: MediaEventType, listener: () => void): void;
  /** The element's data attributes (real elements; stand-ins may omit them). */
  readonly dataset?: Record<string, string | undefined>;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/** What the engine needs from, and reports to, the rest of the app. */
export interface EngineHost {
  /** A signed URL for a track; `force` when the last one was refused or is about to expire. */
  fetchStream(trackId: string, opts: { force: boolean }): Promise<StreamUrl>;
  /** The active element's playhead (seconds) and duration. */
  onTime(time: number, duration: number, playbackRate: number): void;
  /** The active track played to its end on its own. */
  onEnded(): void;
  /** Playback stopped without being asked to (autoplay blocked, headphones unplugged). */
  onPaused(): void;
  /** The track cannot be played: tell the listener; playback should pause. */
  onError(message: string): void;
  /** The other element became the active one. */
  onActiveChange(slot: Slot): void;
}

export interface EngineOptions {
  /** How long after a track starts before the next one is preloaded (ms). */
  preloadDelayMs?: number;
  /** URL re-fetches per track after media errors before giving up. */
  maxRecoveries?: number;
  /** Renew a URL this long before it expires; a URL closer to expiry is not used (ms). */
  renewMarginMs?: number;
}

export interface EngineOutputOptions<E> {
  /** Makes the Web Audio context on the first play (absent: no Web Audio, volume scaling only). */
  createAudioContext?: () => AudioContextLike<E>;
}

export const PRELOAD_DELAY_MS = 1500;
export const MAX_RECOVERIES = 3;
export const RENEW_MARGIN_MS = 30_000;

interface SlotState {
  trackId: string | null;
  url: string | null;
  expiresAt: number;
  renewTimer: unknown;
}

const emptySlot = (): SlotState => ({ trackId: null, url: null, expiresAt: 0, renewTimer: null });
const other = (slot: Slot): Slot => (slot === 0 ? 1 : 0);

function errorName(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'name' in err && typeof err.name === 'string' ? err.name : undefined;
}

export class PlaybackEngine<E extends MediaElement = MediaElement> {
  private readonly slots: [SlotState, SlotState] = [emptySlot(), emptySlot()];
  private activeSlot: Slot = 0;
  /** The track the listener wants (the store's current track). */
  private trackId: string | null = null;
  private upcomingId: string | null = null;
  private playing = false;
  /** Bumped on every track change; async results from an older load are dropped. */
  private loadSeq = 0;
  /** Where to put the playhead once the active element has metadata. */
  private pendingSeek: number | null = null;
  private recoveries = 0;
  /** A URL for the active element is being fetched. */
  private loading = false;
  /** The last real playhead of the active element, for resuming after a reload. */
  private lastTime = 0;
  private preloadTimer: unknown = null;
  private readonly cleanups: Array<() => void> = [];
  private destroyed = false;
  private readonly preloadDelayMs: number;
  private readonly maxRecoveries: number;
  private readonly renewMarginMs: number;
  private readonly output: AudioOutput<E>;
  /** Linear normalisation gain by track id; 1 for a track not in it. */
  private gains: ReadonlyMap<string, number> = new Map();

  constructor(
    private readonly elements: readonly [E, E],
    private readonly host: EngineHost,
    private readonly clock: Clock = systemClock,
    options: EngineOptions & EngineOutputOptions<E> = {},
  ) {
    this.preloadDelayMs = options.preloadDelayMs ?? PRELOAD_DELAY_MS;
    this.maxRecoveries = options.maxRecoveries ?? MAX_RECOVERIES;
    this.renewMarginMs = options.renewMarginMs ?? RENEW_MARGIN_MS;
    this.output = new AudioOutput(elements, options.createAudioContext);
    elements.forEach((el, index) => this.listen(el, index as Slot));
  }

  /** Whether `slot` plays through Web Audio (for tests and diagnostics). */
  routed(slot: Slot): boolean {
    return this.output.routed(slot);
  }

  get active(): Slot {
    return this.activeSlot;
  }

  /** Stops timers and listeners; pending loads are ignored. The elements are left as they are. */
  destroy(): void {
    this.destroyed = true;
    this.loadSeq += 1;
    this.clock.clearTimeout(this.preloadTimer);
    for (const slot of this.slots) this.clock.clearTimeout(slot.renewTimer);
    this.cleanups.splice(0).forEach((fn) => fn());
  }

  /** Load `trackId` as the current track (null: stop and unload both elements). */
  setTrack(trackId: string | null): void {
    if (trackId === this.trackId) return;
    this.trackId = trackId;
    const seq = ++this.loadSeq;
    this.recoveries = 0;
    this.pendingSeek = null;
    this.loading = false;

    if (!trackId) {
      this.clock.clearTimeout(this.preloadTimer);
      this.elements.forEach((el, index) => {
        this.clearSlot(index as Slot);
        el.pause();
        el.removeAttribute('src');
        el.load();
      });
      return;
    }

    const cur = this.activeSlot;
    const idle = other(cur);
    if (this.isFresh(idle, trackId)) {
      // The hand-over: the preloaded element takes over.
      this.makeActive(idle);
      const el = this.elements[idle];
      el.currentTime = 0;
      this.lastTime = 0;
      if (this.playing) this.start(el);
      return;
    }
    if (this.isFresh(cur, trackId)) {
      const el = this.elements[cur];
      if (this.playing) this.start(el);
      return;
    }

    this.loading = true;
    this.lastTime = 0;
    this.host
      .fetchStream(trackId, { force: false })
      .then(
        (stream) => {
          if (seq !== this.loadSeq) return;
          this.setSource(cur, trackId, stream);
          if (this.playing) this.start(this.elements[cur]);
          this.loading = false;
        },
        (err: unknown) => {
          if (seq !== this.loadSeq) return;
          this.loading = false;
          this.host.onError(errorMessage(err, 'Could not load this track.'));
        },
      );
  }

  /** The track after the current one: loaded into the idle element after a short delay. */
  setUpcoming(trackId: string | null): void {
    this.upcomingId = trackId;
    this.clock.clearTimeout(this.preloadTimer);
    this.preloadTimer = null;
    if (!trackId || trackId === this.trackId) return;
    this.preloadTimer = this.clock.setTimeout(() => {
      this.preloadTimer = null;
      const idle = other(this.activeSlot);
      if (this.isFresh(idle, trackId)) return;
      this.host.fetchStream(trackId, { force: false }).then(
        (stream) => {
          if (this.destroyed || this.upcomingId !== trackId || this.trackId === null) return;
          if (other(this.activeSlot) !== idle) return;
          this.setSource(idle, trackId, stream);
        },
        () => {
          // Preloading is an optimisation; the real load reports errors.
        },
      );
    }, this.preloadDelayMs);
  }

  setPlaying(playing: boolean): void {
    this.playing = playing;
    const slot = this.activeSlot;
    const el = this.elements[slot];
    // Play comes from a user gesture: the moment a browser lets an AudioContext start.
    if (playing) this.output.unlock();
    if (!playing) {
      if (!el.paused) el.pause();
      return;
    }
    if (!el.paused || !el.src || this.loading) return;
    const { trackId } = this.slots[slot];
    if (trackId && !this.isFresh(slot, trackId)) {
      // Resuming after a long pause: the URL has (nearly) expired, so fetch a
      // new one first instead of waiting for the CDN to refuse the old one.
      this.reloadActive(trackId, el.currentTime || this.lastTime);
      return;
    }
    this.start(el);
  }

  /** Volume and mute apply to both elements so a swap keeps the level. */
  setVolume(volume: number, muted: boolean): void {
    this.output.setVolume(volume, muted);
  }

  /**
   * The normalisation gains (linear) of the current and upcoming tracks, by
   * id. Call before `setTrack` and `setUpcoming`, so a track starts (or is
   * preloaded) at its own gain. An element holding a track that is not in
   * the map keeps its gain (it is the one being left behind); a track loaded
   * while not in the map plays at 1.
   */
  setGains(gains: ReadonlyMap<string, number>): void {
    this.gains = gains;
    this.applyGain(0, false);
    this.applyGain(1, false);
  }

  /** Move the playhead of the active track (user seeks, restarts, repeat-one). */
  seek(time: number): void {
    const el = this.elements[this.activeSlot];
    if (el.readyState >= HAVE_METADATA) {
      if (Math.abs(el.currentTime - time) > 0.05) el.currentTime = time;
    } else if (time > 0) {
      this.pendingSeek = time;
    }
    if (this.playing && el.paused && el.src && !this.loading) this.start(el);
  }

  private listen(el: MediaElement, slot: Slot): void {
    const isActive = () => this.activeSlot === slot;
    const on = (type: MediaEventType, fn: () => void) => {
      el.addEventListener(type, fn);
      this.cleanups.push(() => el.removeEventListener(type, fn));
    };

    on('timeupdate', () => {
      // A source reset (error, reload) reports 0 with nothing loaded; keep the
      // last real position so a recovery can resume there.
      if (!isActive() || el.readyState === HAVE_NOTHING) return;
      this.lastTime = el.currentTime;
      this.host.onTime(el.currentTime, el.duration, el.playbackRate || 1);
    });
    on('loadedmetadata', () => {
      if (!isActive()) return;
      if (this.pendingSeek !== null) {
        el.currentTime = this.pendingSeek;
        this.pendingSeek = null;
      }
      this.lastTime = el.currentTime;
      this.host.onTime(el.currentTime, el.duration, el.playbackRate || 1);
    });
    on('playing', () => {
      if (isActive()) this.recoveries = 0;
    });
    on('ended', () => {
      if (isActive()) this.host.onEnded();
    });
    on('pause', () => {
      // Paused by the system (e.g. headphones unplugged) rather than by us.
      if (!isActive() || el.ended || this.loading) return;
      if (this.playing && el.src && el.readyState > HAVE_NOTHING && !el.seeking) this.host.onPaused();
    });
    on('error', () => {
      const { trackId } = this.slots[slot];
      if (!trackId || !el.error) return;
      if (!isActive()) {
        this.clearSlot(slot); // a failed preload is dropped; the hand-over will fetch
        return;
      }
      if (this.recoveries >= this.maxRecoveries) {
        this.host.onError('This track cannot be played right now.');
        return;
      }
      this.recoveries += 1;
      this.reloadActive(trackId, this.lastTime);
    });
  }

  /** Fetch a fresh URL for the active track and continue at `resumeAt` (playing if wanted). */
  private reloadActive(trackId: string, resumeAt: number): void {
    const slot = this.activeSlot;
    const seq = this.loadSeq;
    this.loading = true;
    this.host.fetchStream(trackId, { force: true }).then(
      (stream) => {
        if (seq !== this.loadSeq || this.activeSlot !== slot) return;
        this.pendingSeek = resumeAt > 0 ? resumeAt : null;
        this.setSource(slot, trackId, stream);
        if (this.playing) this.start(this.elements[slot]);
        this.loading = false;
      },
      (err: unknown) => {
        if (seq !== this.loadSeq) return;
        this.loading = false;
        this.host.onError(errorMessage(err, 'Could not load this track.'));
      },
    );
  }

  /** Renew a slot's URL shortly before it expires (see the class comment). */
  private renew(slot: Slot): void {
    const state = this.slots[slot];
    const { trackId, url } = state;
    if (!trackId) return;
    const el = this.elements[slot];
    if (slot === this.activeSlot) {
      // Playing: reloading now would be audible. `setPlaying` and error
      // recovery fetch a new URL when it is needed.
      if (!el.paused || this.loading) return;
      this.reloadActive(trackId, el.currentTime || this.lastTime);
      return;
    }
    this.host.fetchStream(trackId, { force: true }).then(
      (stream) => {
        if (this.destroyed || slot === this.activeSlot || state.trackId !== trackId || state.url !== url) return;
        this.setSource(slot, trackId, stream);
      },
      () => {
        // The hand-over fetches a URL itself when this one has expired.
      },
    );
  }

  private setSource(slot: Slot, trackId: string, stream: StreamUrl): void {
    const state = this.slots[slot];
    this.clock.clearTimeout(state.renewTimer);
    state.trackId = trackId;
    state.url = stream.url;
    state.expiresAt = stream.expiresAt;
    state.renewTimer = null;
    this.applyGain(slot, true);
    const el = this.elements[slot];
    el.src = stream.url;
    el.load();
    if (Number.isFinite(stream.expiresAt)) {
      const delay = Math.max(0, stream.expiresAt - this.renewMarginMs - this.clock.now());
      state.renewTimer = this.clock.setTimeout(() => {
        state.renewTimer = null;
        this.renew(slot);
      }, delay);
    }
  }

  /** Gives `slot` its track's gain; one without a known gain gets 1 if `loading`, else keeps its own. */
  private applyGain(slot: Slot, loading: boolean): void {
    const { trackId } = this.slots[slot];
    const gain = trackId === null ? undefined : this.gains.get(trackId);
    if (gain !== undefined) this.output.setGain(slot, gain);
    else if (loading) this.output.setGain(slot, 1);
  }

  private clearSlot(slot: Slot): void {
    this.clock.clearTimeout(this.slots[slot].renewTimer);
    Object.assign(this.slots[slot], emptySlot());
  }

  private isFresh(slot: Slot, trackId: string): boolean {
    const state = this.slots[slot];
    return state.trackId === trackId && !!state.url && state.expiresAt - this.renewMarginMs > this.clock.now();
  }

  private makeActive(slot: Slot): void {
    this.activeSlot = slot;
    this.host.onActiveChange(slot);
    const previous = this.elements[other(slot)];
    if (!previous.paused) previous.pause();
  }

  private start(el: MediaElement): void {
    el.play().catch((err: unknown) => {
      const name = errorName(err);
      if (name === 'AbortError') return; // superseded by a new load
      if (name === 'NotAllowedError') {
        this.host.onPaused(); // autoplay blocked until the user interacts
        return;
      }
      // Media errors arrive as the element's `error` event.
    });
  }
}
