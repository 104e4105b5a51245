import { api } from '@/lib/api-client';
import type { Album, AlbumWithSongs, Song } from '@/types/catalog';

const byNewest = (a: Album, b: Album) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '');

export const listAlbums = (signal?: AbortSignal) =>
  api.get<{ albums: Album[] }>('/api/song/album', { signal }).then((r) => [...(r.albums ?? [])].sort(byNewest));

export const getAlbum = (id: string, signal?: AbortSignal) =>
  api.get<AlbumWithSongs>(`/api/song/album/${encodeURIComponent(id)}`, { signal }).then((r) => ({
    album: r.album,
    songs: [...(r.songs ?? [])].sort(
      (a: Song, b: Song) =>
        (a.trackNumber ?? Number.MAX_SAFE_INTEGER) - (b.trackNumber ?? Number.MAX_SAFE_INTEGER) ||
        (a.createdAt ?? '').localeCompare(b.createdAt ?? ''),
    ),
  }));
