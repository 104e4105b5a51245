import { installAuth, restoreSession, useAuthStore } from '@/features/auth';
import { useFavoritesStore } from '@/features/favorites';
import { createPlayCounter, reportPlay } from '@/features/history';
import { clearStreamCache, selectCurrentTrack, usePlayerStore } from '@/features/player';
import { usePlaylistsStore } from '@/features/playlists';
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
      usePlaylistsStore.getState().load().catch(() => {
        // The "add to playlist" menu then lists none; the page retries.
      });
    }
    if (state.status === 'anonymous' && prev.status === 'authenticated') {
      usePlayerStore.getState().reset();
      useFavoritesStore.getState().reset();
      usePlaylistsStore.getState().reset();
      clearStreamCache();
      if (state.endReason === 'expired') toast.info('Your session has ended. Please log in again.');
    }
  });

  // Plays are reported once a song has played for 30 s or half its length.
  const counter = createPlayCounter((play) => {
    if (useAuthStore.getState().status !== 'authenticated') return;
    reportPlay(play).catch(() => {
      // History is best effort: a lost report is one uncounted play.
    });
  });
  usePlayerStore.subscribe((s) => {
    counter.update({ trackId: selectCurrentTrack(s)?.id ?? null, currentTime: s.currentTime, duration: s.duration, isPlaying: s.isPlaying });
  });

  void restoreSession();
}
