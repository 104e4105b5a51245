import { useState, type FormEvent } from 'react';
import { Link, Navigate, useLocation, useNavigate } from 'react-router';
import { Button, Input, toast } from '@/components/ui';
import { login } from '../api/session';
import { useSubmit } from '../hooks/useSubmit';
import { useAuthStore } from '../stores/auth-store';
import { AuthCard, FormError } from './AuthCard';

/** Only same-app paths are honoured as a return target. */
export function safeReturnPath(value: unknown): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') ? value : '/';
}

export function LoginPage() {
  const navigate = useNavigate();
  const location = useLocation();
  const params = new URLSearchParams(location.search);
  const from = safeReturnPath((location.state as { from?: string } | null)?.from ?? params.get('returnTo'));
  const status = useAuthStore((s) => s.status);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');

  const { submit, pending, fieldErrors, formError } = useSubmit(async () => {
    const user = await login(email.trim(), password);
    toast.clearErrors();
    void navigate(user.isVerified ? from : '/account?unverified=1', { replace: true });
  });

  if (status === 'authenticated' && !pending) return <Navigate to={from} replace />;

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit();
  };

  return (
    <AuthCard
      title="Log in to Cadenza"
      footer={
        <>
          New here?{' '}
          <Link to="/register" className="font-semibold text-fg underline-offset-4 hover:underline focus-ring">
            Create an account
          </Link>
        </>
      }
    >
      <form onSubmit={onSubmit} className="flex flex-col gap-4" noValidate data-testid="login-form">
        <FormError message={formError} />
        <Input
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={fieldErrors.email}
          data-testid="login-email"
        />
        <Input
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fieldErrors.password}
          data-testid="login-password"
        />
        <Button type="submit" size="lg" loading={pending} data-testid="login-submit">
          Log in
        </Button>
        <div className="flex justify-between text-sm">
          <Link to="/forgot-password" className="text-fg-muted hover:text-fg focus-ring">
            Forgot password?
          </Link>
          <Link to="/resend-verification" className="text-fg-muted hover:text-fg focus-ring">
            Resend verification
          </Link>
        </div>
      </form>
    </AuthCard>
  );
}
