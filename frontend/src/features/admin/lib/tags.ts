import type { IAudioMetadata } from 'music-metadata';
import { titleFromFileName } from './files';

/** What the folder import uses from a file's tags (all optional: files may have none). */
export interface TrackTags {
  title?: string;
  artist?: string;
  albumArtist?: string;
  album?: string;
  track?: number;
  disc?: number;
  /** Seconds, from the container or the codec headers. */
  duration?: number;
  /** The first embedded picture. */
  picture?: { data: Uint8Array; format: string };
}

const text = (v: string | undefined | null) => {
  const t = v?.trim();
  return t ? t : undefined;
};
const positive = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);

/** music-metadata's result → the tags we use. */
export function tagsFromMetadata(meta: Pick<IAudioMetadata, 'common' | 'format'>): TrackTags {
  const c = meta.common;
  const tags: TrackTags = {};
  const set = <K extends keyof TrackTags>(k: K, v: TrackTags[K] | undefined) => {
    if (v !== undefined) tags[k] = v;
  };
  set('title', text(c.title));
  set('artist', text(c.artist) ?? text(c.artists?.[0]));
  set('albumArtist', text(c.albumartist));
  set('album', text(c.album));
  set('track', positive(c.track?.no));
  set('disc', positive(c.disk?.no));
  set('duration', positive(meta.format.duration));
  const pic = c.picture?.[0];
  if (pic && pic.data.length > 0) set('picture', { data: pic.data, format: pic.format });
  return tags;
}

/**
 * Reads a file's tags in the browser. music-metadata is loaded on first use
 * (its own chunk); a Blob is read by slices, not whole. Null
 * when the file cannot be parsed: the form falls back to the file name.
 */
export async function readTags(file: Blob): Promise<TrackTags | null> {
  try {
    const { parseBlob } = await import('music-metadata');
    return tagsFromMetadata(await parseBlob(file));
  } catch {
    return null;
  }
}

export interface TaggedFile {
  file: File;
  /** Relative path (sort tie-break, shown to the admin). */
  path: string;
  contentType: string;
  tags: TrackTags | null;
}

export interface FolderSong {
  file: File;
  path: string;
  contentType: string;
  title: string;
  artist: string;
  /** From the tags, for the sort and shown to the admin; the upload numbers songs by their order. */
  tagTrack: number | null;
  tagDisc: number | null;
  /** Seconds from the tags, or null (the uploader asks the browser's decoder then). */
  duration: number | null;
}

export interface FolderForm {
  albumName: string;
  albumArtist: string;
  songs: FolderSong[];
  /** The first picture embedded in the first song (in order) that has one. */
  embedded: { data: Uint8Array; format: string; from: string } | null;
}

/** The most frequent non-empty value (ties: the one seen first). */
function mostCommon(values: (string | undefined)[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) if (v) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 0;
  for (const [v, n] of counts) {
    if (n > bestCount) {
      best = v;
      bestCount = n;
    }
  }
  return best;
}

const byName = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** Disc, then track (untagged after tagged), then path in natural order ("2" before "10"). */
export function compareSongs(a: Pick<FolderSong, 'tagDisc' | 'tagTrack' | 'path'>, b: Pick<FolderSong, 'tagDisc' | 'tagTrack' | 'path'>): number {
  return (
    (a.tagDisc ?? 1) - (b.tagDisc ?? 1) ||
    (a.tagTrack ?? Number.MAX_SAFE_INTEGER) - (b.tagTrack ?? Number.MAX_SAFE_INTEGER) ||
    byName.compare(a.path, b.path)
  );
}

/**
 * The import form pre-filled from the tags: album name (most common album
 * tag, else the folder's name), album artist (most common album-artist tag,
 * else most common artist), and one song per file in disc/track/name order
 * with its title (else from the file name) and artist (else the album artist).
 */
export function buildFolderForm(files: TaggedFile[], folderName = ''): FolderForm {
  const albumName = mostCommon(files.map((f) => f.tags?.album)) ?? folderName.trim();
  const albumArtist = mostCommon(files.map((f) => f.tags?.albumArtist)) ?? mostCommon(files.map((f) => f.tags?.artist)) ?? '';
  const withTags = files.map((f) => ({
    song: {
      file: f.file,
      path: f.path,
      contentType: f.contentType,
      title: f.tags?.title ?? titleFromFileName(f.file.name),
      artist: f.tags?.artist ?? albumArtist,
      tagTrack: f.tags?.track ?? null,
      tagDisc: f.tags?.disc ?? null,
      duration: f.tags?.duration ?? null,
    } satisfies FolderSong,
    picture: f.tags?.picture,
  }));
  withTags.sort((a, b) => compareSongs(a.song, b.song));
  const firstPicture = withTags.find((s) => s.picture);
  return {
    albumName,
    albumArtist,
    songs: withTags.map((s) => s.song),
    embedded: firstPicture?.picture ? { ...firstPicture.picture, from: firstPicture.song.path } : null,
  };
}
