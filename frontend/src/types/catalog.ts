/** Catalogue shapes served by song-svc (`/api/song`). Shared by several features. */

export interface Album {
  id: string;
  name: string;
  artist: string;
  /** S3 key of the cover (`thumbnails/…`), as in the seed. */
  thumbnailKey?: string | null;
  /** The cover's CDN URL: what to show. */
  thumbnailUrl?: string | null;
  createdAt: string;
  /** Gain (dB) to the −14 LUFS reference for the album as a whole; null until every song is measured (docs/media.md). Older servers omit it. */
  albumGainDb?: number | null;
}

export interface Song {
  id: string;
  title: string;
  artist: string;
  /** Seconds. */
  duration: number;
  /** S3 key of the song's own artwork, null when it has none (the seed's meaning). */
  imageUrl?: string | null;
  /** CDN URL of the song's artwork, else its album's cover: what to show. */
  imageSrc?: string | null;
  trackNumber?: number | null;
  albumId?: string | null;
  createdAt?: string;
  /** Gain (dB) to the −14 LUFS reference, true-peak capped; null until measured. Older servers omit it. */
  trackGainDb?: number | null;
  /** Its album's gain (dB); null until the whole album is measured. Older servers omit it. */
  albumGainDb?: number | null;
}

export interface AlbumWithSongs {
  album: Album;
  songs: Song[];
}

export type Role = 'user' | 'admin';
