import { useAudioEngine } from '../hooks/useAudioEngine';
import { useMediaSession } from '../hooks/useMediaSession';
import { usePlayerShortcuts } from '../hooks/usePlayerShortcuts';

/**
 * The two audio elements. The active one carries data-testid="audio"; the idle
 * one ("audio-preload") buffers the upcoming track. They swap on track change.
 * `crossOrigin="anonymous"` is on them from the start (before any `src`): the
 * CDN answers with `Access-Control-Allow-Origin: *`, and Web Audio (loudness
 * normalisation) hears only silence from a cross-origin element without it.
 */
export function AudioEngine() {
  const { active, bind } = useAudioEngine();
  useMediaSession();
  usePlayerShortcuts();
  return (
    <>
      {([0, 1] as const).map((slot) => (
        <audio
          key={slot}
          ref={bind(slot)}
          preload="auto"
          crossOrigin="anonymous"
          data-testid={active === slot ? 'audio' : 'audio-preload'}
          data-active={active === slot}
          hidden
        />
      ))}
    </>
  );
}
