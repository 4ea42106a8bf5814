/**
 * The export-convention matrix in Chromium with 'onnxruntime-web/webgpu': float32-I/O conventions run on WebGPU
 * (SwiftShader, no shader-f16), float16-I/O ones on wasm; each must give the reference convention's image (≤ 1/255,
 * the reference computed in Node). Odd exports run or stop with
 * MODEL_MISMATCH naming their real I/O; the float64 conditioning_scale runs on WebGPU (retyped to float32).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium';
import { ASSETS } from '../helpers/paths';
import { startFaultServerAsync, type FaultServer } from './fault-server';
import { maxPixelDiff } from '../models/convention-run';
import { buildConvention, buildReference, CONVENTIONS, ODD_EXPORTS, type BuiltSet, type Convention } from '../models/conventions';
import type { PageCase, ServedSet } from './conventions-entry';
import { nodeOrt } from '../helpers/node-engine';
import { serveEnginePageAsync } from '../helpers/browser-bundle';
import { runModelSetAsync } from '../models/convention-run';
import { loadClipTokenizer } from '../models/proof-fixture';

// One step in the browser (the Node matrix covers the multi-step runs): WebGPU on SwiftShader is slow.
const oneStep = (c: Convention): Convention => ({ ...c, steps: 1 });

// The reference convention's image is computed in Node (wasm; the Node matrix shows it equals every convention there),
// so the browser only runs the conventions themselves.
nodeOrt.env.wasm.numThreads = 1;
const referencePixelsAsync = async (c: Convention): Promise<number[]> => {
  const ref = buildReference(c);
  const r = await runModelSetAsync({
    ort: nodeOrt, provider: 'wasm', manifestJson: ref.manifestJson, files: ref.files, tokenizer: loadClipTokenizer(), mode: c.mode,
    ...(c.steps ? { steps: c.steps } : {}), ...(c.guidance !== undefined ? { guidance: c.guidance } : {}), ...(c.size ? { size: c.size } : {}),
  });
  return [...r.pixels];
};

let server: FaultServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await startFaultServerAsync();
  await serveEnginePageAsync(server, 'test/runtime/conventions-entry.ts');
  for (const f of ['vocab.json', 'merges.txt']) server.set(`/tok/${f}`, fs.readFileSync(path.join(ASSETS, 'clip/hf', f)), { contentType: 'text/plain' });
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${server.url}/page.html`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.closeAsync();
});

let served = 0;
function serve(set: BuiltSet): ServedSet {
  const id = served++;
  const files: ServedSet['files'] = {};
  for (const [role, f] of Object.entries(set.files)) {
    const p = `/sets/${id}/${role}`;
    server.set(`${p}/model.onnx`, f!.model);
    const ext = f!.externalData?.map((e) => { server.set(`${p}/${e.path}`, e.data); return { path: e.path, url: `${server.url}${p}/${e.path}` }; });
    files[role] = { model: `${server.url}${p}/model.onnx`, ...(ext ? { externalData: ext } : {}) };
  }
  return { manifestJson: set.manifestJson, files };
}

const runInPage = (c: Convention, sets: BuiltSet[]) => {
  const pc: PageCase = {
    name: c.name, mode: c.mode, provider: c.gpu ? 'webgpu' : 'wasm', sets: sets.map(serve),
    ...(c.steps ? { steps: c.steps } : {}), ...(c.guidance !== undefined ? { guidance: c.guidance } : {}), ...(c.size ? { size: c.size } : {}),
  };
  return page.evaluate(([base, x]) => (window as unknown as { conventionTest: { runAsync(b: string, c: unknown): Promise<unknown> } }).conventionTest.runAsync(base, x), [server.url, pc] as const) as
    Promise<{ pixels: number[][]; notes: Record<string, string[]>[]; error?: string }>;
};

describe('export-convention matrix in Chromium (WebGPU where the dtype allows)', () => {
  for (const c of CONVENTIONS.map(oneStep)) {
    it(`${c.name} on ${c.gpu ? 'WebGPU' : 'wasm'} gives the reference image (≤ 1/255)`, async () => {
      const ref = await referencePixelsAsync(c);
      const r = await runInPage(c, [buildConvention(c)]);
      expect(r.error, r.error).toBeUndefined();
      expect(maxPixelDiff(r.pixels[0]!, ref)).toBeLessThanOrEqual(1);
      expect(ref.some((v, i) => i % 4 !== 3 && v > 0)).toBe(true);
    }, 60_000);
  }
});

describe('odd user-added exports in Chromium: run, or stop naming the real I/O', () => {
  for (const c of ODD_EXPORTS.map(oneStep)) {
    it(`${c.name} on ${c.gpu ? 'WebGPU' : 'wasm'}`, async () => {
      if (c.refusal) {
        const r = await runInPage(c, [buildConvention(c)]);
        expect(r.error).toMatch(/^MODEL_MISMATCH: /);
        expect(r.error!.replace(/^MODEL_MISMATCH: /, '')).toMatch(c.refusal);
      } else {
        const ref = await referencePixelsAsync(c);
        const r = await runInPage(c, [buildConvention(c)]);
        expect(r.error, r.error).toBeUndefined();
        expect(maxPixelDiff(r.pixels[0]!, ref)).toBeLessThanOrEqual(1);
        if (c.variant.conditioningScaleDtype === 'float64') {
          // WebGPU's build has no float64 kernel: the runtime fed the scale as float32 instead of refusing the model.
          expect(r.notes[0]!.controlnet?.join(' ')).toMatch(/"conditioning_scale" fed as float32/);
        }
      }
    }, 60_000);
  }
});
