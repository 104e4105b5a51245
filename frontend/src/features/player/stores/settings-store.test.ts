import { beforeEach, describe, expect, it, vi } from 'vitest';

/** A localStorage stand-in (node has none). */
function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
  };
}

/** The store module as a fresh page load would get it. */
const load = async () => {
  vi.resetModules();
  return import('./settings-store');
};

describe('player settings', () => {
  beforeEach(() => vi.resetModules());

  it('normalises loudness by default and remembers the toggle', async () => {
    const storage = memoryStorage();
    vi.stubGlobal('localStorage', storage);
    const { usePlayerSettings, SETTINGS_STORAGE_KEY } = await load();
    expect(usePlayerSettings.getState().normalize).toBe(true);
    usePlayerSettings.getState().toggleNormalize();
    expect(usePlayerSettings.getState().normalize).toBe(false);
    expect(JSON.parse(storage.data.get(SETTINGS_STORAGE_KEY) ?? '{}')).toMatchObject({ state: { normalize: false } });

    // The next page load reads it back.
    const again = await load();
    expect(again.usePlayerSettings.getState().normalize).toBe(false);
  });

  it('works (on, not remembered) where storage cannot be reached', async () => {
    // As a browser that refuses storage (sandboxed frame, blocked cookies).
    const original = Object.getOwnPropertyDescriptor(globalThis, 'localStorage');
    Object.defineProperty(globalThis, 'localStorage', {
      configurable: true,
      get() {
        throw new DOMException('The operation is insecure.', 'SecurityError');
      },
    });
    vi.spyOn(console, 'warn').mockImplementation(() => {}); // zustand says it cannot store
    try {
      const { usePlayerSettings } = await load();
      expect(usePlayerSettings.getState().normalize).toBe(true);
      usePlayerSettings.getState().setNormalize(false);
      expect(usePlayerSettings.getState().normalize).toBe(false);
    } finally {
      if (original) Object.defineProperty(globalThis, 'localStorage', original);
      else Reflect.deleteProperty(globalThis, 'localStorage');
    }
  });
});
