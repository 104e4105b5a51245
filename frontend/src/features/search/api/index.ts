import { api } from '@/lib/api-client';
import type { Album, Song } from '@/types/catalog';

export interface SearchResults {
  albums: Album[];
  songs: Song[];
}

export const searchCatalog = (q: string, signal?: AbortSignal) =>
  api
    .get<Partial<SearchResults>>('/api/song/search', { query: { q }, signal })
    .then((r) => ({ albums: r.albums ?? [], songs: r.songs ?? [] }));
