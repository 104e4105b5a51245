import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { Button, Input } from '@/components/ui';
import { register } from '../api/account';
import { useSubmit, validatePassword } from '../hooks/useSubmit';
import { AuthCard, FormError, Notice } from './AuthCard';

export function RegisterPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [done, setDone] = useState<string | null>(null);

  const { submit, pending, fieldErrors, setFieldErrors, formError } = useSubmit(async () => {
    const res = await register(email.trim(), password);
    setDone(res.message ?? 'Check your inbox to verify your email address.');
  });

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const pwError = validatePassword(password);
    const emailError = /.+@.+\..+/.test(email.trim()) ? undefined : 'Enter a valid email address.';
    if (pwError || emailError) {
      setFieldErrors({ ...(emailError ? { email: emailError } : {}), ...(pwError ? { password: pwError } : {}) });
      return;
    }
    void submit();
  };

  return (
    <AuthCard
      title="Create your account"
      subtitle="Stream every album in the catalogue."
      footer={
        <>
          Already have an account?{' '}
          <Link to="/login" className="font-semibold text-fg underline-offset-4 hover:underline focus-ring">
            Log in
          </Link>
        </>
      }
    >
      {done ? (
        <Notice>
          <p className="font-semibold">Almost there.</p>
          <p className="mt-1">{done}</p>
          <p className="mt-2">
            No email?{' '}
            <Link to="/resend-verification" className="underline focus-ring">
              Send it again
            </Link>
            .
          </p>
        </Notice>
      ) : (
        <form onSubmit={onSubmit} className="flex flex-col gap-4" noValidate data-testid="register-form">
          <FormError message={formError} />
          <Input
            label="Email"
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            error={fieldErrors.email}
            data-testid="register-email"
          />
          <Input
            label="Password"
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            maxLength={128}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={fieldErrors.password}
            hint="8–128 characters. Avoid common passwords."
            data-testid="register-password"
          />
          <Button type="submit" size="lg" loading={pending} data-testid="register-submit">
            Sign up
          </Button>
        </form>
      )}
    </AuthCard>
  );
}
