/**
 * The model card's download controls in Chromium (#12.5 / #15.3): Pause and Cancel while downloading, "Paused at …"
 * with Resume and Delete afterwards, Resume to Ready. Screenshot → ARTIFACTS/ui-models-paused-light.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium';
import { serveAppPageAsync } from './app-page-server';
import { ARTIFACTS } from '../helpers/paths';

let closeServer: (() => Promise<void>) | undefined;
let base = '';
let browser: Browser;

beforeAll(async () => {
  const served = await serveAppPageAsync();
  base = served.base;
  closeServer = served.closeAsync;
  browser = await launchChromium();
  fs.mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await closeServer?.();
});

describe('model card download controls', () => {
  it('Pause → "Paused at …" with Resume/Delete → Resume → Ready; Cancel also keeps it', async () => {
    const page = await browser.newPage({ viewport: { width: 360, height: 900 }, deviceScaleFactor: 1 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}?selection=none&downloadMs=300`);
    await page.waitForSelector('.lda[data-ready="true"]');
    await page.click('#nav-models');
    const card = '[data-testid=model-sd-turbo]';
    await page.getByRole('button', { name: /Download SD-Turbo/ }).click();
    await page.getByRole('button', { name: 'I understand, download' }).click();
    await page.waitForFunction((c) => /\(\d+%\)/.test(document.querySelector(`${c} [data-testid=download-progress]`)?.textContent ?? '') && !/\(0%\)/.test(document.querySelector(`${c} [data-testid=download-progress]`)!.textContent!), card);
    await page.getByRole('button', { name: 'Pause downloading SD-Turbo' }).click();
    await page.waitForSelector(`${card} [data-testid=download-paused]`);
    await expect(page.textContent(`${card} [data-testid=download-paused]`)).resolves.toMatch(/^Paused at \d+(\.\d+)? [kMG]B of 2\.6 GB\./);
    expect(await page.locator(`${card} .callout.error`).count()).toBe(0); // a pause is not a failure
    await page.screenshot({ path: path.join(ARTIFACTS, 'ui-models-paused-light.png') });
    await page.getByRole('button', { name: 'Resume downloading SD-Turbo' }).click();
    await page.getByRole('button', { name: 'Cancel downloading SD-Turbo' }).click();
    await page.waitForSelector(`${card} [data-testid=download-paused]`);
    await page.getByRole('button', { name: 'Resume downloading SD-Turbo' }).click();
    await page.waitForFunction((c) => document.querySelector(`${c} .badge.ok`)?.textContent === 'Ready', card, { timeout: 15_000 });
    expect(errors).toEqual([]);
    await page.close();
  });
});
