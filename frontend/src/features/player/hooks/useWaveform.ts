import { useEffect, useState } from 'react';
import { getWaveform, peekWaveform } from '../api/waveform';

/**
 * The waveform peaks of a song, or null while loading, when it has none, or
 * when fetching them failed (the seek bar then falls back to a plain one).
 */
export function useWaveform(songId: string | null): number[] | null {
  const [loaded, setLoaded] = useState<{ id: string; peaks: number[] | null } | null>(null);

  useEffect(() => {
    if (!songId || peekWaveform(songId) !== undefined) return;
    let live = true;
    getWaveform(songId).then(
      (peaks) => live && setLoaded({ id: songId, peaks }),
      () => live && setLoaded({ id: songId, peaks: null }),
    );
    return () => {
      live = false;
    };
  }, [songId]);

  if (!songId) return null;
  const cached = peekWaveform(songId);
  if (cached !== undefined) return cached;
  return loaded?.id === songId ? loaded.peaks : null;
}
