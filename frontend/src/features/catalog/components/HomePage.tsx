import type { ReactNode } from 'react';
import { PageSpinner } from '@/components/ui';
import { errorMessage } from '@/lib/api-client';
import { useAsync } from '@/lib/use-async';
import { listAlbums } from '../api';
import { AlbumGrid } from './AlbumCard';

function greeting(): string {
  const h = new Date().getHours();
  return h < 5 ? 'Good night' : h < 12 ? 'Good morning' : h < 18 ? 'Good afternoon' : 'Good evening';
}

/** `children`: more sections, composed by the app (listening history). */
export function HomePage({ children }: { children?: ReactNode }) {
  const { data: albums, error, loading } = useAsync((signal) => listAlbums(signal));
  return (
    <div className="flex flex-col gap-8">
      <header>
        <h1 className="text-3xl font-extrabold tracking-tight md:text-4xl">{greeting()}</h1>
      </header>
      {children}
      <section aria-labelledby="recent-heading" className="flex flex-col gap-4">
        <h2 id="recent-heading" className="text-xl font-bold">
          Recently added albums
        </h2>
        {loading && !albums ? (
          <PageSpinner />
        ) : error ? (
          <p role="alert" className="text-red-300">
            {errorMessage(error)}
          </p>
        ) : albums && albums.length > 0 ? (
          <AlbumGrid albums={albums} />
        ) : (
          <p className="text-fg-muted">The catalogue is empty. An admin can add albums from the dashboard.</p>
        )}
      </section>
    </div>
  );
}
