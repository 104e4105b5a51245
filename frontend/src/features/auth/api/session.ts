import { api, configureAuth } from '@/lib/api-client';
import { useAuthStore } from '../stores/auth-store';
import type { CheckAuthResponse, LoginResponse, User } from '../types';

let inflightRefresh: Promise<string | null> | null = null;

/**
 * Single-flight refresh: every caller that arrives while a refresh is running
 * shares its promise, so N concurrent 401s cost exactly one rotation of the
 * refresh cookie (a second rotation would present an already-rotated token).
 * Resolves to the new access token, or null after clearing the session.
 */
export function refreshAccessToken(): Promise<string | null> {
  inflightRefresh ??= runRefresh().finally(() => {
    inflightRefresh = null;
  });
  return inflightRefresh;
}

async function runRefresh(): Promise<string | null> {
  try {
    const { accessToken } = await api.post<{ accessToken: string }>('/api/user/refresh-token', undefined, { auth: false });
    if (!accessToken) throw new Error('refresh returned no token');
    useAuthStore.getState().setAccessToken(accessToken);
    return accessToken;
  } catch {
    useAuthStore.getState().signedOut();
    return null;
  }
}

/** Wires the API client to this store. Call once at start-up (and in tests). */
export function installAuth(): void {
  configureAuth({
    getAccessToken: () => useAuthStore.getState().accessToken,
    refreshAccessToken,
    onAuthLost: () => {
      if (useAuthStore.getState().status !== 'anonymous') useAuthStore.getState().signedOut();
    },
  });
}

/** Called on app load: silently restore the session from the refresh cookie. */
export async function restoreSession(): Promise<User | null> {
  const token = await refreshAccessToken();
  if (!token) return null;
  try {
    const { user } = await api.get<CheckAuthResponse>('/api/user/check-auth');
    useAuthStore.getState().setUser(user);
    return user;
  } catch {
    // A token that check-auth refuses is as good as none: start signed out.
    useAuthStore.getState().signedOut();
    return null;
  }
}

export async function login(email: string, password: string): Promise<User> {
  const res = await api.post<LoginResponse>('/api/user/login', { email, password }, { auth: false });
  const user: User = {
    id: res.userData.sub,
    email: res.userData.email,
    isVerified: res.userData.isVerified,
    role: res.userData.role,
  };
  useAuthStore.getState().setSession(res.accessToken, user);
  return user;
}

/** Ends this session on the server (best effort) and always clears local state. */
export async function logout(): Promise<void> {
  try {
    await api.post('/api/user/logout', undefined, { auth: true });
  } catch {
    // The local session ends regardless.
  } finally {
    useAuthStore.getState().signedOut('logout');
  }
}

export async function logoutAll(): Promise<void> {
  try {
    await api.post('/api/user/logout-all');
  } finally {
    useAuthStore.getState().signedOut('logout');
  }
}
