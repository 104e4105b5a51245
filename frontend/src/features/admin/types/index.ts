export interface AdminAlbum {
  id: string;
  name: string;
  artist: string;
  thumbnailKey?: string | null;
  /** Not in the seed's admin shape; shown when the service adds it. */
  thumbnailUrl?: string | null;
  createdAt: string;
}

export interface AdminSong {
  id: string;
  title: string;
  artist: string;
  duration: number;
  trackNumber?: number | null;
  albumId: string;
  imageUrl?: string | null;
  createdAt?: string;
}

export type UploadKind = 'thumbnail' | 'song';

export interface UploadUrlResponse {
  presignedURL: string;
  fileKey: string;
  headers?: Record<string, string>;
  expiresAt?: string;
}
