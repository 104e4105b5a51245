import { api } from '@/lib/api-client';

interface StreamResponse {
  url: string;
  expiresAt?: string | number;
}

interface CachedUrl {
  url: string;
  /** Epoch ms; Infinity when the service did not say. */
  expiresAt: number;
}

const cache = new Map<string, CachedUrl>();
const inflight = new Map<string, Promise<string>>();
/** Treat a URL as stale this long before it actually expires. */
const EXPIRY_MARGIN_MS = 30_000;

function parseExpiry(value: StreamResponse['expiresAt']): number {
  if (value === undefined || value === null) return Number.POSITIVE_INFINITY;
  if (typeof value === 'number') return value < 1e12 ? value * 1000 : value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

export function isFresh(songId: string, url: string): boolean {
  const entry = cache.get(songId);
  return !!entry && entry.url === url && entry.expiresAt - EXPIRY_MARGIN_MS > Date.now();
}

/** A signed CDN URL for a song (`GET /api/song/stream/{id}`, bearer token required). */
export async function getStreamUrl(songId: string, opts: { force?: boolean } = {}): Promise<string> {
  const entry = cache.get(songId);
  if (!opts.force && entry && entry.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return entry.url;
  const pending = inflight.get(songId);
  if (pending && !opts.force) return pending;
  const request = api
    .get<StreamResponse>(`/api/song/stream/${encodeURIComponent(songId)}`)
    .then((res) => {
      cache.set(songId, { url: res.url, expiresAt: parseExpiry(res.expiresAt) });
      return res.url;
    })
    .finally(() => {
      if (inflight.get(songId) === request) inflight.delete(songId);
    });
  inflight.set(songId, request);
  return request;
}

export function clearStreamCache(): void {
  cache.clear();
  inflight.clear();
}
