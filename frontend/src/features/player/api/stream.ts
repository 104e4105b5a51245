import { api } from '@/lib/api-client';

interface StreamResponse {
  url: string;
  expiresAt?: string | number;
}

/** A signed URL and when it stops working (epoch ms; Infinity when the service did not say). */
export interface StreamUrl {
  url: string;
  expiresAt: number;
}

const cache = new Map<string, StreamUrl>();
const inflight = new Map<string, Promise<StreamUrl>>();
/** Treat a URL as stale this long before it actually expires. */
const EXPIRY_MARGIN_MS = 30_000;

function parseExpiry(value: StreamResponse['expiresAt']): number {
  if (value === undefined || value === null) return Number.POSITIVE_INFINITY;
  if (typeof value === 'number') return value < 1e12 ? value * 1000 : value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

/**
 * A signed CDN URL for a song (`GET /api/song/stream/{id}`, bearer token
 * required). A cached URL is reused until 30 s before it expires; `force`
 * always asks the service (the cached one was refused).
 */
export async function getStream(songId: string, opts: { force?: boolean } = {}): Promise<StreamUrl> {
  const entry = cache.get(songId);
  if (!opts.force && entry && entry.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return entry;
  const pending = inflight.get(songId);
  if (pending && !opts.force) return pending;
  const request = api
    .get<StreamResponse>(`/api/song/stream/${encodeURIComponent(songId)}`)
    .then((res) => {
      const fresh = { url: res.url, expiresAt: parseExpiry(res.expiresAt) };
      cache.set(songId, fresh);
      return fresh;
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
