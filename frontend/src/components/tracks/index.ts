export { TrackList, type TrackListProps } from './TrackList';
export { PlaybackContext, usePlayback, type Playback } from './playback';
