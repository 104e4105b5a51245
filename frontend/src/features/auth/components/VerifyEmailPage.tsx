import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Spinner } from '@/components/ui';
import { errorMessage } from '@/lib/api-client';
import { verifyEmail } from '../api/account';
import { useAuthStore } from '../stores/auth-store';
import { AuthCard, FormError, Notice } from './AuthCard';

export function VerifyEmailPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [state, setState] = useState<{ status: 'pending' | 'ok' | 'error'; message: string }>({ status: 'pending', message: '' });
  const started = useRef<string | null>(null);

  useEffect(() => {
    if (!token) {
      setState({ status: 'error', message: 'This link is missing its token.' });
      return;
    }
    if (started.current === token) return; // tokens are single-use: never send twice
    started.current = token;
    verifyEmail(token)
      .then((res) => {
        setState({ status: 'ok', message: res.message ?? 'Your email is verified.' });
        const { user, setUser } = useAuthStore.getState();
        if (user) setUser({ ...user, isVerified: true });
      })
      .catch((err: unknown) => setState({ status: 'error', message: errorMessage(err, 'This link is invalid or has expired.') }));
  }, [token]);

  return (
    <AuthCard title="Email verification">
      <div data-testid="verify-email-result" data-status={state.status} className="flex flex-col gap-4">
        {state.status === 'pending' && (
          <p className="flex items-center gap-3 text-fg-muted">
            <Spinner size={18} label="" /> Verifying your email…
          </p>
        )}
        {state.status === 'ok' && (
          <>
            <Notice>{state.message}</Notice>
            <Link to="/" className="text-sm font-semibold text-accent focus-ring">
              Start listening →
            </Link>
          </>
        )}
        {state.status === 'error' && (
          <>
            <FormError message={state.message} />
            <Link to="/resend-verification" className="text-sm font-semibold text-accent focus-ring">
              Send a new verification link
            </Link>
          </>
        )}
      </div>
    </AuthCard>
  );
}
