import { installAuth, restoreSession, useAuthStore } from '@/features/auth';
import { useFavoritesStore } from '@/features/favorites';
import { clearStreamCache, usePlayerStore } from '@/features/player';
import { toast } from '@/components/ui';

let started = false;

/**
 * Composes the features around the session (features never import each other's
 * stores for this): load favourites on sign-in, and on sign-out stop playback
 * and forget everything tied to the previous user.
 */
export function startSession(): void {
  if (started) return;
  started = true;
  installAuth();

  useAuthStore.subscribe((state, prev) => {
    if (state.status === prev.status && state.user?.id === prev.user?.id) return;
    if (state.status === 'authenticated' && state.user) {
      useFavoritesStore.getState().load().catch(() => {
        // Favourites are non-essential; hearts simply show as empty.
      });
    }
    if (state.status === 'anonymous' && prev.status === 'authenticated') {
      usePlayerStore.getState().reset();
      useFavoritesStore.getState().reset();
      clearStreamCache();
      if (state.endReason === 'expired') toast.info('Your session has ended. Please log in again.');
    }
  });

  void restoreSession();
}
