// Playwright Test for the browser end-to-end tests in e2e/ (see e2e/README.md).
// `npm run e2e` with the stack up, or ../dev.d/test/70-e2e.sh (does both).
//
// One worker, one file after another, each flow's steps in order: the flows
// share the stack's demo accounts and catalogue. The browser is Debian's
// chromium (`npx playwright install` cannot download its own here).
//
//   E2E_CHROMIUM                  default /usr/bin/chromium
//   E2E_HEADED=1                  show the browser (needs a display)
//   PLAYWRIGHT_JSON_OUTPUT_NAME   also write the JSON report there (70-e2e.sh
//                                 reads its counts)
import { defineConfig } from '@playwright/test';

const json = process.env.PLAYWRIGHT_JSON_OUTPUT_NAME;

export default defineConfig({
  testDir: 'e2e',
  // Screenshots of every open page when a step fails (test-failed-N.png).
  outputDir: 'test-results',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: true,
  // Per step, as `node --test --test-timeout=300000` had it.
  timeout: 300_000,
  // The json reporter writes to stdout unless given a file: only with one.
  reporter: json ? [['list'], ['json', { outputFile: json }]] : [['list']],
  use: {
    headless: process.env.E2E_HEADED !== '1',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.E2E_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
      timeout: 60_000,
    },
  },
});
