import { useState, type FormEvent } from 'react';
import { Button, Input, toast } from '@/components/ui';
import { changePassword } from '../api/account';
import { useSubmit, validatePassword } from '../hooks/useSubmit';
import { FormError } from './AuthCard';

export function ChangePasswordForm() {
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [confirm, setConfirm] = useState('');

  const { submit, pending, fieldErrors, setFieldErrors, formError } = useSubmit(async () => {
    const res = await changePassword(currentPassword, newPassword);
    setCurrent('');
    setNew('');
    setConfirm('');
    // If the service also revoked this session, the next request fails to
    // refresh and the guard returns to the login page by itself.
    toast.success(res?.message ?? 'Password changed.');
  });

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (!currentPassword) errors.currentPassword = 'Enter your current password.';
    const pw = validatePassword(newPassword);
    if (pw) errors.newPassword = pw;
    if (newPassword !== confirm) errors.confirm = 'The passwords do not match.';
    if (Object.keys(errors).length) {
      setFieldErrors(errors);
      return;
    }
    void submit();
  };

  return (
    <form onSubmit={onSubmit} className="flex max-w-md flex-col gap-4" noValidate data-testid="change-password-form">
      <FormError message={formError} />
      <Input
        label="Current password"
        type="password"
        autoComplete="current-password"
        value={currentPassword}
        onChange={(e) => setCurrent(e.target.value)}
        error={fieldErrors.currentPassword}
      />
      <Input
        label="New password"
        type="password"
        autoComplete="new-password"
        value={newPassword}
        onChange={(e) => setNew(e.target.value)}
        error={fieldErrors.newPassword}
        hint="8–128 characters."
      />
      <Input
        label="Repeat new password"
        type="password"
        autoComplete="new-password"
        value={confirm}
        onChange={(e) => setConfirm(e.target.value)}
        error={fieldErrors.confirm}
      />
      <div>
        <Button type="submit" loading={pending}>
          Change password
        </Button>
      </div>
    </form>
  );
}
