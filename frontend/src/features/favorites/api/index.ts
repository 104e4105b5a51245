import { api } from '@/lib/api-client';

export interface Favorite {
  id?: string;
  userId?: string;
  songId: string;
  /** When it was added (the seed's field); `createdAt` is the same instant. */
  addedAt?: string;
  createdAt?: string;
}

export const listFavorites = (signal?: AbortSignal) =>
  api.get<{ favorites: Favorite[] }>('/api/user/favorites', { signal }).then((r) => r.favorites ?? []);

export const addFavorite = (songId: string) => api.post('/api/user/favorites', { songId });

export const removeFavorite = (songId: string) => api.delete(`/api/user/favorites/${encodeURIComponent(songId)}`);

