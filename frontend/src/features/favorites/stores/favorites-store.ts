import { create } from 'zustand';
import { addFavorite, listFavorites, removeFavorite, type Favorite } from '../api';

interface FavoritesState {
  /** songId → when it was favourited. */
  items: Map<string, string>;
  loaded: boolean;
  pending: Set<string>;
  load: () => Promise<void>;
  /** Optimistic toggle; rolls back and rethrows on failure. */
  toggle: (songId: string) => Promise<void>;
  /** Drops songs removed on the server (a repair after a missed deletion). */
  forget: (songIds: Iterable<string>) => void;
  reset: () => void;
}

const toMap = (favs: Favorite[]) => new Map(favs.map((f) => [f.songId, f.createdAt ?? ''] as const));

export const useFavoritesStore = create<FavoritesState>()((set, get) => ({
  items: new Map(),
  loaded: false,
  pending: new Set(),

  load: async () => {
    const favs = await listFavorites();
    set({ items: toMap(favs), loaded: true });
  },

  toggle: async (songId) => {
    if (get().pending.has(songId)) return;
    const wasFavorite = get().items.has(songId);
    const previous = get().items;
    const next = new Map(previous);
    if (wasFavorite) next.delete(songId);
    else next.set(songId, new Date().toISOString());
    set((s) => ({ items: next, pending: new Set(s.pending).add(songId) }));
    try {
      if (wasFavorite) await removeFavorite(songId);
      else await addFavorite(songId);
    } catch (err) {
      set((s) => {
        const rolledBack = new Map(s.items);
        if (wasFavorite) rolledBack.set(songId, previous.get(songId) ?? '');
        else rolledBack.delete(songId);
        return { items: rolledBack };
      });
      throw err;
    } finally {
      set((s) => {
        const pending = new Set(s.pending);
        pending.delete(songId);
        return { pending };
      });
    }
  },

  forget: (songIds) =>
    set((s) => {
      const items = new Map(s.items);
      for (const id of songIds) items.delete(id);
      return { items };
    }),

  reset: () => set({ items: new Map(), loaded: false, pending: new Set() }),
}));
