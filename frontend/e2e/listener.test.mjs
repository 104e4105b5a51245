// Listener journey: register → verify by the emailed link → log in → album →
// play → next → shuffle → reload keeps the session → log out.
import assert from 'node:assert/strict';
import { test } from '@playwright/test';
import { BASE_URL, assertCoverLoaded, audioTime, login, newPage, screenshot, uniqueSuffix, waitForMailLink, writeLog } from './lib.mjs';

let page;
const log = [];

test.beforeAll(async ({ browser }) => {
  ({ page } = await newPage(browser, 'listener', log));
});

test.afterAll(async () => {
  writeLog('listener-browser', log);
  await page?.context().close();
});

test.describe.serial('listener: register, verify, log in, play, next, shuffle, reload, log out', () => {
  const user = { email: `e2e-${uniqueSuffix()}@listener.cadenza.test`, password: `Quiet-Harbour-${uniqueSuffix()}` };
  let albumUrl = '';

  test('register a new account', async () => {
    await page.goto('/register');
    await page.getByTestId('register-email').fill(user.email);
    await page.getByTestId('register-password').fill(user.password);
    await page.getByTestId('register-submit').click();
    await page.getByText('Almost there.').waitFor();
  });

  let link = '';
  test('the verification email arrives with a link to the app', async () => {
    link = await waitForMailLink(user.email, `${BASE_URL}/verify-email?token=`);
    assert.match(link, /token=[A-Za-z0-9_\-%.~]{20,}/);
  });

  test('the verification link verifies the email', async () => {
    await page.goto(link);
    const result = page.getByTestId('verify-email-result');
    await result.and(page.locator('[data-status="ok"], [data-status="error"]')).waitFor();
    assert.equal(await result.getAttribute('data-status'), 'ok', `verify page: ${await result.innerText()}`);
  });

  test('log in lands on the home page with the catalogue', async () => {
    await login(page, user);
    const cards = page.getByTestId('album-card');
    await cards.first().waitFor();
    // Covers are real images served by the CDN edge.
    for (let i = 0; i < Math.min(4, await cards.count()); i++) {
      await assertCoverLoaded(cards.nth(i), `album card ${i + 1}`);
    }
    await screenshot(page, 'home');
  });

  test('open an album with several tracks', async () => {
    const cards = page.getByTestId('album-card');
    const demo = cards.filter({ hasText: 'Northern Lights' });
    await ((await demo.count()) ? demo.first() : cards.first()).click();
    await page.getByTestId('album-title').waitFor();
    const rows = page.getByTestId('track-row');
    await rows.first().waitFor();
    assert.ok((await rows.count()) >= 2, 'the album should list at least two tracks');
    albumUrl = page.url();
    await page.waitForFunction(() => [...document.images].every((i) => i.complete)).catch(() => {});
    await screenshot(page, 'album');
  });

  test('play: the audio element advances past 1 s', async () => {
    await page.getByTestId('track-play').first().click();
    await page.waitForFunction(() => (document.querySelector('audio[data-testid="audio"]')?.currentTime ?? 0) > 1.2, null, { timeout: 30_000 })
      .catch(async (err) => {
        throw new Error(`audio did not advance: ${JSON.stringify(await audioTime(page))} (${err.message})`);
      });
    const state = await audioTime(page);
    assert.equal(state.paused, false);
    assert.equal(await page.getByTestId('player-play').getAttribute('data-state'), 'playing');
    await screenshot(page, 'player-playing');
  });

  test('next: another track plays', async () => {
    const title = (await page.getByTestId('player-title').innerText()).trim();
    await page.getByTestId('player-next').click();
    await page.waitForFunction((before) => {
      const el = document.querySelector('[data-testid="player-title"]');
      return el && el.textContent.trim() !== before;
    }, title);
    const after = (await page.getByTestId('player-title').innerText()).trim();
    assert.notEqual(after, title);
    await page.waitForFunction(() => (document.querySelector('audio[data-testid="audio"]')?.currentTime ?? 0) > 0.5, null, { timeout: 30_000 });
  });

  test('shuffle on', async () => {
    const shuffle = page.getByTestId('player-shuffle');
    await shuffle.click();
    await page.waitForFunction(() => document.querySelector('[data-testid="player-shuffle"]')?.getAttribute('aria-pressed') === 'true');
  });

  test('reload keeps the session (refresh cookie)', async () => {
    await page.reload();
    await page.getByTestId('current-user').filter({ hasText: user.email }).waitFor();
    assert.equal(new URL(page.url()).pathname, new URL(albumUrl).pathname, 'still on the album page');
    await page.getByTestId('track-row').first().waitFor();
  });

  test('log out, then a protected page redirects to log in', async () => {
    await page.getByTestId('logout').click();
    await page.waitForURL(/\/login/);
    await page.goto(albumUrl);
    await page.waitForURL(/\/login/);
    await page.getByTestId('login-form').waitFor();
    // And a reload does not bring the session back.
    await page.goto('/');
    await page.waitForURL(/\/login/);
  });
});
