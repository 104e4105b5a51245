import { api } from '@/lib/api-client';

export interface Playlist {
  id: string;
  name: string;
  description: string;
  shared: boolean;
  /** Whether the signed-in listener owns it (and may change it). */
  owned: boolean;
  entryCount: number;
  /** The ETag is `"r<revision>"`: changes send it as `If-Match`. */
  revision: number;
  createdAt: string;
  updatedAt: string;
}

export interface Entry {
  entryId: string;
  songId: string;
  addedAt: string;
}

const base = '/api/user/playlists';
const ifMatch = (revision: number) => ({ headers: { 'If-Match': `"r${revision}"` } });

export const listPlaylists = (signal?: AbortSignal) =>
  api.get<{ playlists: Playlist[] }>(base, { signal }).then((r) => r.playlists);

export const createPlaylist = (name: string) => api.post<{ playlist: Playlist }>(base, { name }).then((r) => r.playlist);

export const getPlaylist = (id: string, signal?: AbortSignal) =>
  api.get<{ playlist: Playlist; entries: Entry[] }>(`${base}/${encodeURIComponent(id)}`, { signal });

export const updatePlaylist = (p: Playlist, change: { name?: string; description?: string; shared?: boolean }) =>
  api.patch<{ playlist: Playlist }>(`${base}/${encodeURIComponent(p.id)}`, change, ifMatch(p.revision)).then((r) => r.playlist);

export const deletePlaylist = (p: Playlist) => api.delete(`${base}/${encodeURIComponent(p.id)}`, ifMatch(p.revision));

export const addToPlaylist = (id: string, songIds: string[]) =>
  api.post<{ playlist: Playlist; added: Entry[] }>(`${base}/${encodeURIComponent(id)}/entries`, { songIds });

/** Moves `entryId` before `before` (null: to the end). */
export const moveEntry = (p: Playlist, entryId: string, before: string | null) =>
  api
    .put<{ playlist: Playlist }>(`${base}/${encodeURIComponent(p.id)}/entries/${encodeURIComponent(entryId)}/position`, { before }, ifMatch(p.revision))
    .then((r) => r.playlist);

export const removeEntry = (p: Playlist, entryId: string) =>
  api
    .delete<{ playlist: Playlist }>(`${base}/${encodeURIComponent(p.id)}/entries/${encodeURIComponent(entryId)}`, ifMatch(p.revision))
    .then((r) => r.playlist);
