import type { Role } from '@/types/catalog';

export interface User {
  id: string;
  email: string;
  isVerified: boolean;
  role: Role;
}

export type AuthStatus = 'unknown' | 'authenticated' | 'anonymous';

export interface LoginResponse {
  message: string;
  userData: { sub: string; isVerified: boolean; email: string; role: Role };
  accessToken: string;
}

export interface CheckAuthResponse {
  message: string;
  user: User;
}
