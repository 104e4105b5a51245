import type { ReactNode } from 'react';
import { Link, Navigate, useLocation } from 'react-router';
import { PageSpinner, ShieldIcon } from '@/components/ui';
import type { Role } from '@/types/catalog';
import { useAuthStore } from '../stores/auth-store';

/** Waits for session restore; sends anonymous visitors to /login with a return path. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const status = useAuthStore((s) => s.status);
  const location = useLocation();
  if (status === 'unknown') return <PageSpinner />;
  if (status === 'anonymous') {
    const from = `${location.pathname}${location.search}${location.hash}`;
    return <Navigate to={`/login?returnTo=${encodeURIComponent(from)}`} replace state={{ from }} />;
  }
  return <>{children}</>;
}

export function RequireRole({ role, children }: { role: Role; children: ReactNode }) {
  const user = useAuthStore((s) => s.user);
  if (!user) return <PageSpinner />;
  if (user.role !== role) return <NotAllowedPage />;
  return <>{children}</>;
}

export function NotAllowedPage() {
  return (
    <section className="mx-auto flex max-w-md flex-col items-center gap-4 py-20 text-center" data-testid="not-allowed">
      <ShieldIcon size={48} className="text-fg-subtle" />
      <p className="text-sm font-semibold uppercase tracking-widest text-fg-subtle">Error 403</p>
      <h1 className="text-3xl font-bold">Not allowed</h1>
      <p className="text-fg-muted">Your account does not have access to this page.</p>
      <Link to="/" className="rounded-full bg-white/10 px-5 py-2 text-sm font-semibold hover:bg-white/15 focus-ring">
        Back to home
      </Link>
    </section>
  );
}
