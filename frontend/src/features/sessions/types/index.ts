export interface Session {
  id: string;
  userAgent?: string | null;
  ip?: string | null;
  createdAt: string;
  lastUsedAt?: string | null;
  current: boolean;
}
