// Debian's Chromium driven by playwright-core, with the explorer page built into a
// temporary folder: what the browser tests share.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { tempDir } from '../../src/perf/dump-writers/sparse.js';
// @ts-expect-error: a plain ES module script without types
import { buildBrowser } from '../../scripts/browser-build.mjs';

export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const inCi = process.env.CI === 'true' || process.env.CI === '1';
export const haveChromium = existsSync(CHROMIUM);

/** Run the browser tests: always when Chromium is there, and under CI (where its absence is a failure). */
export function browserTestsRun(): boolean {
  if (!haveChromium && !inCi) console.warn(`browser tests skipped: no ${CHROMIUM} (apt-get install -y chromium; under CI=true they fail instead)`);
  return haveChromium || inCi;
}

export interface Explorer {
  readonly context: BrowserContext;
  readonly page: Page;
  /** file:// URL of the built page. */
  readonly url: string;
  /** The library bundle built with it. */
  readonly library: string;
  close(): Promise<void>;
}

/** Build the page and open a browser with a fresh profile on it. */
export async function launchExplorer(): Promise<Explorer> {
  if (!haveChromium) throw new Error(`${CHROMIUM} not found: CI=true requires the browser tests to run (.ci/run installs chromium)`);
  const tmp = tempDir();
  const built = await buildBrowser({ out: tmp.path('explorer'), library: tmp.path('memwalk.js') });
  // A fresh profile each run (playwright passes it as --user-data-dir).
  const context = await chromium.launchPersistentContext(tmp.path('profile'), {
    executablePath: CHROMIUM,
    args: FLAGS,
    headless: true,
    viewport: { width: 1100, height: 900 },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  return {
    context,
    page,
    url: pathToFileURL(join(built.explorer, 'index.html')).href,
    library: built.library,
    async close() {
      await context.close();
      tmp.cleanup();
    },
  };
}

/** Pick `path` in the page and wait for its first space to be mapped; the time to the first picture (ms). */
export async function openInPage(x: Explorer, path: string, timeout = 30_000): Promise<number> {
  await x.page.goto(x.url);
  await x.page.setInputFiles('#file', path);
  await x.page.waitForSelector('body[data-mapped]', { timeout });
  return Number(await x.page.getAttribute('body', 'data-first-picture-ms'));
}

/** Click the download button and return the listing saved. */
export async function downloadListing(x: Explorer): Promise<Buffer> {
  const { readFileSync } = await import('node:fs');
  const [download] = await Promise.all([x.page.waitForEvent('download', { timeout: 120_000 }), x.page.click('#download')]);
  return readFileSync(await download.path());
}
