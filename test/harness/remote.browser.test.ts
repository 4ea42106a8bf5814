/**
 * End to end through a ComfyUI server: the real built plugin in the Figma-faithful harness (both UI modes) talks to
 * the stand-in ComfyUI server (test/comfy-standin) — connect in Models → Server, switch "Run on" beside Generate,
 * get the same kind of layer back with previews and a recipe naming the server's model. Inline also: a server started
 * without --enable-cors-header is refused by the real browser and the UI names the flag, and Inpaint on the server.
 * Both modes: Style reference on the server — each precondition (the server lacks the IP-Adapter pack, no reference
 * chosen) stops the run with one message at the Style reference control; after the pack is installed and checked again,
 * “Use selection” remembers the reference and the result takes its look (IP-Adapter → KSampler in the stand-in);
 * the recipe records it and Re-run from History gives the same image. No request leaves for any host but the harness
 * and the servers the user connected, and none reaches a server before the user connects it. One page per UI mode (Chromium pages are slow on a small machine).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import { decode } from 'fast-png';
import { launchChromium } from '../helpers/chromium';
import { ARTIFACTS, ROOT } from '../helpers/paths';
import { startStandinAsync, type RunningStandin } from '../comfy-standin/server';
// @ts-expect-error plain ESM module without types
import { startHarnessAsync } from './serve.mjs';

let browser: Browser;
let harness: { url: string; appOrigin: string; closeAsync: () => Promise<unknown> };
let comfy: RunningStandin;
let noCors: RunningStandin;

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  comfy = await startStandinAsync({ cors: '*', stepMs: 40, checkpoints: ['sd15-random.safetensors'], controlnets: ['control_v11p_sd15_lineart.safetensors'] });
  noCors = await startStandinAsync({ cors: null });
  harness = await startHarnessAsync({
    port: 0, appPort: 0, outdir: path.join(ROOT, 'test-results/remote-harness-build'), log: () => {}, serverHosts: [comfy.url, noCors.url],
  });
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await harness?.closeAsync();
  await comfy?.closeAsync();
  await noCors?.closeAsync();
});

async function openAsync(mode: 'inline' | 'hosted'): Promise<{ page: Page; ui: FrameLocator; errors: string[]; hosts: Set<string> }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  const hosts = new Set<string>();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => { const u = new URL(r.url()); if (u.protocol.startsWith('http') || u.protocol.startsWith('ws')) hosts.add(u.host); });
  page.on('websocket', (ws) => hosts.add(new URL(ws.url()).host));
  await page.goto(`${harness.url}?mode=${mode}`);
  await page.waitForFunction(() => Boolean((window as unknown as { __harness?: unknown }).__harness));
  const ui = page.frameLocator('#plugin-iframe');
  await ui.getByTestId('generate').waitFor({ timeout: 60_000 });
  return { page, ui, errors, hosts };
}

async function connectAsync(ui: FrameLocator, url: string): Promise<void> {
  await ui.getByRole('tab', { name: 'Models' }).click();
  await ui.getByTestId('server-url').fill(url);
  await ui.getByTestId('server-connect').click();
}

const resultsAsync = (page: Page): Promise<{ id: string; hash: string; width: number; height: number; recipe: any }[]> => page.evaluate(() => {
  const { figma } = (window as any).__harness;
  return figma.currentPage.findAll((n: any) => n.getPluginData('recipe') !== '').map((n: any) => ({
    id: n.id, hash: n.fills[0]?.imageHash, width: n.width, height: n.height, recipe: JSON.parse(n.getPluginData('recipe')),
  }));
});

async function imageAsync(page: Page, hash: string): Promise<{ width: number; height: number; channels: number; data: Uint8Array }> {
  const bytes: number[] = await page.evaluate(async (h) => Array.from(await (window as any).__harness.figma.getImageByHash(h).getBytesAsync()), hash);
  return decode(new Uint8Array(bytes)) as unknown as { width: number; height: number; channels: number; data: Uint8Array };
}

async function runOnServerAsync(page: Page, ui: FrameLocator, tab: string, prompt: string): Promise<void> {
  const before = (await resultsAsync(page)).length;
  await ui.getByRole('tab', { name: 'Create' }).click();
  await ui.getByRole('tab', { name: tab }).click();
  // Two clicks: open "Run on", pick the server.
  await ui.getByTestId('engine-picker').selectOption('server');
  await expect.poll(() => ui.getByLabel('Model', { exact: true }).inputValue()).toBe('comfyui:sd15-random.safetensors');
  await ui.getByLabel('Prompt', { exact: true }).fill(prompt);
  await ui.getByTestId('generate').click();
  // Previews arrive from the server's binary frames while it samples.
  await expect.poll(() => ui.getByTestId('preview').getAttribute('data-updates'), { timeout: 30_000 }).toBe('1');
  await expect.poll(async () => (await resultsAsync(page)).length, { timeout: 60_000 }).toBe(before + 1);
}

/**
 * A server started without --enable-cors-header is refused by the browser and the UI names the flag; then Photo +
 * Blemish → Inpaint on the server: pixels well outside the mask come back unchanged.
 */
async function corsThenInpaintAsync(page: Page, ui: FrameLocator): Promise<void> {
  const ids = await page.evaluate(() => (window as any).__harness.ids);
  await connectAsync(ui, noCors.url);
  await expect.poll(() => ui.getByTestId('server-error').textContent(), { timeout: 20_000 }).toMatch(/refused requests from the plugin \(CORS\).*--enable-cors-header/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'remote-inline-cors-refused.png') });

  await connectAsync(ui, comfy.url);
  await expect.poll(() => ui.getByTestId('server-status').textContent(), { timeout: 20_000 }).toMatch(/^Connected/);
  await page.evaluate((sel) => (window as any).__harness.host.select(sel), [ids.photo, ids.blemish]);
  const before = await resultsAsync(page);
  await runOnServerAsync(page, ui, 'Inpaint', 'green moss');
  const [r] = (await resultsAsync(page)).filter((x) => !before.some((b) => b.id === x.id));
  expect(r!.recipe).toMatchObject({ mode: 'inpaint', engine: 'comfyui', sourceNodeIds: [ids.photo], maskNodeIds: [ids.blemish] });
  const img = await imageAsync(page, r!.hash);
  // The source and mask as the server received them: outside the mask the result keeps the source exactly.
  const srcName = [...comfy.standin.inputs.keys()].find((k) => k.startsWith('figma-source-'))!;
  const src = decode(comfy.standin.inputs.get(srcName)!);
  expect([src.width, src.height]).toEqual([img.width, img.height]);
  const maskName = [...comfy.standin.inputs.keys()].find((k) => k.startsWith('figma-mask-'))!;
  const mask = decode(comfy.standin.inputs.get(maskName)!);
  let same = 0; let outside = 0; let changed = 0; let inside = 0;
  for (let y = 0; y < img.height; y += 3) for (let x = 0; x < img.width; x += 3) {
    const m = mask.data[(y * mask.width + x) * mask.channels] as number;
    const a = Array.from(img.data.slice((y * img.width + x) * img.channels, (y * img.width + x) * img.channels + 3));
    const b = Array.from(src.data.slice((y * src.width + x) * src.channels, (y * src.width + x) * src.channels + 3));
    const eq = a.every((v, i) => v === b[i]);
    if (m === 0) { outside++; if (eq) same++; } else if (m === 255) { inside++; if (!eq) changed++; }
  }
  expect(outside).toBeGreaterThan(1000);
  expect(same).toBe(outside);
  expect(changed).toBeGreaterThan(inside * 0.9);
  await page.screenshot({ path: path.join(ARTIFACTS, 'remote-inline-inpaint.png') });
}

const IPADAPTER = 'ip-adapter-plus_sd15.safetensors';
const CLIP_VISION = 'CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors';
const meanRgb = (img: { width: number; height: number; channels: number; data: ArrayLike<number> }): number[] => {
  const m = [0, 0, 0];
  for (let i = 0; i < img.width * img.height; i++) for (let c = 0; c < 3; c++) m[c]! += (img.data[i * img.channels + c] as number) / (img.width * img.height);
  return m;
};
const dist = (a: number[], b: number[]): number => Math.hypot(...a.map((v, i) => v - (b[i] as number)));

/** The one error on screen: at the Style reference control, with this text. */
async function styleErrorAsync(ui: FrameLocator, text: RegExp): Promise<void> {
  await expect.poll(() => ui.getByTestId('error').count(), { timeout: 20_000 }).toBe(1);
  expect(await ui.getByTestId('style-ref').getByTestId('error').getAttribute('data-field')).toBe('style');
  expect(await ui.getByTestId('style-ref').getByTestId('error').textContent()).toMatch(text);
}

/**
 * Style reference on the server (after a plain Generate of `plainPrompt` with nothing selected): the preconditions,
 * then a styled Generate whose image moves toward the reference's colours, its recipe, and Re-run from History.
 */
async function styleReferenceAsync(page: Page, ui: FrameLocator, mode: string, plain: { hash: string }): Promise<void> {
  const ids = await page.evaluate(() => (window as any).__harness.ids);
  await ui.getByRole('tab', { name: 'Create' }).click();
  await ui.getByTestId('style-toggle').check();
  // 1. The server lacks the IP-Adapter pack and a style model: named, at the control; nothing is queued.
  const queued = () => comfy.standin.requests.filter((q) => q.method === 'POST' && q.path === '/prompt').length;
  const before = queued();
  await ui.getByTestId('generate').click();
  await styleErrorAsync(ui, /can't apply a style reference: it needs the IP-Adapter nodes \(ComfyUI_IPAdapter_plus\), an IP-Adapter model in models\/ipadapter, or else a style model in models\/style_models, plus a CLIP vision model in models\/clip_vision\./);
  await page.screenshot({ path: path.join(ARTIFACTS, `remote-${mode}-style-server-lacks.png`) });
  // 2. Installed on the server, checked again: no reference chosen yet.
  comfy.standin.install({ ipadapters: [IPADAPTER], clipVision: [CLIP_VISION] });
  await ui.getByRole('tab', { name: 'Models' }).click();
  await ui.getByTestId('server-connect').click();
  await expect.poll(() => ui.getByTestId('server-mode-style').textContent(), { timeout: 20_000 }).toMatch(/✓ Style reference/);
  await ui.getByRole('tab', { name: 'Create' }).click();
  await ui.getByTestId('generate').click();
  await styleErrorAsync(ui, /No style reference is chosen yet\./);
  expect(queued()).toBe(before);
  // 3. Select the reference, “Use selection”: remembered with its thumbnail; then nothing selected → Generate.
  await page.evaluate((id) => (window as any).__harness.host.select([id]), ids.photo);
  await ui.getByTestId('style-pick').click();
  await expect.poll(() => ui.getByTestId('style-name').textContent(), { timeout: 20_000 }).toBe('Photo');
  expect(await ui.getByTestId('style-thumb').isVisible()).toBe(true);
  expect(await ui.getByTestId('error').count()).toBe(0);
  await page.evaluate(() => (window as any).__harness.host.select([]));
  const newResultAsync = async (run: () => Promise<void>) => {
    const seen = new Set((await resultsAsync(page)).map((x) => x.id));
    await run();
    await expect.poll(async () => (await resultsAsync(page)).length, { timeout: 60_000 }).toBe(seen.size + 1);
    return (await resultsAsync(page)).find((x) => !seen.has(x.id))!;
  };
  const styled = await newResultAsync(() => ui.getByTestId('generate').click());
  expect(styled.recipe).toMatchObject({ engine: 'comfyui', styleNodeId: ids.photo, styleStrength: 0.8, serverModels: ['sd15-random.safetensors', IPADAPTER, CLIP_VISION] });
  // The server got the reference as the plugin exported it, wired through IP-Adapter into the sampler's model…
  const [, sent] = [...comfy.standin.history.entries()].at(-1)!;
  const graph = (sent.prompt as [number, string, Record<string, { class_type: string; inputs: Record<string, any> }>])[2];
  const ipa = Object.entries(graph).find(([, n]) => n.class_type === 'IPAdapterAdvanced')!;
  expect(ipa[1].inputs).toMatchObject({ weight: 0.8, weight_type: 'style transfer' });
  expect(Object.values(graph).find((n) => n.class_type === 'KSampler')!.inputs.model).toEqual([ipa[0], 0]);
  const refName = graph[ipa[1].inputs.image[0]]!.inputs.image as string;
  expect(refName).toMatch(/^figma-style-[0-9a-f]{16}\.png$/);
  const ref = decode(comfy.standin.inputs.get(refName)!);
  expect([ref.width, ref.height]).toEqual([400, 300]);
  // …and the image took its look: nearer the reference's colours than the same prompt without it.
  const [plainImg, styledImg] = [await imageAsync(page, plain.hash), await imageAsync(page, styled.hash)];
  const refMean = meanRgb(ref);
  expect(dist(meanRgb(styledImg), refMean)).toBeLessThan(dist(meanRgb(plainImg), refMean) * 0.6);
  await page.screenshot({ path: path.join(ARTIFACTS, `remote-${mode}-style.png`) });
  // 4. Re-run from History (the style turned off meanwhile): the recipe brings it back, the same image again.
  await ui.getByTestId('style-toggle').uncheck();
  await ui.getByRole('tab', { name: 'History' }).click();
  const again = await newResultAsync(() => ui.getByTestId('history-entry').first().getByRole('button', { name: /^Re-run with seed/ }).click());
  expect(again.recipe).toMatchObject({ styleNodeId: ids.photo, seed: styled.recipe.seed });
  const [a, b] = [await imageAsync(page, again.hash), await imageAsync(page, styled.hash)];
  expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
  expect(await ui.getByTestId('style-toggle').isChecked()).toBe(true);
  // Back to the server as the next mode's test expects it (no IP-Adapter pack); this device: off with the reason.
  comfy.standin.install({ ipadapters: undefined, clipVision: [] });
  await ui.getByRole('tab', { name: 'Create' }).click();
  await ui.getByTestId('style-toggle').uncheck();
  await ui.getByTestId('engine-picker').selectOption('local');
  expect(await ui.getByTestId('style-toggle').isDisabled()).toBe(true);
  expect(await ui.getByTestId('style-unavailable').textContent()).toMatch(/^Style reference runs on a ComfyUI server .*this device's engine can't apply one\. Choose your server in “Run on”\.$/);
}

for (const mode of ['inline', 'hosted'] as const) {
  describe(`ComfyUI server, ${mode} UI`, () => {
    it(`connect in Models → Server, switch "Run on" to the server, Generate → an image layer from the server with a recipe naming it; Style reference (preconditions at the control, applied, recorded, Re-run)${mode === 'inline' ? '; a CORS refusal names --enable-cors-header; Inpaint on the server keeps pixels outside the mask' : ''}`, async () => {
      const { page, ui, errors, hosts } = await openAsync(mode);
      const requestsBefore = comfy.standin.requests.length;
      await page.waitForTimeout(300);
      // Nothing reaches a server before the user connects it.
      expect(comfy.standin.requests.length).toBe(requestsBefore);
      await connectAsync(ui, comfy.url);
      await expect.poll(() => ui.getByTestId('server-status').textContent(), { timeout: 20_000 }).toMatch(/^Connected — ComfyUI 0\.3\.64 on cpu/);
      await expect.poll(() => ui.getByTestId('server-mode-wireframe').textContent()).toMatch(/✓/);
      await expect.poll(() => ui.getByTestId('server-mode-style').textContent()).toMatch(/✗ Style reference — needs the IP-Adapter nodes \(ComfyUI_IPAdapter_plus\), an IP-Adapter model in models\/ipadapter, or else a style model in models\/style_models, plus a CLIP vision model in models\/clip_vision$/);
      // The server's models are listed beside the local ones.
      await expect(ui.getByTestId('model-comfyui:sd15-random.safetensors').getByTestId('server-badge').textContent()).resolves.toBe('On the server');
      await page.screenshot({ path: path.join(ARTIFACTS, `remote-${mode}-server-card.png`) });

      await page.evaluate(() => (window as any).__harness.host.select([]));
      await runOnServerAsync(page, ui, 'Generate', 'a red cabin');
      const [r] = await resultsAsync(page);
      expect(r!.recipe).toMatchObject({ mode: 'generate', prompt: 'a red cabin', modelId: 'comfyui:sd15-random.safetensors', engine: 'comfyui', serverModels: ['sd15-random.safetensors'] });
      expect(r!.recipe.serverModelHashes).toBeUndefined(); // this server reports no hash for the file
      // The layer holds exactly the PNG the server produced.
      const last = [...comfy.standin.temp.values()].at(-1)!;
      const made = decode(last);
      const got = await imageAsync(page, r!.hash);
      expect([got.width, got.height]).toEqual([made.width, made.height]);
      expect(Buffer.from(got.data).equals(Buffer.from(made.data))).toBe(true);
      const sent = comfy.standin.requests.filter((q) => q.method === 'POST' && q.path === '/prompt').at(-1);
      expect(sent?.origin).toBe(mode === 'inline' ? 'null' : harness.appOrigin);
      await page.screenshot({ path: path.join(ARTIFACTS, `remote-${mode}-generate.png`) });

      await styleReferenceAsync(page, ui, mode, r!);

      // Inline only (one page, to stay fast): a CORS refusal named in plain words, then Inpaint on the server.
      if (mode === 'inline') await corsThenInpaintAsync(page, ui);

      // No request left for any host but the harness, its hosted app and the connected server.
      // (Inline also connected, on purpose, to the server without CORS.)
      const allowed = new Set([new URL(harness.url).host, new URL(harness.appOrigin).host, new URL(comfy.url).host, ...(mode === 'inline' ? [new URL(noCors.url).host] : [])]);
      expect([...hosts].filter((h) => !allowed.has(h))).toEqual([]);
      expect(errors).toEqual([]);
      await page.close();
    }, 420_000);
  });
}

