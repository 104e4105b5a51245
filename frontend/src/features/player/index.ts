export { AudioEngine } from './components/AudioEngine';
export { PlayerBar } from './components/PlayerBar';
export { usePlayerStore, selectCurrentTrack } from './stores/player-store';
export { clearStreamCache } from './api/stream';
export type { Track, RepeatMode } from './types';
