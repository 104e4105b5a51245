import { checkFile, contentTypeOf } from './files';
import type { PickedFile } from './folder';

export type CoverSource = 'chosen' | 'folder' | 'embedded';

export interface CoverChoice {
  file: File;
  source: CoverSource;
  /** Where it came from, for the admin: a path, or the song that embeds it. */
  from: string;
}

/** Folder image names that mean "the album's cover", best first. */
const COVER_NAMES = ['cover', 'folder', 'front', 'album', 'albumart'];

const stem = (path: string) =>
  (path.split('/').pop() ?? '')
    .replace(/\.[^.]+$/, '')
    .toLowerCase()
    .trim();

/**
 * The folder's cover image: cover.* before folder.* before front.* (then
 * album.*, albumart.*), the shallowest path first among equals; an image
 * named otherwise is only taken when it is the folder's only image. Images
 * admin-svc would refuse (type, size) are skipped.
 */
export function folderCover(images: PickedFile[]): PickedFile | null {
  const usable = images.filter((i) => checkFile(i.file, 'thumbnail') === null);
  const ranked = usable
    .map((i) => ({ i, rank: COVER_NAMES.indexOf(stem(i.path)), depth: i.path.split('/').length }))
    .filter((r) => r.rank >= 0)
    .sort((a, b) => a.rank - b.rank || a.depth - b.depth || a.i.path.localeCompare(b.i.path));
  if (ranked[0]) return ranked[0].i;
  return usable.length === 1 ? (usable[0] ?? null) : null;
}

const PICTURE_FORMATS: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

/** An embedded picture as a File admin-svc accepts, or null (e.g. a GIF or BMP). */
export function embeddedCoverFile(picture: { data: Uint8Array; format: string } | null): File | null {
  if (!picture) return null;
  const raw = picture.format.toLowerCase().trim();
  // ID3v2.2 gives "JPG"/"PNG", later versions a MIME type.
  const type = contentTypeOf({ name: '', type: raw.includes('/') ? raw : (PICTURE_FORMATS[raw] ?? '') });
  const ext = Object.entries(PICTURE_FORMATS).find(([, t]) => t === type)?.[0];
  if (!ext) return null;
  // A copy: the parser's array may be a view on a larger buffer.
  const file = new File([picture.data.slice()], `embedded-cover.${ext}`, { type });
  return checkFile(file, 'thumbnail') === null ? file : null;
}

/** The album cover: the one the admin chose, else the folder's image, else the first embedded picture. */
export function chooseCover(options: {
  chosen: File | null;
  folder: PickedFile | null;
  embedded: { file: File; from: string } | null;
}): CoverChoice | null {
  if (options.chosen) return { file: options.chosen, source: 'chosen', from: options.chosen.name };
  if (options.folder) return { file: options.folder.file, source: 'folder', from: options.folder.path };
  if (options.embedded) return { file: options.embedded.file, source: 'embedded', from: options.embedded.from };
  return null;
}
