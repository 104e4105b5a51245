import { useEffect } from 'react';
import { selectCurrentTrack, usePlayerStore } from '../stores/player-store';

/** Hardware media keys, lock-screen controls and now-playing metadata. */
export function useMediaSession() {
  const track = usePlayerStore(selectCurrentTrack);

  useEffect(() => {
    document.title = track ? `${track.title} · ${track.artist} — Cadenza` : 'Cadenza';
    if (!('mediaSession' in navigator)) return;
    if (!track) {
      navigator.mediaSession.metadata = null;
      return;
    }
    navigator.mediaSession.metadata = new MediaMetadata({
      title: track.title,
      artist: track.artist,
      artwork: track.artworkUrl ? [{ src: track.artworkUrl, sizes: '512x512' }] : [],
    });
  }, [track]);

  useEffect(() => {
    if (!('mediaSession' in navigator)) return;
    const s = () => usePlayerStore.getState();
    const handlers: Array<[MediaSessionAction, MediaSessionActionHandler]> = [
      ['play', () => s().play()],
      ['pause', () => s().pause()],
      ['nexttrack', () => s().next()],
      ['previoustrack', () => s().previous()],
      ['seekto', (d) => d.seekTime !== undefined && s().seek(d.seekTime)],
      ['seekbackward', (d) => s().seekBy(-(d.seekOffset ?? 10))],
      ['seekforward', (d) => s().seekBy(d.seekOffset ?? 10)],
    ];
    for (const [action, handler] of handlers) {
      try {
        navigator.mediaSession.setActionHandler(action, handler);
      } catch {
        // Action not supported by this browser.
      }
    }
    return () => {
      for (const [action] of handlers) {
        try {
          navigator.mediaSession.setActionHandler(action, null);
        } catch {
          // ignore
        }
      }
    };
  }, []);
}
