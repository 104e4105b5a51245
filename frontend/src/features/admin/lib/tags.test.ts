import { describe, expect, it } from 'vitest';
import { buildFolderForm, readTags, tagsFromMetadata, type TaggedFile, type TrackTags } from './tags';
import { PNG_1X1, tinyMp3, type Mp3Tags } from './testing/tiny-mp3';

const mp3 = (name: string, tags: Mp3Tags, seconds = 1) => new File([tinyMp3(tags, seconds)], name, { type: 'audio/mpeg' });
const tagged = (path: string, tags: TrackTags | null): TaggedFile => ({
  file: new File([new Uint8Array(4)], path.split('/').pop() ?? path, { type: 'audio/mpeg' }),
  path,
  contentType: 'audio/mpeg',
  tags,
});

describe('readTags (music-metadata on real MP3 bytes)', () => {
  it('reads title, artists, album, track/disc, duration and the embedded picture', async () => {
    const file = mp3('01.mp3', { title: 'One', artist: 'Folder Artist', albumArtist: 'The Band', album: 'Folder Album', track: '1/3', disc: '2/2', picture: { mime: 'image/png', data: PNG_1X1 } }, 2);
    const tags = await readTags(file);
    expect(tags).toMatchObject({ title: 'One', artist: 'Folder Artist', albumArtist: 'The Band', album: 'Folder Album', track: 1, disc: 2 });
    expect(tags?.duration).toBeGreaterThan(1.9);
    expect(tags?.duration).toBeLessThan(2.2);
    expect(tags?.picture?.format).toBe('image/png');
    expect(Array.from(tags?.picture?.data ?? [])).toEqual(Array.from(PNG_1X1));
  });

  it('gives an untagged MP3 no text tags but its duration', async () => {
    const tags = await readTags(mp3('x.mp3', {}, 1));
    expect(tags?.title).toBeUndefined();
    expect(tags?.track).toBeUndefined();
    expect(tags?.duration).toBeGreaterThan(0.9);
  });

  it('finds nothing in a file that is not audio (the form falls back to the file name)', async () => {
    const text = new TextEncoder().encode('not audio at all, just text');
    expect((await readTags(new File([text], 'fake.mp3', { type: 'audio/mpeg' }))) ?? {}).toEqual({});
    expect(await readTags(new File([text], 'fake', { type: '' }))).toBeNull();
  });

  it('ignores blank tags and missing numbers', () => {
    const tags = tagsFromMetadata({
      common: { title: '  ', artist: undefined, artists: ['  Someone '], album: 'A', track: { no: null, of: null }, disk: { no: 0, of: null } },
      format: { duration: Number.NaN },
    } as unknown as Parameters<typeof tagsFromMetadata>[0]);
    expect(tags).toEqual({ artist: 'Someone', album: 'A' });
  });
});

describe('buildFolderForm', () => {
  it('sorts by disc, then track, then file name (natural order)', () => {
    const form = buildFolderForm([
      tagged('A/d2t1.mp3', { title: 'D2T1', disc: 2, track: 1 }),
      tagged('A/10 - ten.mp3', null),
      tagged('A/d1t2.mp3', { title: 'D1T2', disc: 1, track: 2 }),
      tagged('A/2 - two.mp3', null),
      tagged('A/t1.mp3', { title: 'T1', track: 1 }), // no disc: disc 1
      tagged('A/d1-untracked.mp3', { title: 'D1?', disc: 1 }),
    ]);
    expect(form.songs.map((s) => s.title)).toEqual(['T1', 'D1T2', 'two', 'ten', 'D1?', 'D2T1']);
  });

  it('keeps tag numbers and durations, and falls back to the file name for titles', () => {
    const form = buildFolderForm([tagged('Album/03 - My_Song.flac', { track: 3, duration: 61.5 }), tagged('Album/07 Seven.ogg', null)]);
    expect(form.songs.map((s) => [s.title, s.tagTrack, s.duration])).toEqual([
      ['My Song', 3, 61.5],
      ['Seven', null, null],
    ]);
  });

  it('takes the most common album and album artist, else the artist, else the folder name', () => {
    const form = buildFolderForm(
      [
        tagged('F/1.mp3', { album: 'Right', artist: 'Guest' }),
        tagged('F/2.mp3', { album: 'Right', artist: 'Main' }),
        tagged('F/3.mp3', { album: 'Wrong', artist: 'Main' }),
      ],
      'F',
    );
    expect(form.albumName).toBe('Right');
    expect(form.albumArtist).toBe('Main');
    expect(form.songs.map((s) => s.artist)).toEqual(['Guest', 'Main', 'Main']);

    const withAlbumArtist = buildFolderForm([tagged('1.mp3', { albumArtist: 'Various', artist: 'X' }), tagged('2.mp3', { artist: 'Y' })]);
    expect(withAlbumArtist.albumArtist).toBe('Various');

    const untagged = buildFolderForm([tagged('My Folder/01 a.mp3', null), tagged('My Folder/02 b.mp3', {})], 'My Folder');
    expect(untagged.albumName).toBe('My Folder');
    expect(untagged.albumArtist).toBe('');
    expect(untagged.songs.map((s) => s.artist)).toEqual(['', '']);
  });

  it('a song without an artist tag gets the album artist', () => {
    const form = buildFolderForm([tagged('1.mp3', { albumArtist: 'Band', track: 1 }), tagged('2.mp3', { artist: 'Solo', track: 2 })]);
    expect(form.songs.map((s) => s.artist)).toEqual(['Band', 'Solo']);
  });

  it('takes the embedded picture of the first song in order that has one', () => {
    const pic = (n: number) => ({ data: new Uint8Array([n]), format: 'image/jpeg' });
    const form = buildFolderForm([
      tagged('c.mp3', { track: 3, picture: pic(3) }),
      tagged('a.mp3', { track: 1 }),
      tagged('b.mp3', { track: 2, picture: pic(2) }),
    ]);
    expect(form.embedded?.data[0]).toBe(2);
    expect(form.embedded?.from).toBe('b.mp3');
    expect(buildFolderForm([tagged('a.mp3', null)]).embedded).toBeNull();
  });

  it('builds the form from real tagged MP3s', async () => {
    const files = [
      mp3('03 c.mp3', { title: 'Three', artist: 'Folder Artist', album: 'Folder Album', track: '3/3' }),
      mp3('01 a.mp3', { title: 'One', artist: 'Folder Artist', album: 'Folder Album', track: '1/3', picture: { mime: 'image/png', data: PNG_1X1 } }),
      mp3('02 b.mp3', { title: 'Two', artist: 'Folder Artist', album: 'Folder Album', track: '2/3' }),
    ];
    const taggedFiles = await Promise.all(files.map(async (file) => ({ file, path: `album/${file.name}`, contentType: 'audio/mpeg', tags: await readTags(file) })));
    const form = buildFolderForm(taggedFiles, 'album');
    expect(form.albumName).toBe('Folder Album');
    expect(form.albumArtist).toBe('Folder Artist');
    expect(form.songs.map((s) => [s.title, s.tagTrack])).toEqual([
      ['One', 1],
      ['Two', 2],
      ['Three', 3],
    ]);
    expect(form.embedded?.from).toBe('album/01 a.mp3');
  });
});
