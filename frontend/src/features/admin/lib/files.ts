/** Upload rules from the contract (admin-svc enforces them too). */
export const COVER_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export const AUDIO_TYPES = ['audio/mpeg', 'audio/flac', 'audio/ogg', 'audio/mp4', 'audio/wav'] as const;
export const MAX_COVER_BYTES = 10 * 1024 * 1024;
export const MAX_AUDIO_BYTES = 500 * 1024 * 1024;

const byExtension: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  mp3: 'audio/mpeg',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/ogg',
  m4a: 'audio/mp4',
  mp4: 'audio/mp4',
  aac: 'audio/mp4',
  wav: 'audio/wav',
};

const aliases: Record<string, string> = {
  'audio/mp3': 'audio/mpeg',
  'audio/mpeg3': 'audio/mpeg',
  'audio/x-mpeg': 'audio/mpeg',
  'audio/x-flac': 'audio/flac',
  'audio/x-wav': 'audio/wav',
  'audio/wave': 'audio/wav',
  'audio/vnd.wave': 'audio/wav',
  'audio/x-m4a': 'audio/mp4',
  'audio/m4a': 'audio/mp4',
  'audio/aac': 'audio/mp4',
  'audio/x-aac': 'audio/mp4',
  'audio/opus': 'audio/ogg',
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
};

/** The canonical content type for a file, from its MIME type or else its extension. */
export function contentTypeOf(file: { name: string; type: string }): string {
  const t = file.type.toLowerCase();
  if (t) return aliases[t] ?? t;
  const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
  return byExtension[ext] ?? 'application/octet-stream';
}

/** A human error for a file admin-svc would refuse, or null. */
export function checkFile(file: { name: string; type: string; size: number }, kind: 'thumbnail' | 'song'): string | null {
  const type = contentTypeOf(file);
  const allowed: readonly string[] = kind === 'thumbnail' ? COVER_TYPES : AUDIO_TYPES;
  const max = kind === 'thumbnail' ? MAX_COVER_BYTES : MAX_AUDIO_BYTES;
  if (!allowed.includes(type)) {
    return kind === 'thumbnail' ? `${file.name}: covers must be JPEG, PNG or WebP.` : `${file.name}: use MP3, FLAC, OGG, M4A or WAV.`;
  }
  if (file.size === 0) return `${file.name} is empty.`;
  if (file.size > max) return `${file.name} is too large (max ${kind === 'thumbnail' ? '10 MiB' : '500 MiB'}).`;
  return null;
}

/**
 * "03 - My_Song.mp3" → "My Song", "1-04 Song.flac" → "Song", "07 Song.ogg" →
 * "Song": the name without its extension and leading track (or disc-track)
 * digits. A name that is nothing but digits ("1999.mp3") is kept.
 */
export function titleFromFileName(name: string): string {
  const base = name.replace(/\.[^.]+$/, '');
  const cleaned = base
    .replace(/_+/g, ' ')
    .replace(/^\s*\d{1,2}\s*[-.]\s*\d{1,3}(?=\s)/, '') // "1-04 …", "2.07 …": disc-track
    .replace(/^\s*\d{1,3}\s*[-.)]\s*/, '') // "03 - …", "12. …", "4) …"
    .replace(/^\s*\d{1,3}\s+(?=\S)/, '') // "07 …"
    .replace(/^\s*[-.)]\s*/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return cleaned || base;
}

const extensionOf = (name: string) => (name.includes('.') ? (name.split('.').pop()?.toLowerCase() ?? '') : '');

/** Extensions taken as audio even when the browser gives no (or a video) MIME type. */
export const AUDIO_EXTENSIONS = ['mp3', 'm4a', 'mp4', 'aac', 'flac', 'ogg', 'oga', 'opus', 'wav'] as const;

/**
 * The upload content type of an audio file admin-svc accepts, from its MIME
 * type or else its extension (a `.m4a` that the OS calls `video/mp4` is
 * audio/mp4), or null when the file is not such audio.
 */
export function audioContentTypeOf(file: { name: string; type: string }): string | null {
  const byType = contentTypeOf(file);
  if ((AUDIO_TYPES as readonly string[]).includes(byType)) return byType;
  const ext = extensionOf(file.name);
  if ((AUDIO_EXTENSIONS as readonly string[]).includes(ext)) return byExtension[ext] ?? null;
  return null;
}

/** True for a JPEG, PNG or WebP image (by MIME type or extension). */
export function isCoverImage(file: { name: string; type: string }): boolean {
  const byType = contentTypeOf(file);
  if ((COVER_TYPES as readonly string[]).includes(byType)) return true;
  const ext = byExtension[extensionOf(file.name)];
  return ext !== undefined && (COVER_TYPES as readonly string[]).includes(ext);
}

/** Duration in seconds, read by the browser from the file's metadata. */
export function readAudioDuration(file: File, timeoutMs = 15000): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file);
    const audio = new Audio();
    audio.preload = 'metadata';
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      audio.removeAttribute('src');
      audio.load();
      URL.revokeObjectURL(url);
      fn();
    };
    const tryResolve = () => {
      if (Number.isFinite(audio.duration) && audio.duration > 0) {
        const d = audio.duration;
        finish(() => resolve(d));
        return true;
      }
      return false;
    };
    const timer = setTimeout(() => finish(() => reject(new Error('Timed out reading the duration.'))), timeoutMs);
    audio.addEventListener('loadedmetadata', () => {
      // Some VBR files report Infinity until a seek forces a scan to the end.
      if (!tryResolve()) audio.currentTime = 1e7;
    });
    audio.addEventListener('durationchange', tryResolve);
    audio.addEventListener('error', () => finish(() => reject(new Error('This browser cannot read that audio file.'))));
    audio.src = url;
  });
}
