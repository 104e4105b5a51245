import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { Button, Input, PageSpinner, toast } from '@/components/ui';
import { errorMessage } from '@/lib/api-client';
import { usePlaylistsStore } from '../stores/playlists-store';

export function PlaylistsPage() {
  const items = usePlaylistsStore((s) => s.items);
  const loaded = usePlaylistsStore((s) => s.loaded);
  const create = usePlaylistsStore((s) => s.create);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);

  const onCreate = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return;
    setBusy(true);
    try {
      await create(name.trim());
      setName('');
    } catch (err) {
      toast.error(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="flex flex-col gap-6">
      <h1 className="text-3xl font-extrabold md:text-4xl">Playlists</h1>
      <form onSubmit={(e) => void onCreate(e)} className="flex max-w-md gap-2">
        <Input label="New playlist name" hideLabel placeholder="New playlist" value={name} onChange={(e) => setName(e.target.value)} maxLength={100} data-testid="playlist-new-name" />
        <Button type="submit" loading={busy} data-testid="playlist-create">
          Create
        </Button>
      </form>
      {!loaded ? (
        <PageSpinner />
      ) : items.length === 0 ? (
        <p className="text-fg-muted">No playlists yet. Create one, or use + on any song.</p>
      ) : (
        <ul className="flex flex-col gap-1" data-testid="playlists">
          {items.map((p) => (
            <li key={p.id}>
              <Link to={`/playlist/${p.id}`} className="flex items-center justify-between rounded-lg px-3 py-2 hover:bg-white/5 focus-ring" data-testid="playlist-link">
                <span className="font-semibold">{p.name}</span>
                <span className="text-sm text-fg-muted">
                  {p.entryCount} {p.entryCount === 1 ? 'song' : 'songs'}
                  {p.shared ? ' · shared' : ''}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
