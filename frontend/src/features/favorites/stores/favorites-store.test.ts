import { beforeEach, describe, expect, it, vi } from 'vitest';
import { useFavoritesStore } from './favorites-store';

const store = () => useFavoritesStore.getState();

beforeEach(() => store().reset());

describe('favourites store', () => {
  it('loads favourites, then adds and removes with the contract routes', async () => {
    const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      if (url === '/api/user/favorites' && (init?.method ?? 'GET') === 'GET') {
        return Response.json({ favorites: [{ songId: 's1', createdAt: '2026-01-01T00:00:00Z' }] });
      }
      return new Response(null, { status: init?.method === 'POST' ? 201 : 204 });
    });
    vi.stubGlobal('fetch', fetchMock);
    await store().load();
    expect(store().items.has('s1')).toBe(true);

    await store().toggle('s2');
    await store().toggle('s1');
    expect([...store().items.keys()]).toEqual(['s2']);
    const calls = fetchMock.mock.calls.map(([u, i]) => `${i?.method ?? 'GET'} ${String(u)}`);
    expect(calls).toEqual(['GET /api/user/favorites', 'POST /api/user/favorites', 'DELETE /api/user/favorites/s1']);
    expect(JSON.parse(String(fetchMock.mock.calls[1]?.[1]?.body))).toEqual({ songId: 's2' });
  });

  it('shows the change immediately and rolls back when the server refuses', async () => {
    let release!: () => void;
    vi.stubGlobal(
      'fetch',
      vi.fn(
        () =>
          new Promise<Response>((resolve) => {
            release = () => resolve(Response.json({ message: 'Song not found', status: 404 }, { status: 404 }));
          }),
      ),
    );
    const pending = store().toggle('ghost');
    expect(store().items.has('ghost')).toBe(true); // optimistic
    expect(store().pending.has('ghost')).toBe(true);
    await store().toggle('ghost'); // ignored while in flight
    release();
    await expect(pending).rejects.toMatchObject({ status: 404, message: 'Song not found' });
    expect(store().items.has('ghost')).toBe(false);
    expect(store().pending.size).toBe(0);
  });
});
