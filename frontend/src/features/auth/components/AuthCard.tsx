import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { MusicIcon } from '@/components/ui';

export function AuthCard({ title, subtitle, children, footer }: { title: string; subtitle?: ReactNode; children: ReactNode; footer?: ReactNode }) {
  return (
    <div className="flex min-h-dvh items-center justify-center bg-[radial-gradient(ellipse_at_top,rgba(52,211,153,0.18),transparent_60%)] px-4 py-10">
      <div className="w-full max-w-sm">
        <Link to="/" className="mb-8 flex items-center justify-center gap-2 rounded-md text-xl font-extrabold tracking-tight focus-ring">
          <MusicIcon className="text-accent" size={28} />
          Cadenza
        </Link>
        <main className="rounded-2xl border border-white/10 bg-surface-1 p-6 shadow-2xl sm:p-8">
          <h1 className="text-2xl font-bold">{title}</h1>
          {subtitle && <p className="mt-2 text-sm text-fg-muted">{subtitle}</p>}
          <div className="mt-6">{children}</div>
        </main>
        {footer && <div className="mt-6 text-center text-sm text-fg-muted">{footer}</div>}
      </div>
    </div>
  );
}

export function FormError({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <p role="alert" className="rounded-lg border border-red-400/40 bg-red-500/10 px-3 py-2 text-sm text-red-300">
      {message}
    </p>
  );
}

export function Notice({ children }: { children: ReactNode }) {
  return (
    <div role="status" className="rounded-lg border border-accent/30 bg-accent/10 px-3 py-3 text-sm text-fg">
      {children}
    </div>
  );
}
