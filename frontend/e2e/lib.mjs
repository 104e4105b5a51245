// Shared helpers for the browser end-to-end tests (Playwright Test driving
// Debian's chromium; the browser and its launch options come from
// ../playwright.config.mjs). They run against the real stack behind the
// gateway: `./dev up` first, or `../dev.d/test/70-e2e.sh` (does both).
//
// Environment:
//   E2E_BASE_URL        default http://127.0.0.1:8080
//   E2E_MOTO_URL        default http://127.0.0.1:4566 (sent mail: /moto-api/data.json)
//   E2E_CHROMIUM        default /usr/bin/chromium (read by the config)
//   E2E_FIXTURES        upload fixtures (cover.png + 2 MP3s, album/ with 3 tagged MP3s),
//                       default ../.dev/e2e-fixtures;
//                       generated with dev.d/demo/media.py when missing
//   E2E_ADMIN_EMAIL / E2E_ADMIN_PASSWORD        the demo admin
//   E2E_LISTENER_EMAIL / E2E_LISTENER_PASSWORD  the demo listener
//   E2E_HEADED=1        show the browser (needs a display; read by the config)

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');
export const BASE_URL = (process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
export const MOTO_URL = (process.env.E2E_MOTO_URL ?? 'http://127.0.0.1:4566').replace(/\/$/, '');
export const ARTIFACTS = path.join(here, 'artifacts');
export const ADMIN = {
  email: process.env.E2E_ADMIN_EMAIL ?? 'admin@cadenza.local',
  password: process.env.E2E_ADMIN_PASSWORD ?? 'Cadenza-Demo-Conductor-2026',
};
export const LISTENER = {
  email: process.env.E2E_LISTENER_EMAIL ?? 'listener@cadenza.local',
  password: process.env.E2E_LISTENER_PASSWORD ?? 'Cadenza-Demo-Listener-2026',
};

fs.mkdirSync(ARTIFACTS, { recursive: true });

/**
 * A new isolated context + page of `browser` (the worker's `browser` fixture,
 * from a flow's `test.beforeAll`; the flow's steps share it, and its
 * `test.afterAll` closes the context) that records console errors, failed
 * requests and every 4xx/5xx API answer (with its body) into `log` for the
 * report.
 */
export async function newPage(browser, name, log) {
  const context = await browser.newContext({
    baseURL: BASE_URL,
    viewport: { width: 1366, height: 860 },
    deviceScaleFactor: 1,
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(30_000);
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') log.push(`[${name}] console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => log.push(`[${name}] pageerror: ${e.message}`));
  page.on('requestfailed', (r) => {
    const failure = r.failure()?.errorText ?? '';
    // Aborted media range requests are normal when a track changes.
    if (!/ERR_ABORTED/.test(failure)) log.push(`[${name}] request failed: ${r.method()} ${r.url()} ${failure}`);
  });
  page.on('response', async (res) => {
    const url = res.url();
    if (res.status() < 400) return;
    let body = '';
    try {
      body = (await res.text()).slice(0, 400);
    } catch {
      /* body gone (navigation) */
    }
    log.push(`[${name}] ${res.request().method()} ${url} → ${res.status()} ${body}`);
  });
  return { context, page };
}

export const uniqueSuffix = () => `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

export async function screenshot(page, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** Writes the collected browser log next to the screenshots. */
export function writeLog(name, lines) {
  fs.writeFileSync(path.join(ARTIFACTS, `${name}.log`), lines.join('\n') + (lines.length ? '\n' : ''));
}

// ---------------------------------------------------------------- mail (moto SES)
function decodeQuotedPrintable(s) {
  return s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

function decodeBase64Parts(s) {
  // Base64 MIME bodies: decode every long base64 run and append it.
  const out = [];
  for (const m of s.matchAll(/(?:^|\n)((?:[A-Za-z0-9+/]{40,}\r?\n?)+={0,2})/g)) {
    try {
      out.push(Buffer.from(m[1].replace(/\s+/g, ''), 'base64').toString('utf8'));
    } catch {
      /* not base64 */
    }
  }
  return out.join('\n');
}

/** Every SES message moto recorded, as searchable text. */
export async function sentMail() {
  const res = await fetch(`${MOTO_URL}/moto-api/data.json`);
  if (!res.ok) throw new Error(`moto data.json answered ${res.status}`);
  const data = await res.json();
  const ses = data.ses ?? data.sesv2 ?? {};
  const messages = [];
  for (const list of Object.values(ses)) {
    if (!Array.isArray(list)) continue;
    for (const m of list) {
      const text = JSON.stringify(m);
      messages.push({ raw: m, text: `${text}\n${decodeQuotedPrintable(text.replace(/\\r\\n|\\n/g, '\n'))}\n${decodeBase64Parts(text.replace(/\\r\\n|\\n/g, '\n'))}` });
    }
  }
  return messages;
}

/** Waits for a mail to `to` containing a link that starts with `prefix`; returns the link. */
// The default covers one SQS visibility timeout (60 s on the dev queue): a
// mail job received by a poller that was being restarted (./dev up restarts
// the mailer after a rebuild) comes back only after it.
export async function waitForMailLink(to, prefix, timeoutMs = 100_000) {
  const deadline = Date.now() + timeoutMs;
  const esc = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`${esc}[A-Za-z0-9_\\-.~%]+`);
  let seen = 0;
  while (Date.now() < deadline) {
    const mail = (await sentMail()).filter((m) => m.text.toLowerCase().includes(to.toLowerCase()));
    seen = mail.length;
    for (const m of mail.reverse()) {
      const match = m.text.match(re);
      if (match) return match[0].replace(/&amp;/g, '&');
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no mail to ${to} with a link ${prefix}… within ${timeoutMs / 1000}s (${seen} mail(s) to that address)`);
}

/** Deletes an album through the admin API (cleanup after a failed run). */
export async function deleteAlbumViaApi({ email, password }, albumId) {
  const login = await fetch(`${BASE_URL}/api/user/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (!login.ok) throw new Error(`login answered ${login.status}`);
  const { accessToken } = await login.json();
  const res = await fetch(`${BASE_URL}/api/admin/album/${encodeURIComponent(albumId)}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${accessToken}` },
  });
  if (!res.ok && res.status !== 404) throw new Error(`DELETE album answered ${res.status}`);
}

// ---------------------------------------------------------------- UI helpers
export async function login(page, { email, password }) {
  await page.goto('/login');
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('current-user').filter({ hasText: email }).waitFor();
}

/**
 * Records the highest aria-valuenow each progress bar with one of `testIds`
 * ever shows (a bar may unmount a few ms after reaching 100).
 */
export async function watchProgress(page, testIds) {
  await page.evaluate((ids) => {
    const w = window;
    w.__progressMax = w.__progressMax ?? {};
    const sel = ids.map((id) => `[data-testid="${id}"]`).join(',');
    const scan = () => {
      document.querySelectorAll(sel).forEach((el, i) => {
        const key = `${el.getAttribute('data-testid')}#${i}`;
        const v = Number(el.getAttribute('aria-valuenow'));
        if (!Number.isNaN(v)) w.__progressMax[key] = Math.max(w.__progressMax[key] ?? 0, v);
      });
    };
    if (!w.__progressObserver) {
      w.__progressObserver = new MutationObserver(scan);
      w.__progressObserver.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    }
    scan();
  }, testIds);
}

export const progressMax = (page) => page.evaluate(() => ({ ...(window.__progressMax ?? {}) }));

/** Reloads until `check()` is true (caches behind the API may lag an event). */
export async function reloadUntil(page, check, { timeoutMs = 20_000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await page.waitForTimeout(1000);
    await page.reload();
    await page.waitForLoadState('networkidle').catch(() => {});
  }
}

/**
 * Waits until the cover <img> inside `scope` has loaded from the CDN edge
 * (the Cover component swaps a failed image for a gradient, so a missing
 * <img> means the image failed).
 */
export async function assertCoverLoaded(scope, what) {
  const img = scope.locator('img').first();
  await img.waitFor({ state: 'attached', timeout: 10_000 }).catch(() => {
    throw new Error(`${what}: no cover image (it failed to load, or the API gave no URL)`);
  });
  await img.evaluate((el) => (el.complete ? null : new Promise((r) => el.addEventListener('load', r, { once: true }))));
  const width = await img.evaluate((el) => el.naturalWidth);
  if (!(width > 0)) throw new Error(`${what}: the cover image did not decode (${await img.getAttribute('src')})`);
}

export const audioTime = (page) =>
  page.evaluate(() => {
    const a = document.querySelector('audio[data-testid="audio"]');
    return a ? { t: a.currentTime, paused: a.paused, src: a.currentSrc, error: a.error?.code ?? null } : null;
  });

const fixturesDir = () => process.env.E2E_FIXTURES ?? path.join(repoRoot, '.dev', 'e2e-fixtures');

/** Runs `dev.d/demo/media.py fixtures` unless every one of `files` (relative to the fixtures folder) exists. */
function ensureFixtures(dir, files) {
  if (files.every((f) => fs.existsSync(path.join(dir, f)))) return;
  const venvPy = path.join(repoRoot, '.dev', 'venv', 'bin', 'python');
  const py = fs.existsSync(venvPy) ? venvPy : 'python3';
  execFileSync(py, [path.join(repoRoot, 'dev.d', 'demo', 'media.py'), 'fixtures', dir], { stdio: 'inherit' });
}

/** Upload fixtures: cover.png and two MP3s, generated once by dev.d/demo/media.py. */
export function fixtures() {
  const dir = fixturesDir();
  const files = ['cover.png', '01 - Morning Test Tone.mp3', '02 - Evening Test Tone.mp3'];
  ensureFixtures(dir, files);
  return { cover: path.join(dir, files[0]), songs: [path.join(dir, files[1]), path.join(dir, files[2])], titles: ['Morning Test Tone', 'Evening Test Tone'] };
}

/**
 * The folder-import fixture (media.py fixtures → album/): three tagged MP3s,
 * "One", "Two", "Three" (tracks 1-3 at -10/-20/-30 dBFS) of "Folder Album" by
 * "Folder Artist", the cover embedded in track 1 only, and file names that
 * sort in another order than the tracks.
 */
export function folderFixture() {
  const dir = path.join(fixturesDir(), 'album');
  const files = ['tone-a.mp3', 'tone-b.mp3', 'tone-c.mp3'];
  ensureFixtures(fixturesDir(), files.map((f) => path.join('album', f)));
  return { dir, album: 'Folder Album', artist: 'Folder Artist', titles: ['One', 'Two', 'Three'] };
}
