export { FavoriteButton } from './components/FavoriteButton';
export { FavoritesPage } from './components/FavoritesPage';
export { useFavoritesStore } from './stores/favorites-store';
