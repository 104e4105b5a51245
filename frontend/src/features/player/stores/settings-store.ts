import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';

/** Player settings kept across reloads (localStorage, key `cadenza.player.settings`). */
export interface PlayerSettings {
  /** Loudness normalisation (docs/media.md gains): on unless the listener turned it off. */
  normalize: boolean;
  setNormalize: (on: boolean) => void;
  toggleNormalize: () => void;
}

export const SETTINGS_STORAGE_KEY = 'cadenza.player.settings';

export const usePlayerSettings = create<PlayerSettings>()(
  persist(
    (set) => ({
      normalize: true,
      setNormalize: (normalize) => set({ normalize }),
      toggleNormalize: () => set((s) => ({ normalize: !s.normalize })),
    }),
    {
      name: SETTINGS_STORAGE_KEY,
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: (s) => ({ normalize: s.normalize }),
    },
  ),
);
