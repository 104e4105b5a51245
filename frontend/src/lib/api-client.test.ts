import { describe, expect, it, vi } from 'vitest';
import { api, ApiError } from './api-client';

const respond = (status: number, body: unknown, type = 'application/problem+json') =>
  vi.stubGlobal('fetch', vi.fn(async () => new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': type } })));

describe('api client', () => {
  it('turns problem+json into an ApiError with message and field errors', async () => {
    respond(422, {
      type: 'about:blank',
      title: 'Unprocessable',
      status: 422,
      detail: 'Invalid input',
      message: 'Invalid input',
      errors: [
        { field: 'password', message: 'Too common' },
        { field: 'password', message: 'second message ignored' },
        { field: 'email', message: 'Not an email' },
      ],
    });
    const err = await api.post('/api/user/register', { email: 'x', password: 'y' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(422);
    expect((err as ApiError).message).toBe('Invalid input');
    expect((err as ApiError).fieldMap()).toEqual({ password: 'Too common', email: 'Not an email' });
  });

  it('falls back to the seed-style {error} body and then to a status message', async () => {
    respond(401, { error: 'No token provided' }, 'application/json');
    await expect(api.get('/x')).rejects.toMatchObject({ message: 'No token provided' });
    respond(503, undefined);
    await expect(api.get('/x')).rejects.toMatchObject({ status: 503, message: 'The server had a problem. Please try again.' });
  });

  it('sends JSON with credentials and encodes query parameters; 204 resolves empty', async () => {
    const fetchMock = vi.fn(async () => new Response(null, { status: 204 }));
    vi.stubGlobal('fetch', fetchMock);
    await expect(api.get('/api/song/search', { query: { q: 'a&b c', cursor: undefined } })).resolves.toBeUndefined();
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/song/search?q=a%26b+c');
    expect(init.credentials).toBe('include');
  });

  it('reports network failure as status 0', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    await expect(api.get('/x')).rejects.toMatchObject({ status: 0 });
  });
});
