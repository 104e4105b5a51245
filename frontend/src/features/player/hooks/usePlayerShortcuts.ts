import { useEffect } from 'react';
import { usePlayerStore } from '../stores/player-store';

const SEEK_STEP = 5;

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (target as HTMLInputElement).type;
    // Sliders keep their own arrow keys; text-like inputs keep every key.
    return type !== 'checkbox' && type !== 'radio' && type !== 'button';
  }
  return false;
}

/**
 * Space: play/pause · ←/→: seek 5 s · Shift+←/→: previous/next · M: mute.
 * Ignored while typing, with Ctrl/Alt/Meta held, and when a dialog is open.
 */
export function usePlayerShortcuts() {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
      if (document.querySelector('dialog[open]')) return;
      const s = usePlayerStore.getState();
      if (s.queue.length === 0) return;
      const onButton = e.target instanceof HTMLElement && (e.target.tagName === 'BUTTON' || e.target.tagName === 'A');

      if (e.code === 'Space' || e.key === ' ') {
        if (onButton) return; // Space already activates the focused control
        e.preventDefault();
        s.togglePlay();
      } else if (e.key === 'ArrowLeft') {
        e.preventDefault();
        if (e.shiftKey) s.previous();
        else s.seekBy(-SEEK_STEP);
      } else if (e.key === 'ArrowRight') {
        e.preventDefault();
        if (e.shiftKey) s.next();
        else s.seekBy(SEEK_STEP);
      } else if ((e.key === 'm' || e.key === 'M') && !e.shiftKey) {
        e.preventDefault();
        s.toggleMute();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
