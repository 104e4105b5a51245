import { describe, expect, it } from 'vitest';
import { coverMosaic, moved, moveTarget } from './reorder';

describe('moveTarget', () => {
  const list = ['a', 'b', 'c', 'd'];
  it('names the entry a moved one goes before, or the end', () => {
    expect(moveTarget(list, 3, 0)).toEqual({ item: 'd', before: 'a' });
    expect(moveTarget(list, 0, 1)).toEqual({ item: 'a', before: 'c' });
    expect(moveTarget(list, 1, 3)).toEqual({ item: 'b', before: null });
    expect(moveTarget(list, 2, 2)).toBeNull();
    expect(moveTarget(list, 0, 4)).toBeNull();
  });
  it('agrees with the list the page shows', () => {
    for (let from = 0; from < list.length; from++) {
      for (let to = 0; to < list.length; to++) {
        const t = moveTarget(list, from, to);
        if (!t) continue;
        const after = moved(list, from, to);
        const at = after.indexOf(t.item);
        expect(after[at + 1] ?? null).toBe(t.before);
      }
    }
  });
});

describe('coverMosaic', () => {
  it('keeps the first four distinct covers', () => {
    expect(coverMosaic(['x', 'x', null, 'y', 'z', 'y', 'w', 'v'])).toEqual(['x', 'y', 'z', 'w']);
    expect(coverMosaic([undefined])).toEqual([]);
  });
});
