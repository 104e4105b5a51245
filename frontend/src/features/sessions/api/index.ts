import { api } from '@/lib/api-client';
import type { Session } from '../types';

export const listSessions = (signal?: AbortSignal) =>
  api.get<{ sessions: Session[] }>('/api/user/sessions', { signal }).then((r) => r.sessions ?? []);

export const endSession = (id: string) => api.delete(`/api/user/sessions/${encodeURIComponent(id)}`);

/**
 * There is no "all but this one" route, so end each other session. Returns the
 * ids that could not be ended.
 */
export async function endOtherSessions(sessions: Session[]): Promise<string[]> {
  const others = sessions.filter((s) => !s.current);
  const results = await Promise.allSettled(others.map((s) => endSession(s.id)));
  return others.filter((_, i) => results[i]?.status === 'rejected').map((s) => s.id);
}
