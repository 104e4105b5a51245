/**
 * Moving item `from` to index `to` of a list, as the server needs it: the
 * entry to move and the entry it goes before (null: the end).
 */
export function moveTarget<T>(items: T[], from: number, to: number): { item: T; before: T | null } | null {
  if (from === to || from < 0 || from >= items.length || to < 0 || to >= items.length) return null;
  const rest = items.filter((_, i) => i !== from);
  return { item: items[from] as T, before: rest[to] ?? null };
}

/** The list after that move (what the page shows before the server answers). */
export function moved<T>(items: T[], from: number, to: number): T[] {
  const out = [...items];
  const [item] = out.splice(from, 1);
  out.splice(to, 0, item as T);
  return out;
}

/** Up to four distinct covers, in list order: a playlist's mosaic. */
export function coverMosaic(covers: (string | null | undefined)[]): string[] {
  const out: string[] = [];
  for (const c of covers) {
    if (c && !out.includes(c)) out.push(c);
    if (out.length === 4) break;
  }
  return out;
}
