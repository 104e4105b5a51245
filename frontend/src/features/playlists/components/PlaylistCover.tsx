import { Cover } from '@/components/ui';
import { coverMosaic } from '../lib/reorder';

/** The first four distinct album covers of a playlist, or a placeholder. */
export function PlaylistCover({ covers, seed, className }: { covers: (string | null | undefined)[]; seed: string; className?: string }) {
  const tiles = coverMosaic(covers);
  if (tiles.length < 4) return <Cover src={tiles[0] ?? null} seed={seed} alt="" className={className} />;
  return (
    <div className={`grid grid-cols-2 overflow-hidden rounded-xl ${className ?? ''}`} data-testid="playlist-mosaic">
      {tiles.map((src) => (
        <img key={src} src={src} alt="" className="h-full w-full object-cover" />
      ))}
    </div>
  );
}
