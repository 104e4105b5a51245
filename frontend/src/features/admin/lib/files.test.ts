import { describe, expect, it } from 'vitest';
import { audioContentTypeOf, checkFile, contentTypeOf, isCoverImage, titleFromFileName } from './files';

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

describe('folder file helpers', () => {
  it('strips leading track and disc-track digits from titles', () => {
    expect(titleFromFileName('07 Seven.ogg')).toBe('Seven');
    expect(titleFromFileName('1-04 Song.flac')).toBe('Song');
    expect(titleFromFileName('2.07 - Other.mp3')).toBe('Other');
    expect(titleFromFileName('4) Four.wav')).toBe('Four');
    expect(titleFromFileName('Song 2.mp3')).toBe('Song 2');
  });

  it('takes audio by MIME type or extension', () => {
    expect(audioContentTypeOf({ name: 'a.mp3', type: 'audio/mpeg' })).toBe('audio/mpeg');
    expect(audioContentTypeOf({ name: 'a.m4a', type: 'video/mp4' })).toBe('audio/mp4');
    expect(audioContentTypeOf({ name: 'a.oga', type: '' })).toBe('audio/ogg');
    expect(audioContentTypeOf({ name: 'a.aac', type: '' })).toBe('audio/mp4');
    expect(audioContentTypeOf({ name: 'noext', type: 'audio/x-flac' })).toBe('audio/flac');
    expect(audioContentTypeOf({ name: 'notes.txt', type: 'text/plain' })).toBeNull();
    expect(audioContentTypeOf({ name: 'a.mid', type: 'audio/midi' })).toBeNull();
  });

  it('recognises cover images', () => {
    expect(isCoverImage({ name: 'cover.jpg', type: '' })).toBe(true);
    expect(isCoverImage({ name: 'Folder.JPEG', type: 'image/jpeg' })).toBe(true);
    expect(isCoverImage({ name: 'x.webp', type: '' })).toBe(true);
    expect(isCoverImage({ name: 'x.gif', type: 'image/gif' })).toBe(false);
    expect(isCoverImage({ name: 'x.txt', type: '' })).toBe(false);
  });
});
