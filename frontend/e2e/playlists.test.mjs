// Playlists and history (issue 19), as a listener does it: create a playlist,
// add songs from an album and from search, reorder by keyboard and by drag,
// reload and see the order kept, play it in order and shuffled, share it; a
// second listener opens the link and can play but not edit; home shows
// "Jump back in" after a counted play.
import assert from 'node:assert/strict';
import { test } from '@playwright/test';
import { audioTime, login, newPage, screenshot, uniqueSuffix, writeLog } from './lib.mjs';

const listener = { email: process.env.E2E_LISTENER_EMAIL, password: process.env.E2E_LISTENER_PASSWORD };
const other = { email: process.env.E2E_ADMIN_EMAIL, password: process.env.E2E_ADMIN_PASSWORD };

let page;
let page2;
const log = [];

test.beforeAll(async ({ browser }) => {
  assert.ok(listener.email && other.email, 'E2E_LISTENER_* and E2E_ADMIN_* are set by dev.d/test/70-e2e.sh');
  ({ page } = await newPage(browser, 'playlists', log));
  ({ page: page2 } = await newPage(browser, 'playlists-other', log));
});

test.afterAll(async () => {
  writeLog('playlists-browser', log);
  await page?.context().close();
  await page2?.context().close();
});

/** Song ids of the playlist page's rows, in order. */
const order = (p) => p.getByTestId('playlist-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-song-id')));

/**
 * Picks playlist `name` in the open "add to playlist" menu and waits for the
 * server's answer (not the toast: the previous add's may still be shown).
 */
async function addTo(p, name) {
  const answered = p.waitForResponse((r) => /\/api\/user\/playlists\/[^/]+\/entries$/.test(r.url()) && r.request().method() === 'POST');
  await p.getByTestId('add-to-playlist-item').and(p.locator(`[data-playlist-name="${name}"]`)).click();
  const r = await answered;
  assert.equal(r.status(), 201, await r.text());
}

/** The answer to the move the page sends. */
const moveAnswered = (p) =>
  p.waitForResponse((r) => r.url().includes('/position') && r.request().method() === 'PUT', { timeout: 15_000 });

test.describe.serial('playlists: build, reorder, play, share; history on home', () => {
  const name = `E2E mix ${uniqueSuffix()}`;
  let url = '';
  let added = [];

  test('log in and create a playlist', async () => {
    await login(page, listener);
    await page.goto('/playlists');
    await page.getByTestId('playlist-new-name').fill(name);
    await page.getByTestId('playlist-create').click();
    await page.getByTestId('playlist-link').filter({ hasText: name }).waitFor();
  });

  test('add three songs from an album', async () => {
    await page.goto('/');
    const cards = page.getByTestId('album-card');
    await cards.first().waitFor();
    const demo = cards.filter({ hasText: 'Northern Lights' });
    await ((await demo.count()) ? demo.first() : cards.first()).click();
    const rows = page.getByTestId('track-row');
    await rows.first().waitFor();
    for (let i = 0; i < 3; i++) {
      const row = rows.nth(i);
      added.push(await row.getAttribute('data-song-id'));
      await row.getByTestId('add-to-playlist').click();
      await addTo(page, name);
    }
  });

  test('add a song from search', async () => {
    await page.goto('/search');
    await page.getByTestId('search-input').fill('Lighthouse');
    const song = page.getByTestId('search-result-song').first();
    await song.waitFor();
    await song.getByTestId('add-to-playlist').click();
    await addTo(page, name);
  });

  test('the playlist lists the four songs in the order added', async () => {
    await page.goto('/playlists');
    await page.getByTestId('playlist-link').filter({ hasText: name }).click();
    await page.getByTestId('playlist-row').nth(3).waitFor();
    url = page.url();
    const songs = await order(page);
    assert.equal(songs.length, 4);
    assert.deepEqual(songs.slice(0, 3), added);
    added = songs;
    await screenshot(page, 'playlist');
  });

  test('reorder with the keyboard: Alt+ArrowUp moves the third song up', async () => {
    await page.getByTestId('playlist-row').nth(2).getByTestId('track-drag').focus();
    const answered = moveAnswered(page);
    await page.keyboard.press('Alt+ArrowUp');
    const want = [added[0], added[2], added[1], added[3]];
    assert.deepEqual(await order(page), want, 'shown at once');
    assert.equal((await answered).status(), 200);
    await page.reload();
    await page.getByTestId('playlist-row').nth(3).waitFor();
    assert.deepEqual(await order(page), want, 'kept after a reload');
    added = want;
  });

  test('reorder by dragging the first song onto the last', async () => {
    const rows = page.getByTestId('playlist-row');
    const answered = moveAnswered(page);
    await rows.nth(0).getByTestId('track-drag').dragTo(rows.nth(3));
    const want = [added[1], added[2], added[3], added[0]];
    await page.waitForFunction(
      (w) => JSON.stringify([...document.querySelectorAll('[data-testid="playlist-row"]')].map((r) => r.getAttribute('data-song-id'))) === JSON.stringify(w),
      want,
    );
    assert.equal((await answered).status(), 200);
    await page.reload();
    await page.getByTestId('playlist-row').nth(3).waitFor();
    assert.deepEqual(await order(page), want, 'kept after a reload');
    added = want;
  });

  test('play in order, then shuffled', async () => {
    await page.getByTestId('playlist-play').click();
    await page.waitForFunction((t) => [...document.querySelectorAll('audio')].some((a) => !a.paused && a.currentTime > t), 1, { timeout: 30_000 });
    assert.equal(await page.getByTestId('playlist-row').first().getAttribute('data-current'), 'true', 'the first song plays first');
    await page.getByTestId('playlist-shuffle').click();
    await page.waitForFunction((t) => [...document.querySelectorAll('audio')].some((a) => !a.paused && a.currentTime > t), 0.5, { timeout: 30_000 });
    assert.equal(await page.locator('[data-testid="playlist-row"][data-current="true"]').count(), 1, 'one of its songs plays');
  });

  test('a counted play shows under "Jump back in" on home', async () => {
    // A demo song is 28-40 s long: it counts after half of it, when the
    // player reports the play.
    const counted = page.waitForResponse((r) => r.url().endsWith('/api/user/plays') && r.request().method() === 'POST', { timeout: 60_000 });
    await page.getByTestId('playlist-play').click();
    const answer = await counted.catch(async (err) => {
      throw new Error(`no play report: ${JSON.stringify(await audioTime(page))} (${err.message})`);
    });
    assert.equal(answer.status(), 201, await answer.text());
    assert.equal(JSON.parse(answer.request().postData() ?? '{}').songId, added[0]);
    await page.getByTestId('player-play').click();
    await page.goto('/');
    const jump = page.getByTestId('jump-back-in');
    await jump.waitFor({ timeout: 15_000 });
    const first = await jump.getByTestId('jump-back-in-row').first().getAttribute('data-song-id');
    assert.equal(first, added[0]);
    await page.goto('/history');
    assert.equal(await page.getByTestId('history-row').first().getAttribute('data-song-id'), added[0]);
    await screenshot(page, 'home-jump-back-in');
  });

  test('share it; another listener opens the link and can play but not edit', async () => {
    await page.goto(url);
    await page.getByTestId('playlist-share').click();
    await page.getByText('Shared playlist').waitFor();
    await login(page2, other);
    await page2.goto(url);
    await page2.getByTestId('playlist-row').nth(3).waitFor();
    assert.deepEqual(await order(page2), added);
    for (const id of ['playlist-rename', 'playlist-share', 'playlist-delete', 'track-drag', 'playlist-remove']) {
      assert.equal(await page2.getByTestId(id).count(), 0, `no ${id} for a listener who does not own it`);
    }
    await page2.getByTestId('playlist-play').click();
    await page2.waitForFunction((t) => [...document.querySelectorAll('audio')].some((a) => !a.paused && a.currentTime > t), 1, { timeout: 30_000 });
    await screenshot(page2, 'playlist-shared');
  });

  test('the owner deletes it', async () => {
    page.once('dialog', (d) => void d.accept());
    await page.getByTestId('playlist-delete').click();
    await page.waitForURL('**/playlists');
    assert.equal(await page.getByTestId('playlist-link').filter({ hasText: name }).count(), 0);
  });
});
