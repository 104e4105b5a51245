import { useEffect, useRef, useState } from 'react';
import { toast } from '@/components/ui';
import { errorMessage } from '@/lib/api-client';
import { addToPlaylist } from '../api';
import { usePlaylistsStore } from '../stores/playlists-store';

/**
 * "Add to playlist": a small menu of the listener's playlists, plus a new
 * one. Used on every track row and in the player bar.
 */
export function AddToPlaylistButton({ songIds, title }: { songIds: string[]; title: string }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const items = usePlaylistsStore((s) => s.items);
  const create = usePlaylistsStore((s) => s.create);
  const upsert = usePlaylistsStore((s) => s.upsert);
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !ref.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);

  const addTo = async (id: string, name: string) => {
    setBusy(true);
    try {
      const r = await addToPlaylist(id, songIds);
      upsert(r.playlist);
      toast.success(`Added to ${name}`);
      setOpen(false);
    } catch (e) {
      toast.error(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const addToNew = async () => {
    const name = window.prompt('Name of the new playlist', title)?.trim();
    if (!name) return;
    try {
      const p = await create(name);
      await addTo(p.id, p.name);
    } catch (e) {
      toast.error(errorMessage(e));
    }
  };

  return (
    <div className="relative" ref={ref}>
      <button
        type="button"
        onClick={() => setOpen((o) => !o)}
        aria-label={`Add ${title} to a playlist`}
        aria-haspopup="menu"
        aria-expanded={open}
        data-testid="add-to-playlist"
        className="rounded-full px-2 text-lg leading-none text-fg-muted hover:text-fg focus-ring"
      >
        +
      </button>
      {open && (
        <div role="menu" className="absolute right-0 z-30 mt-1 flex max-h-72 w-56 flex-col overflow-auto rounded-lg border border-white/10 bg-surface-2 py-1 shadow-xl">
          <button type="button" role="menuitem" disabled={busy} onClick={() => void addToNew()} data-testid="add-to-new-playlist" className="px-3 py-2 text-left text-sm font-semibold hover:bg-white/5 focus-ring">
            New playlist…
          </button>
          {items.map((p) => (
            <button
              key={p.id}
              type="button"
              role="menuitem"
              disabled={busy}
              onClick={() => void addTo(p.id, p.name)}
              data-testid="add-to-playlist-item"
              data-playlist-name={p.name}
              className="truncate px-3 py-2 text-left text-sm hover:bg-white/5 focus-ring"
            >
              {p.name}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
