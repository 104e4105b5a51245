import { describe, expect, it } from 'vitest';
import { checkFile, contentTypeOf, titleFromFileName } from './files';

describe('upload file helpers', () => {
  it('prefills a title from the file name', () => {
    expect(titleFromFileName('03 - My_Song.mp3')).toBe('My Song');
    expect(titleFromFileName('12. Outro.flac')).toBe('Outro');
    expect(titleFromFileName('1999.mp3')).toBe('1999');
    expect(titleFromFileName('Track.Name.v2.ogg')).toBe('Track.Name.v2');
  });

  it('normalises content types and falls back to the extension', () => {
    expect(contentTypeOf({ name: 'a.mp3', type: 'audio/mp3' })).toBe('audio/mpeg');
    expect(contentTypeOf({ name: 'a.wav', type: 'audio/x-wav' })).toBe('audio/wav');
    expect(contentTypeOf({ name: 'a.FLAC', type: '' })).toBe('audio/flac');
    expect(contentTypeOf({ name: 'cover.jpg', type: '' })).toBe('image/jpeg');
  });

  it('rejects the wrong kind of file, empty files and oversize covers', () => {
    expect(checkFile({ name: 'a.mp3', type: 'audio/mpeg', size: 10 }, 'song')).toBeNull();
    expect(checkFile({ name: 'a.gif', type: 'image/gif', size: 10 }, 'thumbnail')).toMatch(/JPEG, PNG or WebP/);
    expect(checkFile({ name: 'a.png', type: 'image/png', size: 11 * 1024 * 1024 }, 'thumbnail')).toMatch(/too large/);
    expect(checkFile({ name: 'a.mp3', type: 'audio/mpeg', size: 0 }, 'song')).toMatch(/empty/);
  });
});
