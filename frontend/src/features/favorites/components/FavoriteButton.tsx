import { HeartIcon, IconButton, toast } from '@/components/ui';
import { errorMessage } from '@/lib/api-client';
import { useFavoritesStore } from '../stores/favorites-store';

export function FavoriteButton({ songId, title }: { songId: string; title?: string }) {
  const isFavorite = useFavoritesStore((s) => s.items.has(songId));
  const pending = useFavoritesStore((s) => s.pending.has(songId));
  const toggle = useFavoritesStore((s) => s.toggle);
  const name = title ? ` ${title}` : '';
  return (
    <IconButton
      size="sm"
      label={isFavorite ? `Remove${name} from favourites` : `Add${name} to favourites`}
      aria-pressed={isFavorite}
      active={isFavorite}
      disabled={pending}
      data-testid="favorite-toggle"
      onClick={() => toggle(songId).catch((err: unknown) => toast.error(errorMessage(err, 'Could not update favourites.')))}
    >
      <HeartIcon size={18} filled={isFavorite} />
    </IconButton>
  );
}
