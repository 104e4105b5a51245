/** A playable track: what the player queues and what track lists show. */
export interface Track {
  id: string;
  title: string;
  artist: string;
  /** Seconds, as catalogued; the audio element's own duration wins once known. */
  duration: number;
  artworkUrl?: string | null;
  albumId?: string | null;
  /** Position on its album, when known. */
  trackNumber?: number | null;
  /** Loudness gains in dB (docs/media.md); null or absent when unknown. */
  trackGainDb?: number | null;
  albumGainDb?: number | null;
}
