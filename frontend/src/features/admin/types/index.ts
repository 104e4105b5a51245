export interface AdminAlbum {
  id: string;
  name: string;
  artist: string;
  thumbnailKey?: string | null;
  /** Not in the seed's admin shape; shown when the service adds it. */
  thumbnailUrl?: string | null;
  createdAt: string;
}

/** docs/media.md: what the media worker made of the song's audio. */
export type SongStatus = 'processing' | 'ready' | 'rejected';

export interface AdminSong {
  id: string;
  title: string;
  artist: string;
  duration: number;
  trackNumber?: number | null;
  albumId: string;
  /** The audio object's key (admin-svc's song lists carry it). */
  audioKey?: string;
  imageUrl?: string | null;
  createdAt?: string;
  /** Absent from an admin-svc without the media worker (the song is then ready). */
  status?: SongStatus;
  /** Why the worker rejected the song; null unless rejected. */
  statusReason?: string | null;
}

export type UploadKind = 'thumbnail' | 'song';

export interface UploadUrlResponse {
  presignedURL: string;
  fileKey: string;
  headers?: Record<string, string>;
  expiresAt?: string;
}
