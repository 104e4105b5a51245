import { create } from 'zustand';
import { cn } from '@/lib/cn';
import { CloseIcon } from './icons';

type Tone = 'success' | 'error' | 'info';

interface ToastItem {
  id: number;
  tone: Tone;
  message: string;
}

interface ToastState {
  toasts: ToastItem[];
  push: (tone: Tone, message: string) => void;
  dismiss: (id: number) => void;
  /** Drops error toasts that a later success made obsolete (e.g. after logging in). */
  clearErrors: () => void;
}

let nextId = 1;

export const useToastStore = create<ToastState>()((set, get) => ({
  toasts: [],
  push: (tone, message) => {
    const id = nextId++;
    // Collapse identical messages (e.g. a burst of failing requests).
    if (get().toasts.some((t) => t.message === message && t.tone === tone)) return;
    set((s) => ({ toasts: [...s.toasts.slice(-3), { id, tone, message }] }));
    setTimeout(() => get().dismiss(id), tone === 'error' ? 7000 : 4000);
  },
  dismiss: (id) => set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) })),
  clearErrors: () => set((s) => ({ toasts: s.toasts.filter((t) => t.tone !== 'error') })),
}));

export const toast = {
  success: (message: string) => useToastStore.getState().push('success', message),
  error: (message: string) => useToastStore.getState().push('error', message),
  info: (message: string) => useToastStore.getState().push('info', message),
  clearErrors: () => useToastStore.getState().clearErrors(),
};

const tones: Record<Tone, string> = {
  success: 'border-accent/40',
  error: 'border-red-400/60',
  info: 'border-white/20',
};

export function Toaster() {
  const toasts = useToastStore((s) => s.toasts);
  const dismiss = useToastStore((s) => s.dismiss);
  return (
    <div
      className="pointer-events-none fixed inset-x-0 top-4 z-50 flex flex-col items-center gap-2 px-4"
      aria-live="polite"
      data-testid="toasts"
    >
      {toasts.map((t) => (
        <div
          key={t.id}
          role={t.tone === 'error' ? 'alert' : 'status'}
          data-testid={`toast-${t.tone}`}
          className={cn(
            'pointer-events-auto flex w-full max-w-md items-start gap-3 rounded-xl border bg-surface-3 px-4 py-3 text-sm text-fg shadow-2xl',
            tones[t.tone],
          )}
        >
          <span className={cn('mt-1 h-2 w-2 shrink-0 rounded-full', t.tone === 'error' ? 'bg-red-400' : t.tone === 'success' ? 'bg-accent' : 'bg-fg-muted')} />
          <p className="flex-1">{t.message}</p>
          <button
            type="button"
            onClick={() => dismiss(t.id)}
            aria-label="Dismiss notification"
            className="rounded-full p-0.5 text-fg-muted hover:text-fg focus-ring"
          >
            <CloseIcon size={16} />
          </button>
        </div>
      ))}
    </div>
  );
}
