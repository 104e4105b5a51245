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
  /** Why the last session ended: the user logged out, or it could not be renewed. */
  endReason: 'logout' | 'expired' | null;
  setSession: (accessToken: string, user: User | null) => void;
  setAccessToken: (accessToken: string) => void;
  setUser: (user: User) => void;
  signedOut: (reason?: 'logout' | 'expired') => void;
}

export const useAuthStore = create<AuthState>()((set) => ({
  status: 'unknown',
  accessToken: null,
  user: null,
  endReason: null,
  setSession: (accessToken, user) => set({ accessToken, user, status: 'authenticated', endReason: null }),
  setAccessToken: (accessToken) => set({ accessToken }),
  setUser: (user) => set({ user, status: 'authenticated', endReason: null }),
  signedOut: (reason = 'expired') => set({ accessToken: null, user: null, status: 'anonymous', endReason: reason }),
}));
