import { ApiError } from '@/lib/api-client';
import type { UploadKind } from '../types';
import { requestUploadUrl } from './index';

/** Headers a page may not set on XHR; the browser derives them from the body. */
const FORBIDDEN_HEADERS = new Set(['content-length', 'host', 'connection', 'accept-encoding', 'expect']);

/**
 * PUTs `file` to a presigned URL with exactly the signed headers, reporting
 * progress (0–100). XHR rather than fetch because only XHR exposes upload progress.
 */
export function putWithProgress(
  url: string,
  file: Blob,
  headers: Record<string, string>,
  onProgress: (percent: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    for (const [name, value] of Object.entries(headers)) {
      if (!FORBIDDEN_HEADERS.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress((e.loaded / e.total) * 100);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(100);
        resolve();
      } else {
        reject(new ApiError(xhr.status, `Upload failed (storage answered ${xhr.status}).`));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'Upload failed: the storage server could not be reached.'));
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

/** Asks admin-svc for an upload URL, uploads the file, and returns its object key. */
export async function uploadFile(
  file: File,
  kind: UploadKind,
  contentType: string,
  onProgress: (percent: number) => void,
  signal?: AbortSignal,
): Promise<string> {
  const target = await requestUploadUrl(kind, contentType, file.size);
  const headers = target.headers ?? { 'Content-Type': contentType };
  await putWithProgress(target.presignedURL, file, headers, onProgress, signal);
  return target.fileKey;
}
