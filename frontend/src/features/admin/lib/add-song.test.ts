import { describe, expect, it } from 'vitest';
import { ApiError } from '@/lib/api-client';
import { addSongTask, apiDuration, worthRetrying, type AddSongDeps } from './add-song';
import { runPool } from './pool';

const song = {
  id: 'row-1',
  file: new File([new Uint8Array(8)], '01 - One.mp3', { type: 'audio/mpeg' }),
  contentType: 'audio/mpeg',
  title: ' One ',
  artist: 'Folder Artist',
  albumId: 'album-1',
  trackNumber: 1,
  duration: 12.34567,
};

describe('addSongTask', () => {
  it('uploads, then creates the song with a valid duration', async () => {
    const sent: unknown[] = [];
    const deps: AddSongDeps = {
      upload: (_file, kind, type, onProgress) => {
        expect([kind, type]).toEqual(['song', 'audio/mpeg']);
        onProgress(50);
        return Promise.resolve('songs/abc.mp3');
      },
      create: (body) => {
        sent.push(body);
        return Promise.resolve({ song: { id: 's1', title: 'One', artist: 'Folder Artist', duration: 0, albumId: 'album-1', status: 'processing', statusReason: null } });
      },
    };
    const progress: number[] = [];
    const created = await addSongTask(song, deps).run({ onProgress: (p) => progress.push(p), signal: new AbortController().signal, attempt: 1 });
    expect(sent).toEqual([{ title: 'One', artist: 'Folder Artist', audioKey: 'songs/abc.mp3', duration: 12.346, albumId: 'album-1', trackNumber: 1 }]);
    expect(created).toMatchObject({ id: 's1', status: 'processing' });
    expect(progress).toEqual([0, 50, 100]);
  });

  it('a retry after a failed create does not upload again', async () => {
    let uploads = 0;
    let creates = 0;
    const deps: AddSongDeps = {
      upload: () => Promise.resolve(`songs/${++uploads}.mp3`),
      create: (body) => (++creates === 1 ? Promise.reject(new ApiError(503, 'busy')) : Promise.resolve({ id: 's2', ...body })),
    };
    const [result] = await runPool([addSongTask(song, deps)], { retryable: worthRetrying });
    expect(result?.ok).toBe(true);
    expect([uploads, creates]).toEqual([1, 2]);
  });

  it('retries network and server errors, not refusals or aborts', () => {
    expect(worthRetrying(new ApiError(0, 'offline'))).toBe(true);
    expect(worthRetrying(new ApiError(503, 'busy'))).toBe(true);
    expect(worthRetrying(new ApiError(422, 'bad'))).toBe(false);
    expect(worthRetrying(new DOMException('x', 'AbortError'))).toBe(false);
  });

  it('sends durations admin-svc accepts', () => {
    expect(apiDuration(null)).toBe(0);
    expect(apiDuration(Number.NaN)).toBe(0);
    expect(apiDuration(-3)).toBe(0);
    expect(apiDuration(Infinity)).toBe(0);
    expect(apiDuration(200_000)).toBe(86_400);
    expect(apiDuration(1.23456)).toBe(1.235);
  });
});
