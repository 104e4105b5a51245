import { beforeEach, describe, expect, it, vi } from 'vitest';
import { configureAuth } from '@/lib/api-client';
import { clearStreamCache, getStream } from './stream';

const getStreamUrl = async (id: string, opts?: { force?: boolean }) => (await getStream(id, opts)).url;

let n = 0;
let expiresIn = 600_000;
const fetchMock = vi.fn(async (_input: RequestInfo | URL, init?: RequestInit) => {
  n += 1;
  expect(new Headers(init?.headers).get('Authorization')).toBe('Bearer tok');
  return Response.json({ url: `https://cdn.test/songs/a.mp3?sig=${n}`, expiresAt: new Date(Date.now() + expiresIn).toISOString() });
});

beforeEach(() => {
  n = 0;
  expiresIn = 600_000;
  clearStreamCache();
  fetchMock.mockClear();
  vi.stubGlobal('fetch', fetchMock);
  configureAuth({ getAccessToken: () => 'tok', refreshAccessToken: async () => null, onAuthLost: () => {} });
});

describe('stream URLs', () => {
  it('reuses a fresh URL, shares one in-flight request, and refetches when forced', async () => {
    const [a, b] = await Promise.all([getStreamUrl('s1'), getStreamUrl('s1')]);
    expect(a).toBe(b);
    expect(await getStreamUrl('s1')).toBe(a);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(String(fetchMock.mock.calls[0]?.[0])).toBe('/api/song/stream/s1');

    const forced = await getStreamUrl('s1', { force: true });
    expect(forced).not.toBe(a);
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it('fetches a new URL once the cached one is about to expire', async () => {
    expiresIn = 20_000; // inside the 30 s safety margin
    const first = await getStreamUrl('s2');
    const second = await getStreamUrl('s2');
    expect(second).not.toBe(first);
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it('gives the engine the expiry as epoch ms', async () => {
    const before = Date.now();
    const { expiresAt } = await getStream('s3');
    expect(expiresAt).toBeGreaterThanOrEqual(before + expiresIn - 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + expiresIn);
  });
});
