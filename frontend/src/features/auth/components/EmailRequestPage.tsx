import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { Button, Input } from '@/components/ui';
import { forgotPassword, resendVerification } from '../api/account';
import { useSubmit } from '../hooks/useSubmit';
import { AuthCard, FormError, Notice } from './AuthCard';

interface Props {
  title: string;
  subtitle: string;
  action: (email: string) => Promise<unknown>;
  doneText: string;
  submitLabel: string;
  testId: string;
}

/** "Enter your email" forms whose answer never reveals whether an account exists. */
function EmailRequestPage({ title, subtitle, action, doneText, submitLabel, testId }: Props) {
  const [email, setEmail] = useState('');
  const [done, setDone] = useState(false);
  const { submit, pending, fieldErrors, formError } = useSubmit(async () => {
    await action(email.trim());
    setDone(true);
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit();
  };
  return (
    <AuthCard
      title={title}
      subtitle={subtitle}
      footer={
        <Link to="/login" className="font-semibold text-fg underline-offset-4 hover:underline focus-ring">
          Back to log in
        </Link>
      }
    >
      {done ? (
        <Notice>{doneText}</Notice>
      ) : (
        <form onSubmit={onSubmit} className="flex flex-col gap-4" noValidate data-testid={testId}>
          <FormError message={formError} />
          <Input
            label="Email"
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            error={fieldErrors.email}
          />
          <Button type="submit" size="lg" loading={pending} disabled={!email.trim()}>
            {submitLabel}
          </Button>
        </form>
      )}
    </AuthCard>
  );
}

export function ForgotPasswordPage() {
  return (
    <EmailRequestPage
      title="Reset your password"
      subtitle="We will email you a link to choose a new password."
      action={forgotPassword}
      doneText="If an account exists for that address, a reset link is on its way. It is valid for one hour."
      submitLabel="Send reset link"
      testId="forgot-form"
    />
  );
}

export function ResendVerificationPage() {
  return (
    <EmailRequestPage
      title="Verify your email"
      subtitle="Didn't get the verification email? We can send another."
      action={resendVerification}
      doneText="If that address needs verifying, a new link is on its way. It is valid for 24 hours."
      submitLabel="Resend verification email"
      testId="resend-form"
    />
  );
}
