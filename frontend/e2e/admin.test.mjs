// Admin journey: create an album with a cover and two songs (real uploads to
// S3 through presigned URLs), see it as a listener in a second context,
// delete a song, and see the listener's album page follow.
import assert from 'node:assert/strict';
import { test } from '@playwright/test';
import {
  ADMIN,
  LISTENER,
  assertCoverLoaded,
  deleteAlbumViaApi,
  fixtures,
  login,
  newPage,
  progressMax,
  reloadUntil,
  screenshot,
  uniqueSuffix,
  watchProgress,
  writeLog,
} from './lib.mjs';

let admin;
let listener;
const log = [];

test.beforeAll(async ({ browser }) => {
  ({ page: admin } = await newPage(browser, 'admin', log));
  ({ page: listener } = await newPage(browser, 'listener2', log));
});

// Set once the album exists, cleared when the UI deleted it: a run that
// fails half-way must not leave its album on everyone's home page.
let leftover = '';

test.afterAll(async () => {
  writeLog('admin-browser', log);
  await admin?.context().close();
  await listener?.context().close();
  if (leftover) await deleteAlbumViaApi(ADMIN, leftover).catch((err) => console.error(`cleanup of album ${leftover} failed: ${err.message}`));
});

test.describe.serial('admin: album with cover and two songs, visible to listeners, delete a song', () => {
  const files = fixtures();
  const albumName = `E2E Sessions ${uniqueSuffix()}`;
  const artist = 'Cadenza QA';
  let albumId = '';

  test('log in as the demo admin and open the dashboard', async () => {
    await login(admin, ADMIN);
    await admin.goto('/admin');
    await admin.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await admin.getByTestId('create-album-form').waitFor();
  });

  test('create an album with a cover (progress reaches 100%)', async () => {
    await admin.getByTestId('album-name').fill(albumName);
    await admin.getByTestId('album-artist').fill(artist);
    await admin.getByTestId('cover-input').setInputFiles(files.cover);
    await watchProgress(admin, ['cover-progress']);
    await admin.getByTestId('create-album-submit').click();
    const row = admin.getByTestId('admin-album-row').filter({ hasText: albumName });
    await row.waitFor({ timeout: 30_000 });
    albumId = (await row.getAttribute('data-album-id')) ?? '';
    assert.ok(albumId, 'the album row carries its id');
    leftover = albumId;
    const max = await progressMax(admin);
    assert.equal(max['cover-progress#0'], 100, `cover progress seen: ${JSON.stringify(max)}`);
    await admin.getByTestId('toast-success').filter({ hasText: albumName }).waitFor();
  });

  test('add two songs with the multi-file input (both bars reach 100%)', async () => {
    await admin.getByTestId('admin-tab-songs').click();
    const select = admin.getByTestId('songs-album-select');
    await select.locator(`option[value="${albumId}"]`).waitFor({ state: 'attached' });
    await select.selectOption(albumId);
    await admin.getByTestId('song-files-input').setInputFiles(files.songs);
    const drafts = admin.getByTestId('upload-draft');
    await admin.waitForFunction(
      () => {
        const d = [...document.querySelectorAll('[data-testid="upload-draft"]')];
        return d.length === 2 && d.every((x) => x.getAttribute('data-status') === 'ready');
      },
      null,
      { timeout: 30_000 },
    );
    const titles = await admin.getByTestId('draft-title').evaluateAll((els) => els.map((e) => e.value));
    assert.deepEqual(titles, files.titles, 'titles come from the file names');
    await watchProgress(admin, ['upload-progress']);
    await admin.getByTestId('upload-songs').click();
    await admin.waitForFunction(
      () => [...document.querySelectorAll('[data-testid="upload-draft"]')].every((x) => ['done', 'error'].includes(x.getAttribute('data-status') ?? '')),
      null,
      { timeout: 60_000 },
    );
    const statuses = await drafts.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-status')}: ${e.innerText.replace(/\s+/g, ' ')}`));
    assert.ok(statuses.every((s) => s.startsWith('done')), `upload drafts: ${statuses.join(' | ')}`);
    const bars = await admin.getByTestId('upload-progress').evaluateAll((els) => els.map((e) => e.getAttribute('aria-valuenow')));
    assert.deepEqual(bars, ['100', '100']);
    await admin.waitForFunction(() => document.querySelectorAll('[data-testid="admin-song-row"]').length === 2, null, { timeout: 15_000 });
    await admin.waitForTimeout(600); // let the bars' width transition finish for the screenshot
    await screenshot(admin, 'admin-songs');
    await admin.getByTestId('admin-tab-albums').click();
    await admin.getByTestId('admin-album-row').first().waitFor();
    await admin.waitForFunction(() => [...document.images].every((i) => i.complete)).catch(() => {});
    await screenshot(admin, 'admin');
  });

  test('a listener sees the new album on the home page with both songs', async () => {
    await login(listener, LISTENER);
    const card = listener.getByTestId('album-card').filter({ hasText: albumName });
    await reloadUntil(listener, async () => (await card.count()) > 0, { what: `“${albumName}” on the home page` });
    await assertCoverLoaded(card.first(), 'the new album card');
    await card.first().click();
    await listener.getByTestId('album-title').filter({ hasText: albumName }).waitFor();
    await reloadUntil(listener, async () => (await listener.getByTestId('track-row').count()) === 2, { what: 'two tracks on the album page' });
    const rows = await listener.getByTestId('track-row').allInnerTexts();
    assert.ok(rows[0].includes(files.titles[0]) && rows[1].includes(files.titles[1]), `tracks: ${rows.join(' | ')}`);
  });

  test('the admin deletes one song (confirm modal)', async () => {
    await admin.getByTestId('admin-tab-songs').click();
    await admin.getByTestId('songs-album-select').selectOption(albumId);
    const rows = admin.getByTestId('admin-song-row');
    await admin.waitForFunction(() => document.querySelectorAll('[data-testid="admin-song-row"]').length === 2);
    await rows.filter({ hasText: files.titles[0] }).getByTestId('admin-song-delete').click();
    await admin.getByTestId('confirm-delete').click();
    await admin.waitForFunction(() => document.querySelectorAll('[data-testid="admin-song-row"]').length === 1);
    assert.ok((await rows.first().innerText()).includes(files.titles[1]));
  });

  test("the listener's album page shows one song after a reload", async () => {
    await reloadUntil(listener, async () => (await listener.getByTestId('track-row').count()) === 1, { what: 'one track on the album page' });
    assert.ok((await listener.getByTestId('track-row').first().innerText()).includes(files.titles[1]));
  });

  test('clean up: the admin deletes the album', async () => {
    await admin.getByTestId('admin-tab-albums').click();
    const row = admin.getByTestId('admin-album-row').filter({ hasText: albumName });
    await row.getByTestId('admin-album-delete').click();
    await admin.getByTestId('confirm-delete').click();
    await row.waitFor({ state: 'detached' });
    leftover = '';
  });
});
