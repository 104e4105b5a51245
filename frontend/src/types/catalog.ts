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
}

export interface AlbumWithSongs {
  album: Album;
  songs: Song[];
}

export type Role = 'user' | 'admin';
