/** One job of a pool (an upload: put the bytes, then create the song). */
export interface PoolTask<T> {
  id: string;
  run: (ctx: { onProgress: (percent: number) => void; signal: AbortSignal; attempt: number }) => Promise<T>;
}

export type PoolEvent<T> =
  | { id: string; type: 'start'; attempt: number }
  | { id: string; type: 'progress'; percent: number }
  | { id: string; type: 'retry'; attempt: number; error: unknown }
  | { id: string; type: 'done'; result: T }
  | { id: string; type: 'failed'; error: unknown };

export interface PoolOptions<T> {
  /** How many tasks run at once (uploads: 3). */
  concurrency?: number;
  /** Automatic retries per task after a failure (1: a task runs at most twice). */
  retries?: number;
  /** Whether an error is worth a retry (default: anything but an abort). */
  retryable?: (error: unknown) => boolean;
  onEvent?: (event: PoolEvent<T>) => void;
  signal?: AbortSignal;
}

export type PoolResult<T> = { id: string; ok: true; result: T } | { id: string; ok: false; error: unknown };

export const isAbort = (err: unknown) => err instanceof DOMException && err.name === 'AbortError';

/**
 * Runs the tasks at most `concurrency` at a time, in order, retrying each
 * failed one `retries` times, and reports every start, progress, retry and
 * outcome through `onEvent`. Never rejects: the results say which failed.
 * After an abort, tasks not started yet fail with an AbortError.
 */
export async function runPool<T>(tasks: PoolTask<T>[], options: PoolOptions<T> = {}): Promise<PoolResult<T>[]> {
  const { concurrency = 3, retries = 1, retryable = (e: unknown) => !isAbort(e), onEvent, signal = new AbortController().signal } = options;
  const results: PoolResult<T>[] = new Array<PoolResult<T>>(tasks.length);
  let next = 0;

  const runOne = async (task: PoolTask<T>): Promise<PoolResult<T>> => {
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) {
        const error = new DOMException('Cancelled', 'AbortError');
        onEvent?.({ id: task.id, type: 'failed', error });
        return { id: task.id, ok: false, error };
      }
      onEvent?.({ id: task.id, type: 'start', attempt });
      try {
        const result = await task.run({ onProgress: (percent) => onEvent?.({ id: task.id, type: 'progress', percent }), signal, attempt });
        onEvent?.({ id: task.id, type: 'done', result });
        return { id: task.id, ok: true, result };
      } catch (error) {
        if (attempt > retries || signal.aborted || !retryable(error)) {
          onEvent?.({ id: task.id, type: 'failed', error });
          return { id: task.id, ok: false, error };
        }
        onEvent?.({ id: task.id, type: 'retry', attempt: attempt + 1, error });
      }
    }
  };

  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      const task = tasks[index];
      if (task) results[index] = await runOne(task);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, tasks.length)) }, worker));
  return results;
}
