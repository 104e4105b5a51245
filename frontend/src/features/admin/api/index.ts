import { api } from '@/lib/api-client';
import type { AdminAlbum, AdminSong, UploadKind, UploadUrlResponse } from '../types';

const enc = encodeURIComponent;

export const listAlbums = (signal?: AbortSignal) =>
  api.get<{ albums: AdminAlbum[] }>('/api/admin/album', { signal }).then((r) => r.albums ?? []);

export const createAlbum = (body: { name: string; artist: string; thumbnailKey: string }) =>
  api.post<{ album?: AdminAlbum } & Partial<AdminAlbum>>('/api/admin/album', body);

export const updateAlbum = (id: string, changes: Partial<Pick<AdminAlbum, 'name' | 'artist' | 'thumbnailKey'>>) =>
  api.patch<unknown>(`/api/admin/album/${enc(id)}`, changes);

export const deleteAlbum = (id: string) => api.delete(`/api/admin/album/${enc(id)}`);

export const listAlbumSongs = (albumId: string, signal?: AbortSignal) =>
  api.get<{ songs: AdminSong[] }>(`/api/admin/album/${enc(albumId)}/song`, { signal }).then((r) => r.songs ?? []);

export interface NewSong {
  title: string;
  artist: string;
  audioKey: string;
  duration: number;
  albumId: string;
  trackNumber: number;
}

/** admin-svc answers `{message, song}`. */
export const createSong = (body: NewSong) => api.post<{ song?: AdminSong } & Partial<AdminSong>>('/api/admin/song', body);

export const updateSong = (id: string, changes: Partial<Pick<AdminSong, 'title' | 'artist' | 'trackNumber' | 'duration'>>) =>
  api.patch<unknown>(`/api/admin/song/${enc(id)}`, changes);

export const deleteSong = (id: string) => api.delete(`/api/admin/song/${enc(id)}`);

export const requestUploadUrl = (type: UploadKind, contentType: string, size: number) =>
  api.post<UploadUrlResponse>('/api/admin/upload-url', { type, contentType, size });
