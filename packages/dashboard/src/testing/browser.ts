// Debian's Chromium, headless, driven by puppeteer-core: nothing is downloaded at test time.
// Screenshots go under test-output/ (gitignored), the CI's artifacts.

import * as fs from 'fs';
import * as path from 'path';
import type { Browser, Page } from 'puppeteer-core';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const outputDir = path.resolve(__dirname, '../../test-output');

export const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

export function hasChromium(): boolean {
  return fs.existsSync(chromiumPath);
}

export async function launchChromium(): Promise<Browser> {
  // Loaded here: puppeteer-core is a dev dependency, needed only by tests and the bench.
  const puppeteer = (await import('puppeteer-core')).default;
  return puppeteer.launch({
    executablePath: chromiumPath,
    headless: true,
    args: chromiumFlags,
    defaultViewport: { width: 1400, height: 860 },
  });
}

/** Saves a screenshot as test-output/NAME.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(outputDir, { recursive: true });
  const file = path.join(outputDir, `${name}.png`);
  await page.screenshot({ path: file as `${string}.png` });
  return file;
}

/** Everything the page shows as text, and its markup: what must never hold a secret. */
export async function pageContent(page: Page): Promise<string> {
  // A string, evaluated in the page: this file is compiled without the DOM's types.
  return (await page.evaluate('document.documentElement.outerHTML + "\\n" + document.body.innerText')) as string;
}
