import { useCallback, useState } from 'react';
import { toast } from '@/components/ui';
import { ApiError, errorMessage } from '@/lib/api-client';

/**
 * Form submission state: `fieldErrors` from problem+json `errors[]` go under
 * inputs; the overall `message` goes to a toast and to `formError`.
 */
export function useSubmit<A extends unknown[]>(action: (...args: A) => Promise<void>) {
  const [pending, setPending] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);

  const submit = useCallback(
    async (...args: A) => {
      setPending(true);
      setFieldErrors({});
      setFormError(null);
      try {
        await action(...args);
      } catch (err) {
        const message = errorMessage(err);
        if (err instanceof ApiError) setFieldErrors(err.fieldMap());
        setFormError(message);
        toast.error(message);
      } finally {
        setPending(false);
      }
    },
    [action],
  );

  return { submit, pending, fieldErrors, setFieldErrors, formError };
}

export function validatePassword(pw: string): string | undefined {
  if (pw.length < 8) return 'Use at least 8 characters.';
  if (pw.length > 128) return 'Use at most 128 characters.';
  return undefined;
}
