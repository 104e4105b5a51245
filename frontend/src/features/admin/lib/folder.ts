import { audioContentTypeOf, isCoverImage } from './files';

/** A file picked from a folder, with its path relative to what was picked. */
export interface PickedFile {
  file: File;
  /** "Album/CD1/01 - One.mp3" (webkitRelativePath or the path walked in a drop). */
  path: string;
}

/** From `<input type=file webkitdirectory>` (or a plain multiple input). */
export function pickedFromFileList(files: ArrayLike<File>): PickedFile[] {
  return Array.from(files, (file) => ({ file, path: file.webkitRelativePath || file.name }));
}

// The parts of the File and Directory Entries API a drop gives us (typed
// structurally so the walk can be tested with plain objects).
interface EntryLike {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  fullPath?: string;
}
interface FileEntryLike extends EntryLike {
  file(ok: (file: File) => void, fail?: (err: unknown) => void): void;
}
interface DirectoryEntryLike extends EntryLike {
  createReader(): { readEntries(ok: (entries: EntryLike[]) => void, fail?: (err: unknown) => void): void };
}

/** At most this many files are taken from one drop (a dropped home folder must not hang the tab). */
export const MAX_DROPPED_FILES = 2000;

/**
 * Every file under the given entries, recursing into directories.
 * `readEntries` answers in batches (100 in Chromium) until an empty one.
 */
export async function walkEntries(entries: EntryLike[], limit = MAX_DROPPED_FILES): Promise<PickedFile[]> {
  const out: PickedFile[] = [];
  const visit = async (entry: EntryLike, prefix: string): Promise<void> => {
    if (out.length >= limit) return;
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isFile) {
      const file = await new Promise<File>((ok, fail) => (entry as FileEntryLike).file(ok, fail));
      out.push({ file, path });
    } else if (entry.isDirectory) {
      const reader = (entry as DirectoryEntryLike).createReader();
      for (;;) {
        const batch = await new Promise<EntryLike[]>((ok, fail) => reader.readEntries(ok, fail));
        if (batch.length === 0) break;
        for (const child of batch) await visit(child, path);
        if (out.length >= limit) break;
      }
    }
  };
  for (const entry of entries) await visit(entry, '');
  return out;
}

/**
 * The files of a drop: folders are walked, plain files taken as they are.
 * Must be called synchronously from the drop handler: the items are only
 * readable until it returns, so the entries are taken before any await.
 */
export function pickedFromDataTransfer(dt: DataTransfer): Promise<PickedFile[]> {
  const entries: EntryLike[] = [];
  const loose: File[] = [];
  for (const item of Array.from(dt.items)) {
    if (item.kind !== 'file') continue;
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
    else {
      const file = item.getAsFile();
      if (file) loose.push(file);
    }
  }
  if (entries.length === 0 && loose.length === 0) loose.push(...Array.from(dt.files));
  return walkEntries(entries).then((walked) => [...walked, ...pickedFromFileList(loose)]);
}

export interface FolderContents {
  audio: (PickedFile & { contentType: string })[];
  images: PickedFile[];
  /** Names of files that are neither (shown to the admin, not uploaded). */
  skipped: string[];
  /** The top folder's name ("" when loose files were picked). */
  folderName: string;
}

const hidden = (path: string) => path.split('/').some((part) => part.startsWith('.'));

/** Keeps the audio admin-svc accepts and JPEG/PNG/WebP images; hidden files (".DS_Store", "._x.mp3") are ignored. */
export function sortFolder(picked: PickedFile[]): FolderContents {
  const audio: FolderContents['audio'] = [];
  const images: PickedFile[] = [];
  const skipped: string[] = [];
  for (const p of picked) {
    if (hidden(p.path)) continue;
    const contentType = audioContentTypeOf(p.file);
    if (contentType) audio.push({ ...p, contentType });
    else if (isCoverImage(p.file)) images.push(p);
    else skipped.push(p.path);
  }
  const tops = new Set(picked.filter((p) => p.path.includes('/')).map((p) => p.path.split('/')[0] ?? ''));
  const folderName = tops.size === 1 ? ([...tops][0] ?? '') : '';
  return { audio, images, skipped, folderName };
}
