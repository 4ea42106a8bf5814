/**
 * Shared steps for the harness e2e files (harness, first-ten-minutes, boost, full-resolution): start the harness, open the
 * harness page, download a proof model, select layers, run a mode, read the results the plugin wrote.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium';
import { ARTIFACTS, ROOT } from '../helpers/paths';
// @ts-expect-error plain ESM module without types
import { startHarnessAsync } from './serve.mjs';
import { decode } from 'fast-png';
import type { PathData } from '../../protocol/messages';

export type Mode = 'inline' | 'hosted';

export interface HarnessServer { readonly url: string; readonly appOrigin: string; closeAsync(): Promise<unknown> }

/**
 * One harness build (test-results/<buildDir>, on free ports so `npm start` may hold 8787/8788) and one Chromium for a
 * test file: started in beforeAll, closed in afterAll. Read `browser` and `server` inside tests and hooks.
 */
export function useHarness(buildDir: string): { readonly browser: Browser; readonly server: HarnessServer } {
  let browser: Browser | undefined;
  let server: HarnessServer | undefined;
  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    server = await startHarnessAsync({ port: 0, appPort: 0, outdir: path.join(ROOT, 'test-results', buildDir), log: () => {} }) as HarnessServer;
    browser = await launchChromium();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await server?.closeAsync();
  });
  return {
    get browser() { if (!browser) throw new Error('the harness browser is not started (use it inside tests or hooks)'); return browser; },
    get server() { if (!server) throw new Error('the harness server is not started (use it inside tests or hooks)'); return server; },
  };
}

export async function openHarnessAsync(browser: Browser, url: string, mode: Mode, query = ''): Promise<{ page: Page; ui: FrameLocator; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}?mode=${mode}${query}`);
  await page.waitForFunction(() => Boolean((window as unknown as { __harness?: unknown }).__harness));
  const ui = page.frameLocator('#plugin-iframe');
  await ui.getByTestId('generate').waitFor({ timeout: 60_000 });
  return { page, ui, errors };
}

export async function downloadModelAsync(ui: FrameLocator, id: string): Promise<void> {
  await ui.getByRole('tab', { name: 'Models' }).click();
  const card = ui.locator(`[data-testid="model-${id}"]`);
  if (!(await card.getByText('Ready', { exact: true }).isVisible())) {
    await card.getByRole('button', { name: /^Download/ }).click();
    await card.getByText('Ready', { exact: true }).waitFor({ timeout: 60_000 });
  }
  await ui.getByRole('tab', { name: 'Create' }).click();
}

/** Opens the Advanced settings (model, size, images, seed…) when they are closed; they stay open (saved setting). */
export async function openAdvancedAsync(ui: FrameLocator): Promise<void> {
  const adv = ui.getByTestId('advanced');
  if ((await adv.getAttribute('open')) === null) await adv.locator('summary').click();
  await ui.getByLabel('Images', { exact: true }).waitFor();
}

export async function selectAsync(page: Page, ids: string[]): Promise<void> {
  await page.evaluate((sel) => (window as any).__harness.host.select(sel), ids);
}

export interface ResultNode {
  id: string; name: string; type: string; parentType: string; x: number; y: number; width: number; height: number;
  fill: string; hash: string | null; recipe: any;
}

/** Results the plugin wrote: nodes carrying a recipe, in document order. */
export async function resultsAsync(page: Page): Promise<ResultNode[]> {
  return page.evaluate(() => {
    const { figma } = (window as any).__harness;
    return figma.currentPage.findAll((n: any) => n.getPluginData('recipe') !== '').map((n: any) => ({
      id: n.id, name: n.name, type: n.type, parentType: n.parent.type,
      x: n.absoluteBoundingBox.x, y: n.absoluteBoundingBox.y, width: n.width, height: n.height,
      fill: n.fills[0]?.type, hash: n.fills[0]?.imageHash ?? null, recipe: JSON.parse(n.getPluginData('recipe')),
    }));
  });
}

export const newResults = (before: ResultNode[], after: ResultNode[]): ResultNode[] => after.filter((r) => !before.some((b) => b.id === r.id));

export interface Png { width: number; height: number; channels: number; data: Uint8Array | Uint16Array | Uint8ClampedArray }

/*
 * Bytes cross between Node and the page as base64: Playwright serialises a number array element by element, which
 * took 1–4 s for one image's PNG (base64: tens of ms). The page side encodes inside each evaluate (its source is sent).
 */
export const fromBase64 = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, 'base64'));
export const toBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** The bytes of the image with this hash, as the plugin would read them (figma.getImageByHash(…).getBytesAsync()). */
export async function imageBytesAsync(page: Page, hash: string): Promise<Uint8Array> {
  return fromBase64(await page.evaluate(async (h) => {
    const u8: Uint8Array = await (window as any).__harness.figma.getImageByHash(h).getBytesAsync();
    let s = '';
    for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
    return btoa(s);
  }, hash));
}

/** PNG bytes of a node exported by the fake's real exportAsync (as the plugin does). */
export async function exportBytesAsync(page: Page, id: string, constraint: { type: 'WIDTH' | 'HEIGHT' | 'SCALE'; value: number }): Promise<Uint8Array> {
  return fromBase64(await page.evaluate(async ({ id, constraint }) => {
    const node = await (window as any).__harness.figma.getNodeByIdAsync(id);
    const u8: Uint8Array = await node.exportAsync({ format: 'PNG', constraint, useAbsoluteBounds: true, colorProfile: 'SRGB' });
    let s = '';
    for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
    return btoa(s);
  }, { id, constraint }));
}

export async function imageAsync(page: Page, hash: string): Promise<Png> {
  return decode(await imageBytesAsync(page, hash)) as Png;
}

/** RGB at integer pixel (x, y). */
export const rgbAt = (png: Png, x: number, y: number): number[] => {
  const i = (Math.floor(y) * png.width + Math.floor(x)) * png.channels;
  return Array.from(png.data.slice(i, i + 3));
};

export async function imagePixelAsync(page: Page, hash: string, fx: number, fy: number): Promise<number[]> {
  const png = await imageAsync(page, hash);
  return rgbAt(png, png.width * fx, png.height * fy);
}

/** The source node exported by the fake's real exportAsync (as the plugin does), decoded. */
export async function exportNodeAsync(page: Page, id: string, constraint: { type: 'WIDTH' | 'HEIGHT'; value: number }): Promise<Png> {
  return decode(await exportBytesAsync(page, id, constraint)) as Png;
}

export interface JobInputs {
  width: number; height: number; mode: string;
  placement: { x: number; y: number; width: number; height: number; sourceNodeId?: string; content: { x: number; y: number; width: number; height: number } };
  mask?: { paths: PathData[]; nodeIds: string[] };
  outlines?: { paths: PathData[]; nodeIds: string[] };
}

/** The last `job-inputs` the plugin posted to its UI (without the image bytes). */
export async function lastJobInputsAsync(page: Page): Promise<JobInputs> {
  return page.evaluate(() => {
    const msgs = (window as any).__harness.host.uiMessages as { message: any }[];
    const m = [...msgs].reverse().find((e) => e.message?.type === 'job-inputs')!.message;
    return { width: m.width, height: m.height, mode: m.mode, placement: m.placement, mask: m.mask, outlines: m.outlines };
  });
}

export const undoStepsAsync = (page: Page): Promise<number> => page.evaluate(() => (window as any).__harness.host.undoSteps);
export const insertDoneCountAsync = (page: Page): Promise<number> =>
  page.evaluate(() => (window as any).__harness.log.filter((l: any) => l.dir === 'to-ui' && l.type === 'insert-done').length);

/** Polls until the page holds `count` results; throws the UI's error text if it shows one first. */
export async function waitForResultsAsync(page: Page, ui: FrameLocator, count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await resultsCountAsync(page)) >= count) return;
    const error = ui.getByTestId('error');
    if (await error.isVisible()) throw new Error(`The UI showed an error: ${await error.textContent()}`);
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${count} results`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export const resultsCountAsync = (page: Page): Promise<number> =>
  page.evaluate(() => (window as any).__harness.figma.currentPage.findAll((x: any) => x.getPluginData('recipe') !== '').length);

export async function generateAsync(page: Page, ui: FrameLocator, opts: { tab: string; model: string; prompt: string; images?: number }): Promise<void> {
  const before = (await resultsAsync(page)).length;
  const doneBefore = await insertDoneCountAsync(page);
  const images = opts.images ?? 1;
  await ui.getByRole('tab', { name: opts.tab }).click();
  await openAdvancedAsync(ui);
  await ui.getByLabel('Model', { exact: true }).selectOption(opts.model);
  await ui.getByLabel('Prompt', { exact: true }).fill(opts.prompt);
  const count = ui.getByLabel('Images', { exact: true });
  if ((await count.inputValue()) !== String(images)) {
    await count.fill(String(images));
    await count.press('Tab');
    await expect.poll(() => count.inputValue()).toBe(String(images));
  }
  await ui.getByTestId('generate').click();
  // Done when the results are in the document; an error shown by the UI fails at once, with its text.
  await waitForResultsAsync(page, ui, before + images);
  // Every image answered: the plugin has committed the generation's undo step by then.
  await expect.poll(() => insertDoneCountAsync(page), { timeout: 30_000 }).toBe(doneBefore + images);
}

