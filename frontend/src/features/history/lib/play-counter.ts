/**
 * When a playback counts as a play: once it has actually played for 30 s or
 * half the song, whichever is first (the common scrobbling rule). Only time
 * that really played counts: a seek forward adds nothing. Each playback has
 * its own id, so a report repeated for it counts once on the server.
 */
export const PLAY_THRESHOLD_SECONDS = 30;

export interface PlayerSnapshot {
  trackId: string | null;
  currentTime: number;
  duration: number;
  isPlaying: boolean;
}

export interface CountedPlay {
  songId: string;
  playbackId: string;
  playedSeconds: number;
  durationSeconds: number;
}

/** The longest step between two updates still taken as playing (not a seek). */
const MAX_STEP = 2.5;

export function createPlayCounter(onCount: (play: CountedPlay) => void, newId: () => string = () => crypto.randomUUID()) {
  let trackId: string | null = null;
  let playbackId = '';
  let listened = 0;
  let last = 0;
  let reported = false;

  const start = (id: string | null, at: number) => {
    trackId = id;
    playbackId = newId();
    listened = 0;
    last = at;
    reported = false;
  };

  return {
    update(s: PlayerSnapshot) {
      // A new track, or the same one started again (repeat, replay).
      if (s.trackId !== trackId || (s.currentTime < 1 && last > 5)) {
        start(s.trackId, s.currentTime);
        return;
      }
      const step = s.currentTime - last;
      last = s.currentTime;
      if (!s.isPlaying || step <= 0 || step > MAX_STEP || !trackId) return;
      listened += step;
      const needed = Math.min(PLAY_THRESHOLD_SECONDS, s.duration > 0 ? s.duration / 2 : PLAY_THRESHOLD_SECONDS);
      if (!reported && listened >= needed && s.duration > 0) {
        reported = true;
        onCount({ songId: trackId, playbackId, playedSeconds: listened, durationSeconds: s.duration });
      }
    },
  };
}
