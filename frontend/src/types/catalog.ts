/** Catalogue shapes served by song-svc (`/api/song`). Shared by several features. */

export interface Album {
  id: string;
  name: string;
  artist: string;
  thumbnailUrl?: string | null;
  createdAt: string;
}

export interface Song {
  id: string;
  title: string;
  artist: string;
  /** Seconds. */
  duration: number;
  imageUrl?: string | null;
  trackNumber?: number | null;
  albumId?: string | null;
  createdAt?: string;
}

export interface AlbumWithSongs {
  album: Album;
  songs: Song[];
}

export type Role = 'user' | 'admin';
