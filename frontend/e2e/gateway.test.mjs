// The local gateway (dev.d/gateway/nginx.conf.tmpl), over plain HTTP: routing,
// SPA fallback, cache headers, gzip, request ids, and what must not leak.
import assert from 'node:assert/strict';
import { test } from '@playwright/test';
import { BASE_URL } from './lib.mjs';

const get = (path, headers = {}) => fetch(`${BASE_URL}${path}`, { headers, redirect: 'manual' });

test.describe('gateway', () => {
  test('serves the app with no-cache and a CSP, and falls back to it for client routes', async () => {
    const index = await get('/');
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const html = await index.text();
    for (const route of ['/album/123', '/verify-email?token=abc', '/admin?tab=songs']) {
      const res = await get(route);
      assert.equal(res.status, 200, route);
      assert.equal(await res.text(), html, `${route} is the app`);
    }
  });

  test('caches hashed bundles for a year, gzips them, and hides source maps', async () => {
    const html = await (await get('/')).text();
    const js = html.match(/\/assets\/[^"]+\.js/)?.[0];
    assert.ok(js, 'index.html references a bundle');
    const res = await get(js, { 'accept-encoding': 'gzip' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('cache-control') ?? '', /max-age=31536000.*immutable/);
    assert.equal(res.headers.get('content-encoding'), 'gzip');
    assert.equal((await get(`${js}.map`)).status, 404);
    assert.equal((await get('/assets/missing-deadbeef.js')).status, 404, 'a missing asset is a 404, not the app');
  });

  test('passes song-svc\'s own compressed catalogue bodies through, never compressing them again', async () => {
    const plain = await get('/api/song/', { 'accept-encoding': 'identity' });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get('content-encoding'), null);
    const songs = await plain.json();
    assert.ok(Array.isArray(songs) && songs.length > 0, 'the demo catalogue has songs');
    // nginx has no brotli here: a br answer is song-svc's, and one coding
    // only means the gateway left it alone; the body decodes to the same JSON.
    for (const [accept, coding] of [['br, gzip', 'br'], ['gzip', 'gzip']]) {
      const res = await get('/api/song/', { 'accept-encoding': accept });
      assert.equal(res.status, 200, accept);
      assert.equal(res.headers.get('content-encoding'), coding, accept);
      assert.match(res.headers.get('vary') ?? '', /accept-encoding/i, accept);
      assert.deepEqual(await res.json(), songs, `${accept}: decodes once to the same body`);
    }
  });

  test('routes each API prefix to its service, keeping the full path', async () => {
    const jwks = await get('/api/user/.well-known/jwks.json');
    assert.equal(jwks.status, 200);
    assert.ok(Array.isArray((await jwks.json()).keys));
    const albums = await get('/api/song/album');
    assert.equal(albums.status, 200);
    assert.ok(Array.isArray((await albums.json()).albums));
    const admin = await get('/api/admin/album');
    assert.equal(admin.status, 401, 'admin-svc answers (no token)');
  });

  test('answers unknown API paths with problem+json, never the app', async () => {
    const res = await get('/api/nope/thing');
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal((await res.json()).status, 404);
  });

  test('never exposes the services’ probes or metrics', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/api/user/../metrics', '/api/song/%2e%2e/metrics']) {
      const res = await get(path);
      const body = await res.text();
      assert.doesNotMatch(body, /# (HELP|TYPE) /, `${path} leaked metrics`);
      assert.doesNotMatch(body, /"status"\s*:\s*"ok"/, `${path} leaked a probe`);
    }
  });

  test('passes a well-formed X-Request-Id through once, and replaces a malformed one', async () => {
    const ok = await get('/api/song/album', { 'x-request-id': 'e2e-req-42' });
    assert.equal(ok.headers.get('x-request-id'), 'e2e-req-42');
    const bad = await get('/api/song/album', { 'x-request-id': 'bad id {}' });
    assert.match(bad.headers.get('x-request-id') ?? '', /^[0-9a-f]{32}$/);
  });

  test('refuses large API bodies with problem+json', async () => {
    const res = await fetch(`${BASE_URL}/api/user/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'x@example.com', password: 'p'.repeat(200_000) }),
    });
    assert.equal(res.status, 413);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  });
});
