import { api } from '@/lib/api-client';

export interface Play {
  songId: string;
  playedAt: string;
}

export interface SongPlays {
  songId: string;
  plays: number;
  lastPlayedAt?: string;
}

export const reportPlay = (p: { songId: string; playbackId: string; playedSeconds: number; durationSeconds: number }) =>
  api.post<{ counted: boolean }>('/api/user/plays', p);

export const recentPlays = (signal?: AbortSignal, limit = 100) =>
  api.get<{ plays: Play[] }>('/api/user/history', { signal, query: { limit } }).then((r) => r.plays);

export const topSongs = (signal?: AbortSignal, limit = 100) =>
  api.get<{ songs: SongPlays[] }>('/api/user/history/top', { signal, query: { limit } }).then((r) => r.songs);

export const trending = (signal?: AbortSignal) =>
  api.get<{ songs: SongPlays[] }>('/api/user/trending', { signal, auth: false }).then((r) => r.songs);
