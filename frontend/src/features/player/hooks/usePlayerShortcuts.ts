import { useEffect } from 'react';
import { usePlayerStore } from '../stores/player-store';

const SEEK_STEP = 5;

type FocusKind = 'text' | 'slider' | 'control' | 'none';

/** What kind of element has focus, to leave its own keys alone. */
function focusKind(target: EventTarget | null): FocusKind {
  if (!(target instanceof HTMLElement)) return 'none';
  if (target.isContentEditable) return 'text';
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return 'text';
  if (tag === 'INPUT') {
    const type = (target as HTMLInputElement).type;
    if (type === 'range') return 'slider';
    if (type === 'checkbox' || type === 'radio' || type === 'button' || type === 'submit' || type === 'file') return 'control';
    return 'text';
  }
  if (target.getAttribute('role') === 'slider') return 'slider'; // the waveform seek bar
  if (tag === 'BUTTON' || tag === 'A' || target.getAttribute('role') === 'tab') return 'control';
  return 'none';
}

/**
 * Space: play/pause · ←/→: seek 5 s · Shift+←/→: previous/next · M: mute.
 * Text fields keep every key; sliders keep the arrows; focused buttons keep Space.
 * Nothing fires with Ctrl/Alt/Meta held or while a dialog is open.
 */
export function usePlayerShortcuts() {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      const kind = focusKind(e.target);
      if (kind === 'text' || document.querySelector('dialog[open]')) return;
      const s = usePlayerStore.getState();
      if (s.queue.length === 0) return;

      if (e.code === 'Space' || e.key === ' ') {
        if (kind === 'control') return;
        e.preventDefault();
        s.togglePlay();
      } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
        if (kind === 'slider') return;
        e.preventDefault();
        const forward = e.key === 'ArrowRight';
        if (e.shiftKey) {
          if (forward) s.next();
          else s.previous();
        } else {
          s.seekBy(forward ? SEEK_STEP : -SEEK_STEP);
        }
      } else if (e.key === 'm' || e.key === 'M') {
        e.preventDefault();
        s.toggleMute();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
