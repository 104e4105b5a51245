import { HomePage } from '@/features/catalog';
import { useFavoritesStore } from '@/features/favorites';
import { ListeningSections } from '@/features/history';

/** Home: the catalogue's page with the listener's sections on top. */
export function HomeRoute() {
  const favorites = useFavoritesStore((s) => s.items);
  const loaded = useFavoritesStore((s) => s.loaded);
  return <HomePage>{loaded && <ListeningSections favorites={[...favorites.keys()]} />}</HomePage>;
}
