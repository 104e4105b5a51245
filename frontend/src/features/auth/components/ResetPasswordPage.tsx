import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Button, Input, PageSpinner } from '@/components/ui';
import { errorMessage } from '@/lib/api-client';
import { setPassword, validateResetToken } from '../api/account';
import { useSubmit, validatePassword } from '../hooks/useSubmit';
import { AuthCard, FormError, Notice } from './AuthCard';

export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [validity, setValidity] = useState<'checking' | 'valid' | 'invalid'>('checking');
  const [invalidReason, setInvalidReason] = useState('');
  const [password, setPw] = useState('');
  const [passwordAgain, setPwAgain] = useState('');
  const [done, setDone] = useState(false);

  useEffect(() => {
    if (!token) {
      setValidity('invalid');
      setInvalidReason('This link is missing its token.');
      return;
    }
    const ctrl = new AbortController();
    validateResetToken(token, ctrl.signal)
      .then(() => setValidity('valid'))
      .catch((err: unknown) => {
        if (ctrl.signal.aborted) return;
        setValidity('invalid');
        setInvalidReason(errorMessage(err, 'This reset link is invalid or has expired.'));
      });
    return () => ctrl.abort();
  }, [token]);

  const { submit, pending, fieldErrors, setFieldErrors, formError } = useSubmit(async () => {
    await setPassword(token, password, passwordAgain);
    setDone(true);
  });

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const pwError = validatePassword(password);
    const againError = password !== passwordAgain ? 'The passwords do not match.' : undefined;
    if (pwError || againError) {
      setFieldErrors({ ...(pwError ? { password: pwError } : {}), ...(againError ? { passwordAgain: againError } : {}) });
      return;
    }
    void submit();
  };

  if (validity === 'checking') return <PageSpinner />;

  return (
    <AuthCard title="Choose a new password">
      {validity === 'invalid' ? (
        <div className="flex flex-col gap-4" data-testid="reset-invalid">
          <FormError message={invalidReason} />
          <Link to="/forgot-password" className="text-sm font-semibold text-accent focus-ring">
            Request a new link
          </Link>
        </div>
      ) : done ? (
        <div className="flex flex-col gap-4">
          <Notice>Your password has been changed. Every other session was signed out.</Notice>
          <Link to="/login" className="text-sm font-semibold text-accent focus-ring">
            Log in →
          </Link>
        </div>
      ) : (
        <form onSubmit={onSubmit} className="flex flex-col gap-4" noValidate data-testid="reset-form">
          <FormError message={formError} />
          <Input
            label="New password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPw(e.target.value)}
            error={fieldErrors.password}
            hint="8–128 characters."
          />
          <Input
            label="Repeat new password"
            type="password"
            autoComplete="new-password"
            value={passwordAgain}
            onChange={(e) => setPwAgain(e.target.value)}
            error={fieldErrors.passwordAgain}
          />
          <Button type="submit" size="lg" loading={pending}>
            Set password
          </Button>
        </form>
      )}
    </AuthCard>
  );
}
