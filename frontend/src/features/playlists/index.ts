export { AddToPlaylistButton } from './components/AddToPlaylistButton';
export { PlaylistPage } from './components/PlaylistPage';
export { PlaylistsPage } from './components/PlaylistsPage';
export { usePlaylistsStore } from './stores/playlists-store';
