/**
 * End to end in the Figma-faithful harness: the real built dist code.js runs against the fake Figma API, the real
 * UI runs in its iframe (inline: sandboxed null origin; hosted: redirected to a second origin), the real engine
 * downloads the harness's proof models from localhost, verifies and runs them, and the result lands in the document.
 * Screenshots go to test-results/harness-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import { decode } from 'fast-png';
import { launchChromium } from '../helpers/chromium';
import { ARTIFACTS, ROOT } from '../helpers/paths';
// @ts-expect-error plain ESM module without types
import { startHarnessAsync } from './serve.mjs';

type Mode = 'inline' | 'hosted';
let browser: Browser;
let server: { url: string; closeAsync: () => Promise<unknown> };

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  // The dev ports are the ones manifest.json's devAllowedDomains (and the runtime's allowlist) name.
  server = await startHarnessAsync({ port: 8787, appPort: 8788, outdir: path.join(ROOT, 'test-results/harness-build'), log: () => {} });
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.closeAsync();
});

async function openHarnessAsync(mode: Mode): Promise<{ page: Page; ui: FrameLocator; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}?mode=${mode}`);
  await page.waitForFunction(() => Boolean((window as unknown as { __harness?: unknown }).__harness));
  const ui = page.frameLocator('#plugin-iframe');
  await ui.getByTestId('generate').waitFor({ timeout: 60_000 });
  return { page, ui, errors };
}

async function downloadModelAsync(ui: FrameLocator, id: string): Promise<void> {
  await ui.getByRole('tab', { name: 'Models' }).click();
  const card = ui.locator(`[data-testid="model-${id}"]`);
  await card.getByRole('button', { name: /^Download/ }).click();
  await card.getByText('Ready', { exact: true }).waitFor({ timeout: 60_000 });
  await ui.getByRole('tab', { name: 'Create' }).click();
}

async function selectAsync(page: Page, ids: string[]): Promise<void> {
  await page.evaluate((sel) => (window as any).__harness.host.select(sel), ids);
}

/** Results the plugin wrote: nodes carrying a recipe. */
async function resultsAsync(page: Page): Promise<{ id: string; name: string; x: number; y: number; width: number; height: number; fill: string; hash: string | null; recipe: any }[]> {
  return page.evaluate(() => {
    const { figma } = (window as any).__harness;
    return figma.currentPage.findAll((n: any) => n.getPluginData('recipe') !== '').map((n: any) => ({
      id: n.id, name: n.name, x: n.absoluteBoundingBox.x, y: n.absoluteBoundingBox.y, width: n.width, height: n.height,
      fill: n.fills[0]?.type, hash: n.fills[0]?.imageHash ?? null, recipe: JSON.parse(n.getPluginData('recipe')),
    }));
  });
}

async function imagePixelAsync(page: Page, hash: string, fx: number, fy: number): Promise<number[]> {
  const bytes: number[] = await page.evaluate(async (h) => Array.from(await (window as any).__harness.figma.getImageByHash(h).getBytesAsync()), hash);
  const png = decode(new Uint8Array(bytes));
  const x = Math.floor(png.width * fx);
  const y = Math.floor(png.height * fy);
  const i = (y * png.width + x) * png.channels;
  return Array.from(png.data.slice(i, i + 3));
}

async function generateAsync(page: Page, ui: FrameLocator, opts: { tab: string; model: string; prompt: string }): Promise<void> {
  const before = (await resultsAsync(page)).length;
  await ui.getByRole('tab', { name: opts.tab }).click();
  await ui.getByLabel('Model', { exact: true }).selectOption(opts.model);
  await ui.getByLabel('Prompt', { exact: true }).fill(opts.prompt);
  await ui.getByTestId('generate').click();
  await page.waitForFunction((n) => {
    const { figma } = (window as any).__harness;
    return figma.currentPage.findAll((x: any) => x.getPluginData('recipe') !== '').length > n;
  }, before, { timeout: 120_000 });
}

const RED = [200, 40, 40];
const close = (a: number[], b: number[], tol = 12) => a.every((v, i) => Math.abs(v - b[i]!) <= tol);

for (const mode of ['inline', 'hosted'] as const) {
  describe(`harness, ${mode} UI`, () => {
    it('select a frame → Edit through the plugin → a new layer with the result appears on the canvas', async () => {
      const { page, ui, errors } = await openHarnessAsync(mode);
      const ids = await page.evaluate(() => (window as any).__harness.ids);
      await downloadModelAsync(ui, 'proof-turbo');
      await selectAsync(page, [ids.hero]);
      await expect.poll(() => ui.getByText(/Hero/).first().isVisible()).toBe(true);
      await generateAsync(page, ui, { tab: 'Edit', model: 'proof-turbo', prompt: 'red' });

      const [result] = await resultsAsync(page);
      const hero = await page.evaluate((id) => (window as any).__harness.figma.getNodeByIdAsync(id).then((n: any) => n.absoluteBoundingBox), ids.hero);
      expect(result!.fill).toBe('IMAGE');
      expect({ x: result!.x, y: result!.y, width: result!.width, height: result!.height }).toEqual(hero);
      expect(result!.recipe).toMatchObject({ mode: 'edit', prompt: 'red', modelId: 'proof-turbo', sourceNodeIds: [ids.hero] });
      // The proof model lands exactly on the prompt's colour.
      expect(close(await imagePixelAsync(page, result!.hash!, 0.5, 0.5), RED)).toBe(true);
      // The round trip went through the real message channel.
      const log: { dir: string; type: string }[] = await page.evaluate(() => (window as any).__harness.log);
      const seq = log.map((l) => `${l.dir}:${l.type}`);
      expect(seq).toEqual(expect.arrayContaining(['to-plugin:ui-ready', 'to-ui:init', 'to-plugin:prepare-job', 'to-ui:job-inputs', 'to-plugin:insert-result', 'to-ui:insert-done']));
      const undo = await page.evaluate(() => (window as any).__harness.host.undoSteps);
      expect(undo).toBeGreaterThanOrEqual(1);
      await page.screenshot({ path: path.join(ARTIFACTS, `harness-${mode}-edit.png`) });
      expect(errors).toEqual([]);
      await page.close();
    });
  });
}
