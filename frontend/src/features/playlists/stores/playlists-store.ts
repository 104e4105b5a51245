import { create } from 'zustand';
import { createPlaylist, listPlaylists, type Playlist } from '../api';

interface PlaylistsState {
  /** The signed-in listener's playlists, most recently changed first. */
  items: Playlist[];
  loaded: boolean;
  load: () => Promise<void>;
  create: (name: string) => Promise<Playlist>;
  /** Takes a playlist as the server last answered it. */
  upsert: (p: Playlist) => void;
  remove: (id: string) => void;
  reset: () => void;
}

export const usePlaylistsStore = create<PlaylistsState>()((set) => ({
  items: [],
  loaded: false,
  load: async () => {
    const items = await listPlaylists();
    set({ items, loaded: true });
  },
  create: async (name) => {
    const p = await createPlaylist(name);
    set((s) => ({ items: [p, ...s.items.filter((x) => x.id !== p.id)] }));
    return p;
  },
  upsert: (p) =>
    set((s) => ({
      items: p.owned ? [p, ...s.items.filter((x) => x.id !== p.id)] : s.items,
    })),
  remove: (id) => set((s) => ({ items: s.items.filter((x) => x.id !== id) })),
  reset: () => set({ items: [], loaded: false }),
}));
