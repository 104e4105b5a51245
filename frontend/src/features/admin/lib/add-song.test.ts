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
      list: () => Promise.reject(new Error('not called')),
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
      list: () => Promise.reject(new Error('not called')),
    };
    const [result] = await runPool([addSongTask(song, deps)], { retryable: worthRetrying });
    expect(result?.ok).toBe(true);
    expect([uploads, creates]).toEqual([1, 2]);
  });

  const keyTaken = () => new ApiError(422, 'Validation failed', [{ field: 'audioKey', message: 'is already used by another song' }]);

  it('a retry whose first create had committed (422 on audioKey) returns the song the album already has', async () => {
    let creates = 0;
    const listed: string[] = [];
    const deps: AddSongDeps = {
      upload: () => Promise.resolve('songs/1.mp3'),
      // The first POST committed, but its answer was lost (a 502 from the gateway).
      create: () => Promise.reject(++creates === 1 ? new ApiError(502, 'bad gateway') : keyTaken()),
      list: (albumId) => {
        listed.push(albumId);
        return Promise.resolve([
          { id: 'other', title: 'Two', artist: 'A', duration: 3, albumId, audioKey: 'songs/0.mp3' },
          { id: 's7', title: 'One', artist: 'Folder Artist', duration: 0, albumId, audioKey: 'songs/1.mp3', status: 'processing' },
        ]);
      },
    };
    const [result] = await runPool([addSongTask(song, deps)], { retryable: worthRetrying });
    expect(result).toMatchObject({ ok: true, result: { id: 's7', status: 'processing' } });
    expect(listed).toEqual(['album-1']);
    expect(creates).toBe(2);
  });

  it('the manual retry (a new pool run of the same task) also finds the committed song', async () => {
    let creates = 0;
    const deps: AddSongDeps = {
      upload: () => Promise.resolve('songs/1.mp3'),
      create: () => Promise.reject(++creates <= 2 ? new ApiError(503, 'busy') : keyTaken()),
      list: (albumId) => Promise.resolve([{ id: 's8', title: 'One', artist: 'A', duration: 0, albumId, audioKey: 'songs/1.mp3' }]),
    };
    const task = addSongTask(song, deps);
    const [first] = await runPool([task], { retryable: worthRetrying });
    expect(first?.ok).toBe(false);
    const [again] = await runPool([task], { retryable: worthRetrying });
    expect(again).toMatchObject({ ok: true, result: { id: 's8' } });
  });

  it('a 422 on audioKey stays an error when no song of the album has the key, or on the first create', async () => {
    let lists = 0;
    const notThere: AddSongDeps = {
      upload: () => Promise.resolve('songs/1.mp3'),
      create: (() => {
        let n = 0;
        return () => Promise.reject(++n === 1 ? new ApiError(503, 'busy') : keyTaken());
      })(),
      list: () => {
        lists++;
        return Promise.resolve([]);
      },
    };
    const [a] = await runPool([addSongTask(song, notThere)], { retryable: worthRetrying });
    expect(a?.ok).toBe(false);
    expect(a && !a.ok && a.error).toBeInstanceOf(ApiError);
    expect(lists).toBe(1);

    const firstTry: AddSongDeps = { upload: () => Promise.resolve('songs/1.mp3'), create: () => Promise.reject(keyTaken()), list: () => Promise.reject(new Error('not called')) };
    const [b] = await runPool([addSongTask(song, firstTry)], { retryable: worthRetrying });
    expect(b && !b.ok && (b.error as ApiError).status).toBe(422);
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
