// A real headless Chromium for specs that open generated pages. The browser binary ships inside
// the @sparticuz/chromium package (installed by npm ci, no download at run time); playwright-core
// drives it. Each launch gets a fresh profile (user data dir) and no background traffic of its own.
import { rmSync } from 'node:fs';
import chromium from '@sparticuz/chromium';
import { chromium as driver, type Page } from 'playwright-core';

/** What specs use of the browser. */
export interface HeadlessBrowser {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Launch headless Chromium with a fresh profile in `profileDir` (emptied first). */
export async function launchBrowser(profileDir: string): Promise<HeadlessBrowser> {
  rmSync(profileDir, { recursive: true, force: true });
  // A persistent context is how the profile directory is chosen (playwright owns --user-data-dir).
  const context = await driver.launchPersistentContext(profileDir, {
    executablePath: await chromium.executablePath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return { newPage: () => context.newPage(), close: () => context.close() };
}
