/**
 * Same-origin JSON client for the Cadenza services.
 *
 * Errors arrive as RFC 9457 problem+json; they are turned into `ApiError`
 * carrying the human `message` and any per-field errors.
 *
 * Authentication is plugged in from outside (see `configureAuth`) so this module
 * knows nothing about how tokens are stored or renewed. On a 401 for a request
 * that carried a token, the client asks for a fresh token once and retries the
 * request once. If the token changed while the request was in flight (another
 * request already refreshed), it retries with the new token without refreshing.
 */

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly fieldErrors: FieldError[];
  readonly body: unknown;

  constructor(status: number, message: string, fieldErrors: FieldError[] = [], body?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.fieldErrors = fieldErrors;
    this.body = body;
  }

  /** Field errors keyed by field name (first message wins). */
  fieldMap(): Record<string, string> {
    const map: Record<string, string> = {};
    for (const e of this.fieldErrors) map[e.field] ??= e.message;
    return map;
  }
}

export interface AuthHandlers {
  getAccessToken: () => string | null;
  /** Returns a fresh access token, or null when the session cannot be renewed. */
  refreshAccessToken: () => Promise<string | null>;
  /** Called when a 401 could not be recovered by refreshing. */
  onAuthLost: () => void;
}

let auth: AuthHandlers = {
  getAccessToken: () => null,
  refreshAccessToken: () => Promise.resolve(null),
  onAuthLost: () => {},
};

export function configureAuth(handlers: AuthHandlers): void {
  auth = handlers;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal;
  /** Attach the bearer token and recover from 401 (default true). */
  auth?: boolean;
  /** Extra request headers (e.g. `If-Match`). */
  headers?: Record<string, string>;
}

export function errorMessage(err: unknown, fallback = 'Something went wrong'): string {
  if (err instanceof ApiError || err instanceof Error) return err.message || fallback;
  return fallback;
}

async function parseError(res: Response): Promise<ApiError> {
  let body: unknown;
  try {
    const text = await res.text();
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const obj = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const message =
    (typeof obj.message === 'string' && obj.message) ||
    (typeof obj.detail === 'string' && obj.detail) ||
    (typeof obj.error === 'string' && obj.error) ||
    (typeof obj.title === 'string' && obj.title) ||
    defaultMessage(res.status);
  const errors = Array.isArray(obj.errors)
    ? obj.errors
        .filter(
          (e): e is FieldError =>
            !!e && typeof e === 'object' && typeof (e as FieldError).field === 'string' && typeof (e as FieldError).message === 'string',
        )
        .map((e) => ({ field: e.field, message: e.message }))
    : [];
  return new ApiError(res.status, message, errors, body);
}

function defaultMessage(status: number): string {
  if (status === 401) return 'Please sign in again.';
  if (status === 403) return 'You are not allowed to do that.';
  if (status === 404) return 'Not found.';
  if (status === 429) return 'Too many attempts. Please wait a moment and try again.';
  if (status >= 500) return 'The server had a problem. Please try again.';
  return `Request failed (${status})`;
}

function buildUrl(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
}

async function send(url: string, opts: RequestOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json', ...opts.headers };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(url, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: 'include',
      signal: opts.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'Cannot reach the server. Check your connection.');
  }
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const url = buildUrl(path, opts.query);
  const useAuth = opts.auth !== false;
  const token = useAuth ? auth.getAccessToken() : null;
  let res = await send(url, opts, token);

  if (res.status === 401 && useAuth && token) {
    const current = auth.getAccessToken();
    const fresh = current && current !== token ? current : await auth.refreshAccessToken();
    if (fresh) {
      res = await send(url, opts, fresh);
    }
    if (res.status === 401) {
      auth.onAuthLost();
    }
  }

  if (!res.ok) throw await parseError(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const api = {
  get: <T>(path: string, opts?: Omit<RequestOptions, 'method' | 'body'>) => request<T>(path, { ...opts, method: 'GET' }),
  post: <T>(path: string, body?: unknown, opts?: Omit<RequestOptions, 'method' | 'body'>) =>
    request<T>(path, { ...opts, method: 'POST', body }),
  patch: <T>(path: string, body?: unknown, opts?: Omit<RequestOptions, 'method' | 'body'>) =>
    request<T>(path, { ...opts, method: 'PATCH', body }),
  put: <T>(path: string, body?: unknown, opts?: Omit<RequestOptions, 'method' | 'body'>) =>
    request<T>(path, { ...opts, method: 'PUT', body }),
  delete: <T = void>(path: string, opts?: Omit<RequestOptions, 'method' | 'body'>) =>
    request<T>(path, { ...opts, method: 'DELETE' }),
};
