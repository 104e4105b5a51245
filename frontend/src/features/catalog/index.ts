export { HomePage } from './components/HomePage';
export { AlbumPage } from './components/AlbumPage';
export { AlbumCard, AlbumGrid } from './components/AlbumCard';
