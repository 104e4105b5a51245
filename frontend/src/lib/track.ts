import type { Album, Song } from '@/types/catalog';
import type { Track } from '@/types/track';

/** A catalogue song as a playable track; the album cover stands in for missing song art. */
export function songToTrack(song: Song, album?: Pick<Album, 'thumbnailUrl'> | null): Track {
  return {
    id: song.id,
    title: song.title,
    artist: song.artist,
    duration: song.duration,
    artworkUrl: song.imageSrc || album?.thumbnailUrl || null,
    albumId: song.albumId ?? null,
    trackNumber: song.trackNumber ?? null,
  };
}
