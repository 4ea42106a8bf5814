/**
 * The model card's download controls in Chromium (#12.5 / #15.3): Pause and Cancel while downloading, "Paused at …"
 * with Resume and Delete afterwards, Resume to Ready. Screenshot → ARTIFACTS/ui-models-paused-light.png.
 */
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium';
import { ARTIFACTS, ROOT } from '../helpers/paths';

let server: http.Server;
let base = '';
let browser: Browser;

beforeAll(async () => {
  const out = await esbuild.build({
    entryPoints: [path.join(ROOT, 'test/ui/app-page.tsx')],
    bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2022',
    jsx: 'automatic', jsxImportSource: 'preact', logLevel: 'warning',
  });
  const js = out.outputFiles[0]!.text;
  const html = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>UI test</title></head><body><div id="root"></div><script src="/app.js"></script></body></html>';
  server = http.createServer((req, res) => {
    if (req.url?.startsWith('/app.js')) res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(js);
    else res.writeHead(200, { 'Content-Type': 'text/html' }).end(html);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  browser = await launchChromium();
  fs.mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((r) => server?.close(() => r()));
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
