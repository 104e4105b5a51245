import { describe, expect, it } from 'vitest';
import { runPool, type PoolEvent, type PoolTask } from './pool';

/** A task whose attempts are settled by hand, recording concurrency. */
function controlled(ids: string[]) {
  let running = 0;
  let maxRunning = 0;
  const attempts: Record<string, number> = {};
  const pending = new Map<string, { resolve: (v: string) => void; reject: (e: Error) => void; progress: (p: number) => void }>();
  const tasks: PoolTask<string>[] = ids.map((id) => ({
    id,
    run: ({ onProgress }) => {
      attempts[id] = (attempts[id] ?? 0) + 1;
      running++;
      maxRunning = Math.max(maxRunning, running);
      return new Promise<string>((resolve, reject) => {
        pending.set(id, {
          resolve: (v) => {
            running--;
            pending.delete(id);
            resolve(v);
          },
          reject: (e: Error) => {
            running--;
            pending.delete(id);
            reject(e);
          },
          progress: onProgress,
        });
      });
    },
  }));
  return { tasks, pending, attempts, stats: () => ({ running, maxRunning }) };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('runPool', () => {
  it('runs at most 3 at a time, in order, and reports progress', async () => {
    const c = controlled(['a', 'b', 'c', 'd', 'e']);
    const events: PoolEvent<string>[] = [];
    const done = runPool(c.tasks, { concurrency: 3, onEvent: (e) => events.push(e) });
    await flush();
    expect([...c.pending.keys()]).toEqual(['a', 'b', 'c']);
    c.pending.get('b')?.progress(40);
    c.pending.get('b')?.resolve('B');
    await flush();
    expect([...c.pending.keys()]).toEqual(['a', 'c', 'd']);
    for (const id of ['a', 'c', 'd']) c.pending.get(id)?.resolve(id.toUpperCase());
    await flush();
    c.pending.get('e')?.resolve('E');
    const results = await done;
    expect(results.map((r) => (r.ok ? r.result : null))).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(c.stats().maxRunning).toBe(3);
    expect(events.filter((e) => e.id === 'b').map((e) => e.type)).toEqual(['start', 'progress', 'done']);
    expect(events.find((e) => e.type === 'progress')).toEqual({ id: 'b', type: 'progress', percent: 40 });
  });

  it('never runs more than `concurrency` with many quick tasks', async () => {
    let running = 0;
    let max = 0;
    const tasks: PoolTask<number>[] = Array.from({ length: 20 }, (_, i) => ({
      id: String(i),
      run: async () => {
        running++;
        max = Math.max(max, running);
        await new Promise((r) => setTimeout(r, (i * 7) % 5));
        running--;
        return i;
      },
    }));
    const results = await runPool(tasks, { concurrency: 3 });
    expect(max).toBe(3);
    expect(results.every((r, i) => r.ok && r.result === i)).toBe(true);
  });

  it('retries a failure once by itself, then gives up and reports it', async () => {
    const c = controlled(['a', 'b']);
    const events: PoolEvent<string>[] = [];
    const done = runPool(c.tasks, { onEvent: (e) => events.push(e) });
    await flush();
    c.pending.get('a')?.reject(new Error('network'));
    await flush();
    expect(c.attempts.a).toBe(2); // retried at once
    c.pending.get('a')?.resolve('A');
    c.pending.get('b')?.reject(new Error('first'));
    await flush();
    c.pending.get('b')?.reject(new Error('second'));
    const results = await done;
    expect(results[0]).toEqual({ id: 'a', ok: true, result: 'A' });
    expect(results[1]).toMatchObject({ id: 'b', ok: false });
    expect((results[1] as { error: Error }).error.message).toBe('second');
    expect(c.attempts).toEqual({ a: 2, b: 2 });
    expect(events.filter((e) => e.id === 'a').map((e) => e.type)).toEqual(['start', 'retry', 'start', 'done']);
    expect(events.filter((e) => e.id === 'b').map((e) => e.type)).toEqual(['start', 'retry', 'start', 'failed']);
  });

  it('does not retry what is not retryable, nor an abort', async () => {
    const abort = new AbortController();
    let calls = 0;
    const failing: PoolTask<never> = {
      id: 'x',
      run: () => {
        calls++;
        return Promise.reject(new Error('422'));
      },
    };
    expect((await runPool([failing], { retryable: () => false }))[0]?.ok).toBe(false);
    expect(calls).toBe(1);

    const aborting: PoolTask<never> = {
      id: 'y',
      run: ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(new DOMException('Cancelled', 'AbortError')))),
    };
    const later: PoolTask<string> = { id: 'z', run: () => Promise.resolve('never') };
    const done = runPool<string>([aborting, later], { concurrency: 1, signal: abort.signal });
    abort.abort();
    const results = await done;
    expect(results.map((r) => r.ok)).toEqual([false, false]);
  });

  it('handles an empty list', async () => {
    expect(await runPool([])).toEqual([]);
  });
});
