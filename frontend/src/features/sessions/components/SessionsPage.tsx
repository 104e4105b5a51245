import { useState } from 'react';
import { Button, ConfirmModal, PageSpinner, toast } from '@/components/ui';
import { errorMessage } from '@/lib/api-client';
import { formatDate } from '@/lib/format';
import { useAsync } from '@/lib/use-async';
import { cn } from '@/lib/cn';
import { endOtherSessions, endSession, listSessions } from '../api';
import type { Session } from '../types';
import { describeAgent } from './describeAgent';

type Pending = { kind: 'one'; session: Session } | { kind: 'others' } | { kind: 'all' } | null;

/**
 * `onLogoutAll` ends every session including this one (the auth feature's
 * `logoutAll`, passed in by app/: features do not import each other).
 */
export function SessionsPage({ onLogoutAll }: { onLogoutAll: () => Promise<void> }) {
  const { data: sessions, error, loading, setData, reload } = useAsync((signal) => listSessions(signal));
  const [confirm, setConfirm] = useState<Pending>(null);
  const [busy, setBusy] = useState(false);

  const list = sessions ?? [];
  const sorted = [...list].sort((a, b) => Number(b.current) - Number(a.current) || (b.lastUsedAt ?? b.createdAt).localeCompare(a.lastUsedAt ?? a.createdAt));
  const othersCount = list.filter((s) => !s.current).length;

  const run = async () => {
    if (!confirm) return;
    setBusy(true);
    try {
      if (confirm.kind === 'one') {
        await endSession(confirm.session.id);
        setData((prev) => prev?.filter((s) => s.id !== confirm.session.id));
        toast.success('Session signed out.');
      } else if (confirm.kind === 'others') {
        const failed = await endOtherSessions(list);
        setData((prev) => prev?.filter((s) => s.current || failed.includes(s.id)));
        if (failed.length) toast.error(`${failed.length} session(s) could not be signed out.`);
        else toast.success('Signed out of every other device.');
      } else {
        await onLogoutAll(); // ends this session too; the guard sends us to /login
        return;
      }
    } catch (err) {
      toast.error(errorMessage(err));
      reload();
    } finally {
      setBusy(false);
      setConfirm(null);
    }
  };

  return (
    <div className="flex flex-col gap-6">
      <header className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-3xl font-bold">Sessions</h1>
          <p className="mt-1 text-fg-muted">Devices where your account is signed in.</p>
        </div>
        <div className="flex flex-wrap gap-2">
          <Button variant="secondary" disabled={othersCount === 0} onClick={() => setConfirm({ kind: 'others' })} data-testid="sessions-end-others">
            Sign out everywhere else
          </Button>
          <Button variant="danger" onClick={() => setConfirm({ kind: 'all' })} data-testid="sessions-logout-all">
            Sign out everywhere
          </Button>
        </div>
      </header>

      {loading && !sessions ? (
        <PageSpinner />
      ) : error ? (
        <p role="alert" className="text-red-300">
          {errorMessage(error)}
        </p>
      ) : (
        <ul className="flex flex-col gap-2" data-testid="sessions-list">
          {sorted.map((s) => (
            <li
              key={s.id}
              data-testid="session-item"
              data-current={s.current}
              className={cn('flex flex-wrap items-center gap-4 rounded-xl border bg-surface-1 px-4 py-3', s.current ? 'border-accent/40' : 'border-white/10')}
            >
              <div className="min-w-0 flex-1">
                <p className="font-semibold">
                  {describeAgent(s.userAgent)}
                  {s.current && <span className="ml-2 rounded-full bg-accent/15 px-2 py-0.5 text-xs font-semibold text-accent">This device</span>}
                </p>
                <p className="truncate text-xs text-fg-muted" title={s.userAgent ?? undefined}>
                  {s.ip ?? 'Unknown IP'} · signed in {formatDate(s.createdAt)}
                  {s.lastUsedAt && ` · last active ${formatDate(s.lastUsedAt)}`}
                </p>
              </div>
              {!s.current && (
                <Button variant="ghost" size="sm" onClick={() => setConfirm({ kind: 'one', session: s })} aria-label={`Sign out ${describeAgent(s.userAgent)} (${s.ip ?? 'unknown IP'})`}>
                  Sign out
                </Button>
              )}
            </li>
          ))}
          {sorted.length === 0 && <li className="text-fg-muted">No sessions.</li>}
        </ul>
      )}

      <ConfirmModal
        open={confirm !== null}
        busy={busy}
        title={confirm?.kind === 'all' ? 'Sign out everywhere?' : confirm?.kind === 'others' ? 'Sign out every other device?' : 'Sign out this session?'}
        message={
          confirm?.kind === 'all'
            ? 'Every session, including this one, will be signed out.'
            : confirm?.kind === 'others'
              ? `${othersCount} other session(s) will be signed out. This device stays signed in.`
              : 'That device will need to log in again.'
        }
        confirmLabel="Sign out"
        onConfirm={() => void run()}
        onCancel={() => setConfirm(null)}
      />
    </div>
  );
}
