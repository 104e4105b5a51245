// Builds tiny but real MP3 files for the unit tests: an ID3v2.4 tag (text
// frames and an optional APIC picture), then CBR MPEG-1 Layer III frames
// (128 kb/s, 44.1 kHz, mono, silent) led by a Xing "Info" frame that states
// the frame count, as LAME writes it. music-metadata parses them like any
// MP3; no binary fixture has to be committed.

/** A 1×1 PNG (a real one: it decodes). */
export const PNG_1X1 = Uint8Array.from(
  atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='),
  (c) => c.charCodeAt(0),
);

const utf8 = (s: string) => new TextEncoder().encode(s);

function syncsafe(n: number): number[] {
  return [(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f];
}

function concat(parts: (Uint8Array | number[])[]): Uint8Array<ArrayBuffer> {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function frame(id: string, body: Uint8Array): Uint8Array {
  return concat([utf8(id), syncsafe(body.length), [0, 0], body]);
}

const textFrame = (id: string, value: string) => frame(id, concat([[3], utf8(value)]));

export interface Mp3Tags {
  title?: string;
  artist?: string;
  albumArtist?: string;
  album?: string;
  /** "1/3" */
  track?: string;
  /** "1/2" */
  disc?: string;
  picture?: { mime: string; data: Uint8Array };
}

const FRAME_BYTES = 417; // 144 × 128000 / 44100, no padding
const SAMPLES_PER_FRAME = 1152;

function mpegFrame(): Uint8Array {
  const f = new Uint8Array(FRAME_BYTES);
  f.set([0xff, 0xfb, 0x90, 0xc0]); // sync, MPEG-1 L3 no CRC; 128 kb/s 44.1 kHz; mono
  return f;
}

function infoFrame(frames: number): Uint8Array {
  const f = mpegFrame();
  const at = 4 + 17; // header + mono side info
  f.set(utf8('Info'), at);
  f.set([0, 0, 0, 1], at + 4); // flags: frame count present
  f.set([(frames >>> 24) & 0xff, (frames >>> 16) & 0xff, (frames >>> 8) & 0xff, frames & 0xff], at + 8);
  return f;
}

/** An MP3 of `seconds` of silence with the given tags. */
export function tinyMp3(tags: Mp3Tags, seconds = 1): Uint8Array<ArrayBuffer> {
  const frames: Uint8Array[] = [];
  if (tags.title !== undefined) frames.push(textFrame('TIT2', tags.title));
  if (tags.artist !== undefined) frames.push(textFrame('TPE1', tags.artist));
  if (tags.albumArtist !== undefined) frames.push(textFrame('TPE2', tags.albumArtist));
  if (tags.album !== undefined) frames.push(textFrame('TALB', tags.album));
  if (tags.track !== undefined) frames.push(textFrame('TRCK', tags.track));
  if (tags.disc !== undefined) frames.push(textFrame('TPOS', tags.disc));
  if (tags.picture) {
    // encoding, MIME\0, picture type 3 (front cover), description\0, data
    frames.push(frame('APIC', concat([[3], utf8(tags.picture.mime), [0, 3, 0], tags.picture.data])));
  }
  const body = concat(frames);
  const header = concat([utf8('ID3'), [4, 0, 0], syncsafe(body.length)]);
  const count = Math.max(1, Math.round((seconds * 44100) / SAMPLES_PER_FRAME));
  const audio = [infoFrame(count), ...Array.from({ length: count }, mpegFrame)];
  return concat([header, body, ...audio]);
}
