import type { Album, Song } from '@/types/catalog';
import type { Track } from '@/types/track';

const finiteOrNull = (value: number | null | undefined): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/**
 * A catalogue song as a playable track; the album cover stands in for missing
 * song art, and the album's gain for a song that does not carry its own.
 */
export function songToTrack(song: Song, album?: Pick<Album, 'thumbnailUrl' | 'albumGainDb'> | null): Track {
  return {
    id: song.id,
    title: song.title,
    artist: song.artist,
    duration: song.duration,
    artworkUrl: song.imageSrc || album?.thumbnailUrl || null,
    albumId: song.albumId ?? null,
    trackNumber: song.trackNumber ?? null,
    trackGainDb: finiteOrNull(song.trackGainDb),
    albumGainDb: finiteOrNull(song.albumGainDb) ?? finiteOrNull(album?.albumGainDb),
  };
}
