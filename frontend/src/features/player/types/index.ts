export interface Track {
  id: string;
  title: string;
  artist: string;
  /** Seconds, as catalogued; the audio element's own duration wins once known. */
  duration: number;
  artworkUrl?: string | null;
  albumId?: string | null;
}

export type RepeatMode = 'off' | 'all' | 'one';
