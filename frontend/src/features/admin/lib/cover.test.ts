import { describe, expect, it } from 'vitest';
import { chooseCover, embeddedCoverFile, folderCover } from './cover';
import type { PickedFile } from './folder';

const image = (path: string, type = 'image/jpeg', size = 10): PickedFile => ({
  file: new File([new Uint8Array(size)], path.split('/').pop() ?? path, { type }),
  path,
});

describe('folder cover image', () => {
  it('prefers cover.* over folder.* over front.*, shallowest first', () => {
    const pick = (paths: string[]) => folderCover(paths.map((p) => image(p)))?.path ?? null;
    expect(pick(['A/front.jpg', 'A/folder.jpg', 'A/Cover.JPG'])).toBe('A/Cover.JPG');
    expect(pick(['A/front.png', 'A/Folder.jpg'])).toBe('A/Folder.jpg');
    expect(pick(['A/scans/cover.jpg', 'A/cover.jpg'])).toBe('A/cover.jpg');
    expect(pick(['A/back.jpg', 'A/front.webp'])).toBe('A/front.webp');
  });

  it('takes an image with another name only when it is the only one', () => {
    expect(folderCover([image('A/artwork.jpg')])?.path).toBe('A/artwork.jpg');
    expect(folderCover([image('A/back.jpg'), image('A/booklet.jpg')])).toBeNull();
    expect(folderCover([])).toBeNull();
  });

  it('skips images admin-svc would refuse', () => {
    expect(folderCover([image('A/cover.gif', 'image/gif'), image('A/folder.jpg')])?.path).toBe('A/folder.jpg');
    expect(folderCover([image('A/cover.jpg', 'image/jpeg', 11 * 1024 * 1024)])).toBeNull();
  });
});

describe('embedded cover', () => {
  it('becomes a File of an accepted type', () => {
    const f = embeddedCoverFile({ data: new Uint8Array([1, 2, 3]), format: 'image/jpeg' });
    expect(f?.type).toBe('image/jpeg');
    expect(f?.name).toBe('embedded-cover.jpg');
    expect(f?.size).toBe(3);
    expect(embeddedCoverFile({ data: new Uint8Array([1]), format: 'PNG' })?.type).toBe('image/png');
    expect(embeddedCoverFile({ data: new Uint8Array([1]), format: 'image/jpg' })?.type).toBe('image/jpeg');
  });

  it('is refused when of another type, empty or missing', () => {
    expect(embeddedCoverFile({ data: new Uint8Array([1]), format: 'image/gif' })).toBeNull();
    expect(embeddedCoverFile({ data: new Uint8Array(0), format: 'image/png' })).toBeNull();
    expect(embeddedCoverFile(null)).toBeNull();
  });
});

describe('chooseCover precedence: chosen > folder image > embedded', () => {
  const chosen = new File([new Uint8Array(1)], 'mine.png', { type: 'image/png' });
  const folder = image('A/cover.jpg');
  const embedded = { file: new File([new Uint8Array(1)], 'embedded-cover.jpg', { type: 'image/jpeg' }), from: 'A/01.mp3' };

  it('picks in that order', () => {
    expect(chooseCover({ chosen, folder, embedded })).toMatchObject({ source: 'chosen', file: chosen });
    expect(chooseCover({ chosen: null, folder, embedded })).toMatchObject({ source: 'folder', file: folder.file, from: 'A/cover.jpg' });
    expect(chooseCover({ chosen: null, folder: null, embedded })).toMatchObject({ source: 'embedded', from: 'A/01.mp3' });
    expect(chooseCover({ chosen: null, folder: null, embedded: null })).toBeNull();
  });
});
