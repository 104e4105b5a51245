import { Link } from 'react-router';
import { useAuthStore } from '../stores/auth-store';
import { ChangePasswordForm } from './ChangePasswordForm';
import { Notice } from './AuthCard';

export function AccountPage() {
  const user = useAuthStore((s) => s.user);
  if (!user) return null;
  return (
    <div className="flex flex-col gap-10">
      <header>
        <h1 className="text-3xl font-bold">Account</h1>
        <p className="mt-1 text-fg-muted" data-testid="account-email">
          {user.email} · {user.role}
        </p>
      </header>
      {!user.isVerified && (
        <Notice>
          Your email address is not verified yet.{' '}
          <Link to="/resend-verification" className="font-semibold underline focus-ring">
            Resend the verification email
          </Link>
        </Notice>
      )}
      <section aria-labelledby="pw-heading" className="flex flex-col gap-4">
        <h2 id="pw-heading" className="text-xl font-bold">
          Change password
        </h2>
        <ChangePasswordForm />
      </section>
      <section className="flex flex-col gap-2">
        <h2 className="text-xl font-bold">Devices</h2>
        <p className="text-sm text-fg-muted">See where you are signed in, and sign out other devices.</p>
        <div>
          <Link to="/account/sessions" className="inline-flex rounded-full bg-white/10 px-4 py-2 text-sm font-semibold hover:bg-white/15 focus-ring">
            Manage sessions
          </Link>
        </div>
      </section>
    </div>
  );
}
