import { beforeEach, describe, expect, it, vi } from 'vitest';
import { clearWaveformCache, getWaveform, peekWaveform, WAVEFORM_CACHE_SIZE } from './waveform';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status < 400 ? 'application/json' : 'application/problem+json' } });

const peaks = Array.from({ length: 800 }, (_, i) => i % 256);

describe('getWaveform', () => {
  beforeEach(() => clearWaveformCache());

  it('fetches the peaks once per song and then answers from memory', async () => {
    const fetchMock = vi.fn(async () => json(200, { peaks }));
    vi.stubGlobal('fetch', fetchMock);
    expect(peekWaveform('s1')).toBeUndefined();
    const [a, b] = await Promise.all([getWaveform('s1'), getWaveform('s1')]);
    expect(a).toEqual(peaks);
    expect(b).toBe(a);
    expect(await getWaveform('s1')).toBe(a);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(String((fetchMock.mock.calls[0] as unknown[])[0])).toBe('/api/song/s1/waveform');
    expect(peekWaveform('s1')).toBe(a);
  });

  it('takes a 404 or an unusable body as "no waveform", and remembers it', async () => {
    const fetchMock = vi.fn(async (url: string) => (url.includes('none') ? json(404, { title: 'Not Found', status: 404 }) : json(200, { peaks: 'x' })));
    vi.stubGlobal('fetch', fetchMock);
    expect(await getWaveform('none')).toBeNull();
    expect(await getWaveform('junk')).toBeNull();
    expect(await getWaveform('none')).toBeNull();
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(peekWaveform('none')).toBeNull();
  });

  it('rejects on a failure and asks again next time', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(503, { title: 'Unavailable', status: 503 })));
    await expect(getWaveform('s2')).rejects.toMatchObject({ status: 503 });
    expect(peekWaveform('s2')).toBeUndefined();
    vi.stubGlobal('fetch', vi.fn(async () => json(200, { peaks })));
    expect(await getWaveform('s2')).toEqual(peaks);
  });

  it(`keeps the ${WAVEFORM_CACHE_SIZE} most recent songs`, async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(200, { peaks: [1] })));
    for (let i = 0; i <= WAVEFORM_CACHE_SIZE; i++) await getWaveform(`s${i}`);
    expect(peekWaveform('s0')).toBeUndefined();
    expect(peekWaveform(`s${WAVEFORM_CACHE_SIZE}`)).toEqual([1]);
  });
});
