import { create } from 'zustand';
import type { AuthStatus, User } from '../types';

/**
 * Session state. The access token lives here, in memory only: it is never
 * written to localStorage or sessionStorage. A reload restores it from the
 * HttpOnly refresh cookie (see `restoreSession`).
 */
interface AuthState {
  status: AuthStatus;
  accessToken: string | null;
  user: User | null;
  setSession: (accessToken: string, user: User | null) => void;
  setAccessToken: (accessToken: string) => void;
  setUser: (user: User) => void;
  signedOut: () => void;
}

export const useAuthStore = create<AuthState>()((set) => ({
  status: 'unknown',
  accessToken: null,
  user: null,
  setSession: (accessToken, user) => set({ accessToken, user, status: 'authenticated' }),
  setAccessToken: (accessToken) => set({ accessToken }),
  setUser: (user) => set({ user, status: 'authenticated' }),
  signedOut: () => set({ accessToken: null, user: null, status: 'anonymous' }),
}));
