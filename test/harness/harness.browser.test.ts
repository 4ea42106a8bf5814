/**
 * End to end in the Figma-faithful harness: the real built dist code.js runs against the fake Figma API, the real
 * UI runs in its iframe (inline: sandboxed null origin; hosted: redirected to a second origin), the real engine
 * downloads the harness's proof models from localhost, verifies and runs them, and the result lands in the document.
 * Screenshots go to test-results/harness-*.png.
 *
 * "harness, hosted UI" (Edit, then the hosted Light/Dark switch) opens its own page. "harness, inline UI" (Edit) and
 * "inline workflows" share ONE inline page (to stay fast on a small machine); each test selects what it needs and
 * measures against the document state it found, so they do not depend on each other's results.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { ARTIFACTS } from '../helpers/paths';
import { drawLineMap } from '../../ui/core/raster';
import { CONTROL_LINE_WIDTH } from '../../ui/app/job';
import { WORD_COLOURS } from '../models/proof-fixture';
import { PROOF_CONTROL_GAIN } from '../models/proof-model';
import {
  downloadModelAsync, exportNodeAsync, generateAsync, imageAsync, imagePixelAsync, lastJobInputsAsync, newResults,
  openHarnessAsync as openAsync, resultsAsync, resultsCountAsync, rgbAt, selectAsync, undoStepsAsync, waitForResultsAsync, type Mode, type ResultNode, useHarness,
} from './harness-helpers';


// A busy CI machine gets generous limits (each test downloads or runs the real engine).
vi.setConfig({ testTimeout: 420_000 });

const harness = useHarness('harness-build');

const openHarnessAsync = (mode: Mode) => openAsync(harness.browser, harness.server.url, mode);
/**
 * The inline page: "harness, inline UI" starts on it and "inline workflows" carries on with it, so the file pays for
 * one inline page load, model download and engine warm-up instead of two.
 */
let inlinePage: ReturnType<typeof openHarnessAsync> | null = null;
const sharedInlinePageAsync = () => (inlinePage ??= openHarnessAsync('inline'));


const RED = [...WORD_COLOURS.red];
const GREEN = [...WORD_COLOURS.green];
const BLUE = [...WORD_COLOURS.blue];
const close = (a: number[], b: number[], tol = 12) => a.every((v, i) => Math.abs(v - b[i]!) <= tol);

for (const mode of ['inline', 'hosted'] as const) {
  describe(`harness, ${mode} UI`, () => {
    it('select a frame → Edit through the plugin → a new layer with the result appears on the canvas', async () => {
      const { page, ui, errors } = mode === 'inline' ? await sharedInlinePageAsync() : await openHarnessAsync(mode);
      const ids = await page.evaluate(() => (window as any).__harness.ids);
      await downloadModelAsync(ui, 'proof-turbo');
      await selectAsync(page, [ids.hero]);
      await expect.poll(() => ui.getByText(/Hero/).first().isVisible()).toBe(true);
      await generateAsync(page, ui, { tab: 'Edit', model: 'proof-turbo', prompt: 'red' });

      const [result] = await resultsAsync(page);
      const hero = await page.evaluate((id) => (window as any).__harness.figma.getNodeByIdAsync(id).then((n: any) => n.absoluteBoundingBox), ids.hero);
      expect(result!.fill).toBe('IMAGE');
      // Beside the source, never on it: same size and top, right of it.
      expect({ y: result!.y, width: result!.width, height: result!.height }).toEqual({ y: hero.y, width: hero.width, height: hero.height });
      expect(result!.x).toBeGreaterThanOrEqual(hero.x + hero.width + 24);
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

      if (mode === 'hosted') {
        // The hosted UI opens in Figma's theme (passed on by the bootstrap, opened with themeColors). Figma gives hosted
        // pages no live theme, so Models keeps a Theme switch to follow a change of Figma's theme while it is open.
        const frame = page.frame({ url: (u) => u.href.startsWith(harness.server.appOrigin) })!;
        expect(await frame.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
        await ui.getByRole('tab', { name: 'Models' }).click();
        await ui.getByRole('group', { name: 'Theme' }).getByRole('button', { name: 'Dark', exact: true }).click();
        await expect.poll(() => frame.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
        await ui.getByRole('group', { name: 'Theme' }).getByRole('button', { name: 'Light', exact: true }).click();
        await expect.poll(() => frame.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
      }
      expect(errors).toEqual([]);
      if (mode !== 'inline') await page.close(); // the inline page goes on to "inline workflows"
    });
  });
}

describe('inline workflows (one shared inline page)', () => {
  let page: Page;
  let ui: FrameLocator;
  let errors: string[];
  let ids: Record<string, string>;

  beforeAll(async () => {
    ({ page, ui, errors } = await sharedInlinePageAsync());
    ids = await page.evaluate(() => (window as any).__harness.ids);
  }, 120_000);

  afterAll(async () => {
    expect(errors).toEqual([]);
    await page?.close();
  });

  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `harness-inline-${name}.png`) });

  it('Generate with nothing selected → a new image rectangle in the view, on free space, one undo step', async () => {
    await downloadModelAsync(ui, 'proof-turbo');
    await selectAsync(page, []);
    await expect.poll(() => ui.getByTestId('selection-hint').textContent()).toMatch(/Nothing selected/);
    const before = await resultsAsync(page);
    const undo = await undoStepsAsync(page);
    await generateAsync(page, ui, { tab: 'Generate', model: 'proof-turbo', prompt: 'blue' });

    const [r, ...more] = newResults(before, await resultsAsync(page));
    expect(more).toEqual([]);
    expect(r!.type).toBe('RECTANGLE');
    expect(r!.parentType).toBe('PAGE');
    expect(r!.fill).toBe('IMAGE');
    expect(r!.recipe).toMatchObject({ mode: 'generate', prompt: 'blue', modelId: 'proof-turbo', sourceNodeIds: [] });
    expect({ width: r!.width, height: r!.height }).toEqual({ width: r!.recipe.width, height: r!.recipe.height });
    // In the middle of the view, or — where that would cover other layers — the first free spot right of it.
    const center = await page.evaluate(() => (window as any).__harness.figma.viewport.center);
    expect(Math.abs(r!.y + r!.height / 2 - center.y)).toBeLessThanOrEqual(1);
    expect(r!.x + r!.width / 2).toBeGreaterThanOrEqual(center.x - 1);
    const others: { id: string; x: number; y: number; width: number; height: number }[] = await page.evaluate(() =>
      (window as any).__harness.figma.currentPage.children.map((n: any) => ({ id: n.id, ...n.absoluteBoundingBox })));
    for (const o of others) {
      if (o.id === r!.id) continue;
      expect(r!.x >= o.x + o.width || o.x >= r!.x + r!.width || r!.y >= o.y + o.height || o.y >= r!.y + r!.height).toBe(true);
    }
    const img = await imageAsync(page, r!.hash!);
    expect({ width: img.width, height: img.height }).toEqual({ width: r!.recipe.width, height: r!.recipe.height });
    for (const [fx, fy] of [[0.1, 0.1], [0.5, 0.5], [0.9, 0.8]] as const) expect(close(rgbAt(img, img.width * fx, img.height * fy), BLUE)).toBe(true);
    expect(await undoStepsAsync(page)).toBe(undo + 1);
    await shot('generate');
  });

  for (const model of ['proof-turbo', 'proof-inpaint'] as const) {
    it(`Inpaint (${model}): Photo + the Blemish ellipse over it → the prompt colour inside the ellipse, the photo unchanged well outside`, async () => {
      await downloadModelAsync(ui, model);
      await selectAsync(page, [ids.photo!, ids.blemish!]);
      await expect.poll(() => ui.getByRole('tab', { name: 'Inpaint' }).getAttribute('aria-selected')).toBe('true');
      const before = await resultsAsync(page);
      const undo = await undoStepsAsync(page);
      await generateAsync(page, ui, { tab: 'Inpaint', model, prompt: 'green' });

      const [r, ...more] = newResults(before, await resultsAsync(page));
      expect(more).toEqual([]);
      expect(r!.recipe).toMatchObject({ mode: 'inpaint', modelId: model, sourceNodeIds: [ids.photo], maskNodeIds: [ids.blemish] });
      // The Photo rectangle is 400×300 at (780, 0); the result has its size, beside it.
      expect({ y: r!.y, width: r!.width, height: r!.height }).toEqual({ y: 0, width: 400, height: 300 });
      expect(r!.x).toBeGreaterThanOrEqual(780 + 400 + 24);
      const job = await lastJobInputsAsync(page);
      expect(job.mode).toBe('inpaint');
      const img = await imageAsync(page, r!.hash!);
      expect({ width: img.width, height: img.height }).toEqual({ width: job.width, height: job.height });
      // The source exported at the size the plugin used (the content box of the working canvas).
      const c = job.placement.content;
      const constraint = c.width === job.width ? { type: 'WIDTH' as const, value: c.width } : { type: 'HEIGHT' as const, value: c.height };
      const src = await exportNodeAsync(page, ids.photo!, constraint);
      expect({ width: src.width, height: src.height }).toEqual({ width: c.width, height: c.height });
      const s = c.width / 400; // working px per node px
      // The Blemish: a circle of radius 45 centred at (295, 135) in the Photo's coordinates.
      let inside = 0;
      let outside = 0;
      for (let v = 2; v < 300; v += 7) {
        for (let u = 2; u < 400; u += 7) {
          const d = Math.hypot(u - 295, v - 135);
          const at = rgbAt(img, c.x + u * s, c.y + v * s);
          if (d < 25) {
            inside++;
            expect(close(at, GREEN), `inside (${u},${v}) ${at}`).toBe(true);
          } else if (d > 80) {
            outside++;
            const orig = rgbAt(src, u * s, v * s);
            expect(close(at, orig, 1), `outside (${u},${v}) ${at} vs ${orig}`).toBe(true);
          }
        }
      }
      expect(inside).toBeGreaterThan(20);
      expect(outside).toBeGreaterThan(1500);
      expect(await undoStepsAsync(page)).toBe(undo + 1);
      // The Blemish still covers the repainted area; hide it for the picture (and show it again).
      await page.evaluate((id) => { (window as any).__harness.host.nodeById(id).visible = false; }, ids.blemish);
      await page.evaluate(() => (window as any).__harness.render());
      await shot(`inpaint-${model}`);
      await page.evaluate((id) => { (window as any).__harness.host.nodeById(id).visible = true; }, ids.blemish);
    });
  }

  it('Wireframe → mockup (proof-controlnet): outline pixels are brighter by the ControlNet gain, elsewhere the prompt colour', async () => {
    await downloadModelAsync(ui, 'proof-controlnet');
    await selectAsync(page, [ids.wireframe!]);
    await expect.poll(() => ui.getByRole('tab', { name: 'Wireframe' }).getAttribute('aria-selected')).toBe('true');
    const before = await resultsAsync(page);
    await generateAsync(page, ui, { tab: 'Wireframe', model: 'proof-controlnet', prompt: 'green' });

    const [r] = newResults(before, await resultsAsync(page));
    expect(r!.recipe).toMatchObject({ mode: 'wireframe', modelId: 'proof-controlnet', sourceNodeIds: [ids.wireframe], controlType: 'scribble' });
    expect(r!.recipe.outlineNodeIds).toContain(ids.wireframeX);
    const job = await lastJobInputsAsync(page);
    const { width, height } = job;
    const img = await imageAsync(page, r!.hash!);
    expect({ width: img.width, height: img.height }).toEqual({ width, height });
    // The control image the UI fed the model, rebuilt from the plugin's outlines as the UI does (scribble width).
    const lineWidth = Math.max(1, Math.round(CONTROL_LINE_WIDTH.scribble * Math.max(width, height) / 512));
    const control = drawLineMap(job.outlines!.paths, width, height, { lineWidth });
    // The proof ControlNet adds gain·scale·k (k = the control's mean over each 8×8 latent cell, in [0,1]) to the
    // decoded colour in [-1,1] units, i.e. 127.5·gain·scale·k in 0–255 units.
    const lift = 127.5 * PROOF_CONTROL_GAIN * r!.recipe.controlScale;
    let worst = 0;
    let lines = 0;
    let blank = 0;
    for (let cy = 0; cy < height / 8; cy++) {
      for (let cx = 0; cx < width / 8; cx++) {
        let sum = 0;
        for (let y = cy * 8; y < cy * 8 + 8; y++) for (let x = cx * 8; x < cx * 8 + 8; x++) sum += control.data[(y * width + x) * 4]!;
        const k = sum / 64 / 255;
        const want = GREEN.map((v) => Math.min(255, v + lift * k));
        const got = rgbAt(img, cx * 8 + 3, cy * 8 + 3);
        worst = Math.max(worst, ...got.map((g, i) => Math.abs(g - want[i]!)));
        if (k > 0.5) { lines++; expect(got[0]! - GREEN[0]!).toBeGreaterThan(lift * 0.4); }
        if (k === 0) { blank++; expect(close(got, GREEN, 2)).toBe(true); }
      }
    }
    expect(lines).toBeGreaterThan(20);
    expect(blank).toBeGreaterThan(500);
    expect(worst).toBeLessThanOrEqual(3);
    await shot('wireframe');
  });

  it('Images = 2 → two rectangles in a row right of the source, one undo step for the whole generation', async () => {
    await selectAsync(page, [ids.rectangle!]);
    const source = await page.evaluate((id) => (window as any).__harness.host.nodeById(id).absoluteBoundingBox, ids.rectangle);
    const before = await resultsAsync(page);
    const undo = await undoStepsAsync(page);
    await generateAsync(page, ui, { tab: 'Edit', model: 'proof-turbo', prompt: 'red', images: 2 });

    const fresh = newResults(before, await resultsAsync(page));
    expect(fresh).toHaveLength(2);
    expect(fresh.map((r) => r.recipe.batchIndex).sort()).toEqual([0, 1]);
    for (const r of fresh) {
      expect(r.type).toBe('RECTANGLE');
      expect(r.recipe).toMatchObject({ mode: 'edit', batchCount: 2, sourceNodeIds: [ids.rectangle] });
      expect(r.x).toBeGreaterThanOrEqual(source.x + source.width + 24 - 0.5);
    }
    // Side by side or stacked, they do not overlap each other.
    const [a, b] = fresh as [ResultNode, ResultNode];
    expect(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y).toBe(true);
    expect(await undoStepsAsync(page)).toBe(undo + 1);
    const notes: string[] = await page.evaluate(() => (window as any).__harness.host.notifications.map((n: any) => n.message));
    expect(notes.at(-1)).toMatch(/Inserted 2 images/);
    await shot('batch');
    const count = ui.getByLabel('Images', { exact: true });
    await count.fill('1');
    await count.press('Tab');
  });

  it('Regenerate relaunch button on a result → the plugin reopens with its recipe loaded and its source selected', async () => {
    await selectAsync(page, [ids.hero!]);
    const before = await resultsAsync(page);
    await generateAsync(page, ui, { tab: 'Edit', model: 'proof-turbo', prompt: 'red barn' });
    const [r] = newResults(before, await resultsAsync(page));
    await selectAsync(page, [r!.id]);
    // Figma shows the manifest's relaunch buttons for the selected result (the harness header does too).
    const regenerate = page.locator('#relaunch button[data-command="regenerate"]');
    await regenerate.waitFor();
    await expect.poll(() => page.locator('#relaunch button').allTextContents()).toEqual(['Regenerate', 'Variations']);
    await regenerate.click();

    const ui2 = page.frameLocator('#plugin-iframe');
    await ui2.getByTestId('generate').waitFor({ timeout: 60_000 });
    await expect.poll(() => ui2.getByLabel('Prompt', { exact: true }).inputValue()).toBe('red barn');
    await expect.poll(() => ui2.getByText(`Running the recipe again with seed ${r!.recipe.seed}.`).isVisible()).toBe(true);
    expect(await ui2.getByRole('tab', { name: 'Edit' }).getAttribute('aria-selected')).toBe('true');
    // Regenerate reads the original source again, not the previous result.
    await expect.poll(() => page.evaluate(() => (window as any).__harness.figma.currentPage.selection.map((n: any) => n.id))).toEqual([ids.hero]);
    const cmd = await page.evaluate(() => (window as any).__harness.figma.command);
    expect(cmd).toBe('regenerate');
    await shot('relaunch');

    // Regenerate runs by itself and gives the same image (same source, seed and model). The inline UI keeps
    // downloads only in memory, so the run waits at the model control until the model is downloaded again.
    const before2 = await resultsAsync(page);
    await ui2.locator('[data-testid="error"][data-field="model"]').waitFor();
    await ui2.getByTestId('model-not-ready').getByRole('button', { name: /^Download/ }).click();
    // The waiting message goes once the model is in (until then it is the state, not a failure); the run starts by itself.
    await ui2.locator('[data-testid="error"][data-field="model"]').waitFor({ state: 'detached', timeout: 60_000 });
    await waitForResultsAsync(page, ui2, before2.length + 1);
    const [again] = newResults(before2, await resultsAsync(page));
    expect(again!.recipe).toMatchObject({ mode: 'edit', prompt: 'red barn', seed: r!.recipe.seed, sourceNodeIds: [ids.hero] });
    expect(again!.hash).toBe(r!.hash);

    // Only the relaunched run listens now: one selection change → one selection-changed message.
    const count = () => page.evaluate(() => (window as any).__harness.log.filter((l: any) => l.type === 'selection-changed').length);
    const n = await count();
    await selectAsync(page, [ids.text!]);
    await expect.poll(count).toBe(n + 1);
    await new Promise((res) => setTimeout(res, 300));
    expect(await count()).toBe(n + 1);
    ui = ui2;
  });

  it('Figma dark theme → the inline UI follows figma-dark live', async () => {
    const f = (await (await page.locator('#plugin-iframe').elementHandle())!.contentFrame())!;
    expect(await f.evaluate(() => document.documentElement.className)).toContain('figma-light');
    await page.locator('#figma-theme').selectOption('dark');
    await expect.poll(() => f.evaluate(() => document.documentElement.className)).toContain('figma-dark');
    await expect.poll(() => f.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await f.evaluate(() => getComputedStyle(document.querySelector('.lda')!).backgroundColor)).toBe('rgb(44, 44, 44)');
    // Inline UIs follow Figma; the theme switch in Models is for hosted UIs only.
    await ui.getByRole('tab', { name: 'Models' }).click();
    expect(await ui.getByRole('button', { name: 'Dark', exact: true }).count()).toBe(0);
    await ui.getByRole('tab', { name: 'Create' }).click();
    await selectAsync(page, [ids.photo!, ids.blemish!]);
    await page.waitForTimeout(200);
    await shot('dark');
    await page.locator('#figma-theme').selectOption('light');
    await expect.poll(() => f.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
  });

  it('#15.6: a request the real plugin refuses is answered at once with the field named (no 120 s wait), nothing written', async () => {
    const f = (await (await page.locator('#plugin-iframe').elementHandle())!.contentFrame())!;
    const results = await resultsCountAsync(page);
    const reply = await f.evaluate(() => new Promise<{ m: any; ms: number } | null>((resolve) => {
      const id = `bad-${Date.now()}`;
      const t0 = performance.now();
      const on = (e: MessageEvent) => {
        const m = (e.data as { pluginMessage?: { requestId?: string } } | null)?.pluginMessage;
        if (m?.requestId === id) { removeEventListener('message', on); resolve({ m, ms: performance.now() - t0 }); }
      };
      addEventListener('message', on);
      // What a custom manifest with an 8192² default size used to make the UI send.
      parent.postMessage({ pluginMessage: { type: 'prepare-job', requestId: id, mode: 'generate', size: { maxSide: 768, multiple: 64, targetArea: 8192 * 8192 } } }, '*');
      setTimeout(() => resolve(null), 15_000);
    }));
    expect(reply).not.toBeNull();
    expect(reply!.m).toMatchObject({ type: 'error', error: { code: 'INVALID_MESSAGE', message: 'The plugin refused "prepare-job": At size.targetArea: expected an integer in [4096, 16777216], got 67108864' } });
    expect(reply!.ms).toBeLessThan(5000);
    expect(await resultsCountAsync(page)).toBe(results);
  });
});

