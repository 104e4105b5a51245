import { beforeEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError } from '@/lib/api-client';
import { useAuthStore } from '../stores/auth-store';
import { installAuth, login, logout, refreshAccessToken, restoreSession } from './session';

/**
 * A fake of the user service at the network boundary: only `fetch` is stubbed.
 * `/api/data` answers 401 unless it sees the currently valid token.
 */
function fakeServer(opts: { refreshOk?: boolean; refreshDelayMs?: number } = {}) {
  let validToken = 'fresh-token';
  const calls: Array<{ url: string; method: string; auth: string | null; credentials?: string }> = [];
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  const problem = (status: number, message: string) =>
    new Response(JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status, detail: message, message }), {
      status,
      headers: { 'Content-Type': 'application/problem+json' },
    });

  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const headers = new Headers(init?.headers);
    const authz = headers.get('Authorization');
    calls.push({ url, method: init?.method ?? 'GET', auth: authz, credentials: init?.credentials });
    if (url === '/api/user/refresh-token') {
      await new Promise((r) => setTimeout(r, opts.refreshDelayMs ?? 10));
      if (opts.refreshOk === false) return problem(401, 'Session expired');
      return json(200, { accessToken: validToken });
    }
    if (url === '/api/user/check-auth') {
      if (authz !== `Bearer ${validToken}`) return problem(401, 'Token expired');
      return json(200, { message: 'success', user: { id: 'u1', email: 'a@b.c', isVerified: true, role: 'admin' } });
    }
    if (url === '/api/user/login') {
      return json(200, {
        message: 'ok',
        userData: { sub: 'u1', email: 'a@b.c', isVerified: false, role: 'user' },
        accessToken: validToken,
      });
    }
    if (url === '/api/user/logout') return json(200, { message: 'bye' });
    if (url.startsWith('/api/data')) {
      if (authz !== `Bearer ${validToken}`) return problem(401, 'Token expired');
      return json(200, { url });
    }
    return problem(404, 'nope');
  });
  vi.stubGlobal('fetch', fetchMock);
  return {
    calls,
    refreshCalls: () => calls.filter((c) => c.url === '/api/user/refresh-token'),
    rotate: (t: string) => {
      validToken = t;
    },
  };
}

beforeEach(() => {
  installAuth();
  useAuthStore.setState({ status: 'authenticated', accessToken: 'stale-token', user: { id: 'u1', email: 'a@b.c', isVerified: true, role: 'user' } });
});

describe('single-flight refresh on 401', () => {
  it('N concurrent 401s cause exactly one refresh, and every request is retried once', async () => {
    const server = fakeServer();
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => api.get<{ url: string }>(`/api/data/${i}`)));

    expect(results.map((r) => r.url)).toEqual(Array.from({ length: 6 }, (_, i) => `/api/data/${i}`));
    expect(server.refreshCalls()).toHaveLength(1);
    expect(server.refreshCalls()[0]?.credentials).toBe('include');
    for (let i = 0; i < 6; i++) {
      const attempts = server.calls.filter((c) => c.url === `/api/data/${i}`);
      expect(attempts.map((a) => a.auth)).toEqual(['Bearer stale-token', 'Bearer fresh-token']);
    }
    expect(useAuthStore.getState().accessToken).toBe('fresh-token');
    expect(useAuthStore.getState().status).toBe('authenticated');
  });

  it('a 401 that lands after another request already refreshed does not refresh again', async () => {
    const server = fakeServer({ refreshDelayMs: 1 });
    await api.get('/api/data/first');
    expect(server.refreshCalls()).toHaveLength(1);

    // A request sent with the old token whose 401 arrives after the refresh.
    useAuthStore.setState({ accessToken: 'stale-token' });
    const late = api.get('/api/data/late');
    useAuthStore.setState({ accessToken: 'fresh-token' });
    await late;
    expect(server.refreshCalls()).toHaveLength(1);
  });

  it('refresh failure clears the session and rejects every waiting request with 401', async () => {
    const server = fakeServer({ refreshOk: false });
    const settled = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => api.get(`/api/data/${i}`)));

    expect(server.refreshCalls()).toHaveLength(1);
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      const reason = (s as PromiseRejectedResult).reason as ApiError;
      expect(reason).toBeInstanceOf(ApiError);
      expect(reason.status).toBe(401);
      expect(reason.message).toBe('Token expired');
    }
    const state = useAuthStore.getState();
    expect(state).toMatchObject({ status: 'anonymous', accessToken: null, user: null, endReason: 'expired' });
    // No request was retried after the failed refresh.
    expect(server.calls.filter((c) => c.url.startsWith('/api/data'))).toHaveLength(4);
  });

  it('a later refresh after a finished one starts a new round trip', async () => {
    const server = fakeServer();
    await refreshAccessToken();
    server.rotate('newer-token');
    await expect(refreshAccessToken()).resolves.toBe('newer-token');
    expect(server.refreshCalls()).toHaveLength(2);
  });

  it('requests without a token are not refreshed', async () => {
    const server = fakeServer();
    useAuthStore.setState({ accessToken: null, status: 'anonymous', user: null });
    await expect(api.get('/api/data/x')).rejects.toMatchObject({ status: 401 });
    expect(server.refreshCalls()).toHaveLength(0);
  });
});

describe('session lifecycle', () => {
  it('restoreSession refreshes from the cookie, then loads the user', async () => {
    const server = fakeServer();
    useAuthStore.setState({ status: 'unknown', accessToken: null, user: null });
    const [a, b] = await Promise.all([restoreSession(), restoreSession()]); // StrictMode double effect
    expect(a?.role).toBe('admin');
    expect(b?.id).toBe('u1');
    expect(server.refreshCalls()).toHaveLength(1);
    expect(useAuthStore.getState()).toMatchObject({ status: 'authenticated', accessToken: 'fresh-token' });
    expect(server.calls.find((c) => c.url === '/api/user/check-auth')?.auth).toBe('Bearer fresh-token');
  });

  it('restoreSession without a valid cookie ends anonymous', async () => {
    fakeServer({ refreshOk: false });
    useAuthStore.setState({ status: 'unknown', accessToken: null, user: null });
    await expect(restoreSession()).resolves.toBeNull();
    expect(useAuthStore.getState().status).toBe('anonymous');
  });

  it('login keeps the token in memory only, and logout clears it after telling the server', async () => {
    const server = fakeServer();
    const storage = vi.fn();
    vi.stubGlobal('localStorage', { setItem: storage, getItem: storage });
    useAuthStore.setState({ status: 'anonymous', accessToken: null, user: null });
    const user = await login('a@b.c', 'pw-123456');
    expect(user).toEqual({ id: 'u1', email: 'a@b.c', isVerified: false, role: 'user' });
    expect(useAuthStore.getState().accessToken).toBe('fresh-token');
    expect(server.calls.find((c) => c.url === '/api/user/login')?.credentials).toBe('include');
    await logout();
    expect(server.calls.find((c) => c.url === '/api/user/logout')?.auth).toBe('Bearer fresh-token');
    expect(useAuthStore.getState()).toMatchObject({ status: 'anonymous', accessToken: null, endReason: 'logout' });
    expect(storage).not.toHaveBeenCalled();
  });
});
