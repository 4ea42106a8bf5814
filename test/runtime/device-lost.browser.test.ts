/**
 * #15.5: a GPU device lost mid-run, with the real onnxruntime-web 1.30 on WebGPU (SwiftShader) in Chromium. The test
 * worker destroys the GPUDevice ORT runs on between two denoise steps (test/runtime/device-lost-worker.ts). Expected:
 * that run fails as DEVICE_LOST with a hint (not INTERNAL with ORT's C++ text), the client recreates the worker, and
 * the next run works on the GPU again with the same pixels — with models in memory too (inline mode): the kept
 * worker hands its models to a fresh one at the next run, nothing is downloaded again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/chromium';
import { serveEnginePageAsync } from '../helpers/browser-bundle';
import { startFaultServerAsync, type FaultServer } from './fault-server';
import { serveProofCatalog } from './proof-catalog-server';
import type { DeviceLostConfig } from './device-lost-entry';

let server: FaultServer;
let browser: Browser;

beforeAll(async () => {
  server = await startFaultServerAsync();
  serveProofCatalog(server, [{ id: 'proof-turbo', options: { maxSide: 256 } }]);
  await serveEnginePageAsync(server, 'test/runtime/device-lost-entry.ts', 'test/runtime/device-lost-worker.ts');
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.closeAsync();
});

interface Outcome { ok: boolean; before: string; after?: string; mean?: number[]; code?: string; message?: string; hint?: string }
interface Result { warm: Outcome; lost: Outcome; after: Outcome; again?: Outcome; events: unknown[]; gpuChecks: number }

async function runAsync(memoryStore: boolean, gpuAnswers?: boolean[]): Promise<{ r: Result; workerStarts: number; modelFetches: string[] }> {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error' && !/404/.test(m.text())) console.log('[page]', m.text()); });
  await page.goto(`${server.url}/page.html`);
  const starts = server.log.filter((l) => l.path === '/worker.js').length;
  const logAt = server.log.length;
  const cfg: DeviceLostConfig = { workerUrl: `${server.url}/worker.js`, wasmBaseUrl: `${server.url}/ort/`, indexUrl: `${server.url}/proof/index.json`, allowed: [server.url], memoryStore, ...(gpuAnswers ? { gpuAnswers } : {}) };
  const r = await page.evaluate((c) => (window as unknown as { deviceLostTest: { runAsync(c: unknown): Promise<unknown> } }).deviceLostTest.runAsync(c), cfg) as Result;
  await page.close();
  return {
    r, workerStarts: server.log.filter((l) => l.path === '/worker.js').length - starts,
    modelFetches: server.log.slice(logAt).filter((l) => /\.onnx/.test(l.path) && l.status < 300).map((l) => l.path),
  };
}

describe('GPU device lost mid-run (real ORT 1.30, WebGPU on SwiftShader)', () => {
  it('persistent store: DEVICE_LOST with a hint, the worker is recreated, and the next run is on a fresh GPU device', async () => {
    const { r, workerStarts } = await runAsync(false);
    expect(r.events).toEqual([{ armed: true }, { destroyed: 'ort-device' }]);
    expect(r.warm).toMatchObject({ ok: true, before: expect.stringMatching(/^webgpu:/) });
    // Before the fix: INTERNAL "null function" (or buffer_manager.cc's "Buffer was unmapped…"), and no restart.
    expect(r.lost).toMatchObject({ ok: false, code: 'DEVICE_LOST', hint: expect.stringMatching(/Try again/) });
    expect(r.lost.message).toMatch(/^The GPU stopped responding/);
    expect(r.lost.message).not.toMatch(/null function|buffer_manager/);
    expect(workerStarts).toBe(2);
    expect(r.after).toMatchObject({ ok: true, before: expect.stringMatching(/^webgpu:/), after: expect.stringMatching(/^webgpu:/) });
    expect(r.after.mean).toEqual(r.warm.mean);
  });

  it('in-memory store (inline mode): DEVICE_LOST, no model is lost; with no adapter the next run is on the CPU, and once one is there the GPU is tried again (models handed to a fresh worker, not downloaded again)', async () => {
    const { r, workerStarts, modelFetches } = await runAsync(true, [false]);
    expect(r.lost).toMatchObject({ ok: false, code: 'DEVICE_LOST' });
    // No adapter at the next run: the worker (and its models) is kept, the run is on the CPU and says the GPU comes back.
    expect(r.after).toMatchObject({ ok: true, after: expect.stringMatching(/^wasm:.*the GPU device was lost; this run continues on the CPU, and the next one tries the GPU again/) });
    expect(r.after.mean!.map(Math.round)).toEqual(r.warm.mean!.map(Math.round));
    // An adapter at the run after: the kept worker's models move to a fresh worker, on a fresh GPU device.
    expect(r.again).toMatchObject({ ok: true, after: expect.stringMatching(/^webgpu:/) });
    expect(r.again!.mean).toEqual(r.warm.mean);
    expect(r.gpuChecks).toBe(2);
    expect(workerStarts).toBe(2);
    expect(modelFetches.length).toBeGreaterThan(0);
    expect(new Set(modelFetches).size).toBe(modelFetches.length); // each model file downloaded once in the session
  });
});
