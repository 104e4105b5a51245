import { dbToLinear, fallbackVolume, MAX_BOOST_DB } from './loudness';
import type { MediaElement } from './playback-engine';

/**
 * Where the two media elements' sound goes, and at what level.
 *
 * With Web Audio each element is routed through its own GainNode
 * (`createMediaElementSource` → gain → destination), so a normalisation
 * gain can also boost; the listener's volume stays on the element. Browsers
 * keep an AudioContext suspended until a user gesture, and an element routed
 * into a suspended context is silent, so the context is created (or
 * resumed) by `unlock`, called when the listener presses play, and the
 * elements are routed only once it runs. Until then, and for good when Web
 * Audio is missing or refuses an element, the gain scales `element.volume`
 * instead, which can only cut (never above 1).
 *
 * The elements must carry `crossOrigin="anonymous"` (set before `src`), or
 * the context hears silence from the CDN's cross-origin audio.
 */

/** The parts of AudioParam, AudioNode and AudioContext used here (fakes in the tests). */
export interface GainParamLike {
  value: number;
  setTargetAtTime(target: number, startTime: number, timeConstant: number): unknown;
  cancelScheduledValues(startTime: number): unknown;
}
export interface AudioNodeLike {
  connect(destination: AudioNodeLike): unknown;
}
export interface GainNodeLike extends AudioNodeLike {
  readonly gain: GainParamLike;
}
export interface AudioContextLike<E> {
  readonly state: string;
  readonly currentTime: number;
  readonly destination: AudioNodeLike;
  resume(): Promise<void>;
  createGain(): GainNodeLike;
  createMediaElementSource(element: E): AudioNodeLike;
}

/** The highest linear gain a GainNode is given. */
export const MAX_GAIN = dbToLinear(MAX_BOOST_DB);
/** Gain changes on a playing element glide over about this long (s), so they do not click. */
const GLIDE_S = 0.02;

type Route = { kind: 'none' } | { kind: 'graph'; stage: GainNodeLike } | { kind: 'failed' };

export class AudioOutput<E extends MediaElement> {
  private context: AudioContextLike<E> | null = null;
  /** Web Audio cannot be used at all (no factory, or it threw). */
  private unavailable: boolean;
  private readonly routes: [Route, Route] = [{ kind: 'none' }, { kind: 'none' }];
  private readonly gains: [number, number] = [1, 1];
  private volume = 1;
  private muted = false;

  constructor(
    private readonly elements: readonly [E, E],
    private readonly createContext?: () => AudioContextLike<E>,
  ) {
    this.unavailable = !createContext;
  }

  /** Whether `slot` plays through a GainNode (else its gain scales the element's volume). */
  routed(slot: 0 | 1): boolean {
    return this.routes[slot].kind === 'graph';
  }

  /** Call from a user gesture (play): creates or resumes the context and routes the elements once it runs. */
  unlock(): void {
    if (this.unavailable || !this.createContext) return;
    if (!this.context) {
      try {
        this.context = this.createContext();
      } catch {
        this.unavailable = true;
        return;
      }
    }
    const context = this.context;
    if (context.state === 'running') {
      this.route();
      return;
    }
    let resumed: Promise<void>;
    try {
      resumed = context.resume();
    } catch {
      return;
    }
    resumed.then(
      () => {
        if (context.state === 'running') this.route();
      },
      () => {
        // Still suspended: the elements keep playing on their own.
      },
    );
  }

  /** The listener's volume and mute, for both elements. */
  setVolume(volume: number, muted: boolean): void {
    this.volume = volume;
    this.muted = muted;
    this.apply(0, false);
    this.apply(1, false);
  }

  /** The normalisation gain (linear) of the track loaded in `slot`. */
  setGain(slot: 0 | 1, gain: number): void {
    const g = Number.isFinite(gain) && gain >= 0 ? gain : 1;
    if (g === this.gains[slot]) return;
    this.gains[slot] = g;
    this.apply(slot, true);
  }

  private route(): void {
    const context = this.context;
    if (!context) return;
    this.elements.forEach((element, index) => {
      const slot = index as 0 | 1;
      if (this.routes[slot].kind !== 'none') return;
      let source: AudioNodeLike;
      try {
        source = context.createMediaElementSource(element);
      } catch {
        // Refused (e.g. already routed elsewhere): this element stays on its own.
        this.routes[slot] = { kind: 'failed' };
        return;
      }
      try {
        const stage = context.createGain();
        stage.gain.value = Math.min(MAX_GAIN, this.gains[slot]);
        source.connect(stage);
        stage.connect(context.destination);
        this.routes[slot] = { kind: 'graph', stage };
      } catch {
        // The element's sound now goes to the context either way: send it straight out.
        try {
          source.connect(context.destination);
        } catch {
          // Nothing more to try.
        }
        this.routes[slot] = { kind: 'failed' };
      }
      this.apply(slot, false);
    });
  }

  private apply(slot: 0 | 1, glide: boolean): void {
    const element = this.elements[slot];
    const gain = this.gains[slot];
    const route = this.routes[slot];
    element.muted = this.muted;
    if (route.kind !== 'graph') {
      element.volume = fallbackVolume(this.volume, gain);
      note(element, route.kind, Math.min(1, gain));
      return;
    }
    element.volume = this.volume;
    const param = route.stage.gain;
    const target = Math.min(MAX_GAIN, gain);
    note(element, route.kind, target);
    const now = this.context?.currentTime ?? 0;
    param.cancelScheduledValues(now);
    if (glide && !element.paused) param.setTargetAtTime(target, now, GLIDE_S);
    else param.value = target;
  }
}

/**
 * Shows on the element how its sound is levelled (`data-gain`: the linear
 * normalisation gain applied; `data-route`: `graph` through Web Audio,
 * else element volume), for debugging and the browser tests.
 */
function note(element: MediaElement, route: Route['kind'], gain: number): void {
  if (!element.dataset) return;
  element.dataset.route = route;
  element.dataset.gain = gain.toFixed(4);
}
