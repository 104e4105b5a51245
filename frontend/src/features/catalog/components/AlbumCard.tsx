import { Link } from 'react-router';
import { Cover } from '@/components/ui';
import type { Album } from '@/types/catalog';

export function AlbumCard({ album }: { album: Album }) {
  return (
    <Link
      to={`/album/${album.id}`}
      data-testid="album-card"
      data-album-id={album.id}
      className="group flex flex-col gap-3 rounded-xl bg-surface-1 p-3 transition-colors hover:bg-surface-2 focus-ring"
    >
      <div className="relative">
        <Cover src={album.thumbnailUrl} seed={album.id} alt="" rounded="lg" className="w-full shadow-lg shadow-black/40" />
      </div>
      <div className="min-w-0">
        <p className="truncate font-semibold">{album.name}</p>
        <p className="truncate text-sm text-fg-muted">{album.artist}</p>
      </div>
    </Link>
  );
}

export function AlbumGrid({ albums }: { albums: Album[] }) {
  return (
    <ul className="grid grid-cols-2 gap-3 sm:grid-cols-3 md:gap-4 lg:grid-cols-4 xl:grid-cols-5 2xl:grid-cols-6" data-testid="album-grid">
      {albums.map((a) => (
        <li key={a.id}>
          <AlbumCard album={a} />
        </li>
      ))}
    </ul>
  );
}
