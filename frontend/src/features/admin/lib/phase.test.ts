import { describe, expect, it } from 'vitest';
import { whileRunning } from './phase';

describe('whileRunning (a folder-import retry)', () => {
  it("is 'running' while the work runs and 'finished' after", async () => {
    const phases: string[] = [];
    let finish: () => void = () => {};
    const done = whileRunning((p) => phases.push(p), () => new Promise<void>((r) => (finish = r)), () => false);
    expect(phases).toEqual(['running']);
    finish();
    await done;
    expect(phases).toEqual(['running', 'finished']);
  });

  it("goes back to 'finished' when the work throws, and leaves the phase alone after an abort", async () => {
    const phases: string[] = [];
    await expect(whileRunning((p) => phases.push(p), () => Promise.reject(new Error('x')), () => false)).rejects.toThrow('x');
    expect(phases).toEqual(['running', 'finished']);

    const afterAbort: string[] = [];
    await whileRunning((p) => afterAbort.push(p), () => Promise.resolve(), () => true);
    expect(afterAbort).toEqual(['running']);
  });
});
