import { describe, expect, it } from 'vitest';
import { LruCache } from './lru';

describe('LruCache', () => {
  it('drops the least recently used entry past its capacity', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1); // a is now the newest
    c.set('c', 3);
    expect(c.has('b')).toBe(false);
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
    expect(c.size).toBe(2);
  });

  it('keeps a stored null (a song without a waveform), and replaces on set', () => {
    const c = new LruCache<string, number | null>(3);
    c.set('x', null);
    expect(c.has('x')).toBe(true);
    expect(c.get('x')).toBeNull();
    c.set('x', 5);
    expect(c.get('x')).toBe(5);
    expect(c.size).toBe(1);
  });

  it('refuses a capacity below 1', () => {
    expect(() => new LruCache(0)).toThrow(RangeError);
  });
});
