/** Fisher–Yates shuffle of a copy; `random` is injectable for tests. */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}

/**
 * A play order over `length` queue indices that starts with `first`
 * and visits every other index exactly once, in random order.
 */
export function shuffledOrder(length: number, first: number, random: () => number = Math.random): number[] {
  const rest: number[] = [];
  for (let i = 0; i < length; i++) if (i !== first) rest.push(i);
  return length === 0 ? [] : [first, ...shuffled(rest, random)];
}

export function identityOrder(length: number): number[] {
  return Array.from({ length }, (_, i) => i);
}
