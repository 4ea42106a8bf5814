/**
 * #15.5: a GPU device lost mid-run, with the real onnxruntime-web 1.30 on WebGPU (SwiftShader) in Chromium. The test
 * worker destroys the GPUDevice ORT runs on between two denoise steps (test/runtime/device-lost-worker.ts). Expected:
 * that run fails as DEVICE_LOST with a hint (not INTERNAL with ORT's C++ text), the client recreates the worker, and
 * the next run works on the GPU again with the same pixels.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/chromium';
import { bundleForBrowserAsync, ORT_WASM, readOrtWasm } from '../helpers/browser-bundle';
import { startFaultServerAsync, type FaultServer } from './fault-server';
import { serveProofCatalog } from './proof-catalog-server';
import type { DeviceLostConfig } from './device-lost-entry';

let server: FaultServer;
let browser: Browser;

beforeAll(async () => {
  server = await startFaultServerAsync();
  serveProofCatalog(server, [{ id: 'proof-turbo', options: { maxSide: 256 } }]);
  server.set('/entry.js', await bundleForBrowserAsync('test/runtime/device-lost-entry.ts'), { contentType: 'text/javascript' });
  server.set('/worker.js', await bundleForBrowserAsync('test/runtime/device-lost-worker.ts'), { contentType: 'text/javascript' });
  server.set(`/ort/${ORT_WASM}`, readOrtWasm(), { contentType: 'application/wasm' });
  server.set('/page.html', new TextEncoder().encode('<!doctype html><meta charset="utf-8"><script src="/entry.js"></script>'), { contentType: 'text/html' });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.closeAsync();
});

interface Outcome { ok: boolean; before: string; after?: string; mean?: number[]; code?: string; message?: string; hint?: string }
interface Result { warm: Outcome; lost: Outcome; after: Outcome; events: unknown[] }

async function runAsync(memoryStore: boolean): Promise<{ r: Result; workerStarts: number }> {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error' && !/404/.test(m.text())) console.log('[page]', m.text()); });
  await page.goto(`${server.url}/page.html`);
  const starts = server.log.filter((l) => l.path === '/worker.js').length;
  const cfg: DeviceLostConfig = { workerUrl: `${server.url}/worker.js`, wasmBaseUrl: `${server.url}/ort/`, indexUrl: `${server.url}/proof/index.json`, allowed: [server.url], memoryStore };
  const r = await page.evaluate((c) => (window as unknown as { deviceLostTest: { runAsync(c: unknown): Promise<unknown> } }).deviceLostTest.runAsync(c), cfg) as Result;
  await page.close();
  return { r, workerStarts: server.log.filter((l) => l.path === '/worker.js').length - starts };
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

  it('in-memory store (inline mode): DEVICE_LOST, the worker is kept so no model is lost, and the next run works on the CPU', async () => {
    const { r, workerStarts } = await runAsync(true);
    expect(r.lost).toMatchObject({ ok: false, code: 'DEVICE_LOST' });
    expect(workerStarts).toBe(1);
    expect(r.after).toMatchObject({ ok: true, after: expect.stringMatching(/^wasm:.*the GPU device was lost; this run continues on the CPU, reopen the plugin/) });
    expect(r.after.mean!.map(Math.round)).toEqual(r.warm.mean!.map(Math.round));
  });
});
