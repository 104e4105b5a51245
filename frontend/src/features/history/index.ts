export { HistoryPage } from './components/HistoryPage';
export { ListeningSections } from './components/ListeningSections';
export { reportPlay } from './api';
export { createPlayCounter, type PlayerSnapshot } from './lib/play-counter';
