import { describe, expect, it } from 'vitest';
import { pickedFromFileList, sortFolder, walkEntries } from './folder';

const file = (name: string, type = '') => new File([new Uint8Array(1)], name, { type });

type Entry = { isFile: boolean; isDirectory: boolean; name: string; file?: (ok: (f: File) => void) => void; createReader?: () => { readEntries: (ok: (e: Entry[]) => void) => void } };

const fileEntry = (name: string): Entry => ({ isFile: true, isDirectory: false, name, file: (ok) => ok(file(name)) });
/** A directory whose reader answers in batches of `batch` entries, then an empty batch (as Chromium does, 100 at a time). */
const dirEntry = (name: string, children: Entry[], batch = 2): Entry => ({
  isFile: false,
  isDirectory: true,
  name,
  createReader: () => {
    let at = 0;
    return {
      readEntries: (ok) => {
        const part = children.slice(at, at + batch);
        at += batch;
        setTimeout(() => ok(part), 0);
      },
    };
  },
});

describe('folder walking', () => {
  it('recurses into directories, reading every batch', async () => {
    const tree = [dirEntry('Album', [fileEntry('01.mp3'), fileEntry('02.mp3'), fileEntry('cover.jpg'), dirEntry('CD2', [fileEntry('01.flac')])]), fileEntry('loose.ogg')];
    const picked = await walkEntries(tree);
    expect(picked.map((p) => p.path)).toEqual(['Album/01.mp3', 'Album/02.mp3', 'Album/cover.jpg', 'Album/CD2/01.flac', 'loose.ogg']);
    expect(picked[0]?.file.name).toBe('01.mp3');
  });

  it('stops at the file limit', async () => {
    const picked = await walkEntries([dirEntry('Big', Array.from({ length: 10 }, (_, i) => fileEntry(`${i}.mp3`)))], 4);
    expect(picked).toHaveLength(4);
  });

  it('takes webkitRelativePath from a directory input', () => {
    const f = file('01.mp3', 'audio/mpeg');
    Object.defineProperty(f, 'webkitRelativePath', { value: 'Album/01.mp3' });
    expect(pickedFromFileList([f, file('x.mp3')]).map((p) => p.path)).toEqual(['Album/01.mp3', 'x.mp3']);
  });
});

describe('sortFolder', () => {
  it('keeps audio and images, skips the rest and hidden files, and names the folder', () => {
    const picked = [
      { file: file('01.mp3', 'audio/mpeg'), path: 'Album/01.mp3' },
      { file: file('02.m4a', 'video/mp4'), path: 'Album/02.m4a' },
      { file: file('03.wav', ''), path: 'Album/03.wav' },
      { file: file('cover.jpg', 'image/jpeg'), path: 'Album/cover.jpg' },
      { file: file('notes.txt', 'text/plain'), path: 'Album/notes.txt' },
      { file: file('.DS_Store', ''), path: 'Album/.DS_Store' },
      { file: file('._01.mp3', 'audio/mpeg'), path: 'Album/._01.mp3' },
      { file: file('x.mp3', 'audio/mpeg'), path: 'Album/.hidden/x.mp3' },
    ];
    const out = sortFolder(picked);
    expect(out.audio.map((a) => [a.path, a.contentType])).toEqual([
      ['Album/01.mp3', 'audio/mpeg'],
      ['Album/02.m4a', 'audio/mp4'],
      ['Album/03.wav', 'audio/wav'],
    ]);
    expect(out.images.map((i) => i.path)).toEqual(['Album/cover.jpg']);
    expect(out.skipped).toEqual(['Album/notes.txt']);
    expect(out.folderName).toBe('Album');
    expect(sortFolder([{ file: file('a.mp3'), path: 'a.mp3' }]).folderName).toBe('');
  });
});
