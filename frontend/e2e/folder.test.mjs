// Folder import ("Add from files", issue 20): the demo admin picks a folder
// of three tagged MP3s whose only cover is embedded in track 1; the form is
// pre-filled from the tags (album, artist, titles, order by track number, not
// by file name), the album is created with the embedded cover, every song
// goes uploading → processing → ready (the media worker must be running), and
// a listener sees the album with its cover and the three titles in order.
//
// Then the server's reading: track gains 10 dB apart like the files, one
// album gain, and the waveform in the player. Run by dev.d/test/70-e2e.sh;
// alone, with the stack up (media-worker included):
//   cd frontend && npx playwright test e2e/folder.test.mjs
import assert from 'node:assert/strict';
import { test } from '@playwright/test';
import {
  ADMIN,
  BASE_URL,
  LISTENER,
  assertCoverLoaded,
  deleteAlbumViaApi,
  folderFixture,
  login,
  newPage,
  reloadUntil,
  screenshot,
  uniqueSuffix,
  writeLog,
} from './lib.mjs';

let admin;
let listener;
const log = [];
let leftover = '';

test.beforeAll(async ({ browser }) => {
  ({ page: admin } = await newPage(browser, 'admin', log));
  ({ page: listener } = await newPage(browser, 'listener', log));
});

test.afterAll(async () => {
  writeLog('folder-browser', log);
  await admin?.context().close();
  await listener?.context().close();
  if (leftover) await deleteAlbumViaApi(ADMIN, leftover).catch((err) => console.error(`cleanup of album ${leftover} failed: ${err.message}`));
});

const rowStates = (page) =>
  page.getByTestId('folder-song-row').evaluateAll((els) =>
    els.map((e) => `${e.querySelector('[data-testid="folder-song-title"]')?.value}=${e.getAttribute('data-status')} ${e.innerText.replace(/\s+/g, ' ').trim()}`),
  );

test.describe.serial('admin: add an album from a folder of tagged files', () => {
  const fx = folderFixture();
  // A name of its own, so that runs (and a leftover album) never mix.
  const albumName = `${fx.album} ${uniqueSuffix()}`;
  let albumId = '';

  test('log in as the demo admin and open "Add from files"', async () => {
    await login(admin, ADMIN);
    await admin.goto('/admin?tab=import');
    await admin.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await admin.getByTestId('folder-drop').waitFor();
  });

  test('pick the folder: the tags fill the form, ordered by track number', async () => {
    await admin.getByTestId('folder-input').setInputFiles(fx.dir);
    const rows = admin.getByTestId('folder-song-row');
    await admin.waitForFunction(() => document.querySelectorAll('[data-testid="folder-song-row"]').length === 3, null, { timeout: 20_000 });
    assert.equal(await admin.getByTestId('folder-album-name').inputValue(), fx.album);
    assert.equal(await admin.getByTestId('folder-album-artist').inputValue(), fx.artist);
    const titles = await admin.getByTestId('folder-song-title').evaluateAll((els) => els.map((e) => e.value));
    assert.deepEqual(titles, fx.titles, 'titles from the tags, in track order (the file names sort otherwise)');
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-status'))), ['pending', 'pending', 'pending']);
    // No image in the folder: the picture embedded in track 1 is the cover.
    await admin.getByText(/embedded in (.*\/)?tone-b\.mp3/).waitFor();
    await admin.getByTestId('folder-album-name').fill(albumName);
    await screenshot(admin, 'folder-form');
  });

  test('start: the album is created and every song becomes ready (90 s)', async () => {
    await admin.getByTestId('folder-start').click();
    const summary = admin.getByTestId('folder-summary');
    await summary.waitFor({ timeout: 30_000 });
    albumId = (await summary.getAttribute('data-album-id')) ?? '';
    assert.ok(albumId, 'the summary carries the new album id');
    leftover = albumId;
    try {
      await admin.waitForFunction(
        () => {
          const rows = [...document.querySelectorAll('[data-testid="folder-song-row"]')];
          return rows.length === 3 && rows.every((r) => r.getAttribute('data-status') === 'ready');
        },
        null,
        { timeout: 90_000, polling: 500 },
      );
    } catch (err) {
      throw new Error(`songs not all ready after 90 s: ${(await rowStates(admin)).join(' | ')}`, { cause: err });
    }
    await screenshot(admin, 'folder-ready');
  });

  test('the songs tab lists the three songs, ready, in order', async () => {
    await admin.goto(`/admin?tab=songs&album=${encodeURIComponent(albumId)}`);
    await admin.waitForFunction(() => document.querySelectorAll('[data-testid="admin-song-row"]').length === 3, null, { timeout: 15_000 });
    const rows = await admin.getByTestId('admin-song-row').evaluateAll((els) => els.map((e) => [e.innerText, e.getAttribute('data-status')]));
    assert.deepEqual(
      rows.map(([, s]) => s),
      ['ready', 'ready', 'ready'],
    );
    fx.titles.forEach((t, i) => assert.ok(rows[i][0].includes(t), `row ${i + 1}: ${rows[i][0]}`));
  });

  test('a listener sees the album with its cover and the three titles in order', async () => {
    await login(listener, LISTENER);
    const card = listener.getByTestId('album-card').filter({ hasText: albumName });
    await reloadUntil(listener, async () => (await card.count()) > 0, { what: `“${albumName}” on the home page` });
    await assertCoverLoaded(card.first(), 'the folder album card');
    await card.first().click();
    await listener.getByTestId('album-title').filter({ hasText: albumName }).waitFor();
    await reloadUntil(listener, async () => (await listener.getByTestId('track-row').count()) === 3, { what: 'three tracks on the album page' });
    const rows = await listener.getByTestId('track-row').allInnerTexts();
    fx.titles.forEach((t, i) => assert.ok(rows[i]?.includes(t), `track ${i + 1} should be “${t}”: ${rows.join(' | ')}`));
    // The album page's header holds the cover (the Cover component drops an <img> that failed).
    await assertCoverLoaded(listener.locator('header').filter({ has: listener.getByTestId('album-title') }), 'the album page cover');
    await screenshot(listener, 'folder-album');
  });

  test('the server measured the files: gains follow their loudness, the album gain is shared and applied when the album plays, and the player shows the waveform', async () => {
    const res = await fetch(`${BASE_URL}/api/song/album/${albumId}`);
    assert.equal(res.status, 200);
    const { album, songs } = await res.json();
    const gains = songs.map((s) => s.trackGainDb);
    // The fixtures are tones 10 dB apart, quietest last: each is raised 10 dB more.
    assert.ok(gains.every((g) => typeof g === 'number'), `track gains: ${gains}`);
    assert.ok(Math.abs(gains[1] - gains[0] - 10) < 1 && Math.abs(gains[2] - gains[1] - 10) < 1, `track gains 10 dB apart: ${gains}`);
    assert.equal(typeof album.albumGainDb, 'number', 'album gain set once every song is ready');
    assert.ok(songs.every((s) => s.albumGainDb === album.albumGainDb), 'every song carries its album\'s gain');
    await listener.getByTestId('track-play').first().click();
    await listener.waitForFunction(() => (document.querySelector('audio[data-testid="audio"]')?.currentTime ?? 0) > 0.5, null, { timeout: 30_000 });
    const wave = listener.getByTestId('waveform');
    await wave.waitFor({ timeout: 15_000 });
    assert.ok(Number(await wave.getAttribute('data-bars')) > 10, 'the waveform draws bars');
    assert.equal(await listener.getByTestId('player-normalize').getAttribute('data-state'), 'on', 'normalisation is on by default');
    // The album, played in order from its page, is levelled by its album gain
    // through Web Audio; switched off, by nothing.
    const levelIs = (want) =>
      listener.waitForFunction(
        (w) => {
          const a = document.querySelector('audio[data-testid="audio"]');
          return a?.dataset.route === 'graph' && Math.abs(Number(a.dataset.gain) - w) < 1e-3;
        },
        want,
        { timeout: 10_000 },
      ).catch(async (err) => {
        const seen = await listener.evaluate(() => ({ ...document.querySelector('audio[data-testid="audio"]')?.dataset }));
        throw new Error(`level ${want} wanted, element shows ${JSON.stringify(seen)} (${err.message})`);
      });
    await levelIs(10 ** (album.albumGainDb / 20));
    await listener.getByTestId('player-normalize').click();
    await levelIs(1);
    await listener.getByTestId('player-normalize').click();
    await levelIs(10 ** (album.albumGainDb / 20));
    await screenshot(listener, 'folder-waveform');
  });

  test('clean up: delete the album', async () => {
    await deleteAlbumViaApi(ADMIN, albumId);
    leftover = '';
  });
});
