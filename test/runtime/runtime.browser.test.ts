/**
 * The runtime in real Chromium (WebGPU = SwiftShader): the engine worker downloads a proof model into OPFS, a reload
 * finds it without downloading again, the same model gives the same pixels on WebGPU and on wasm, and the inline
 * mode works in a sandboxed null-origin iframe (wasm passed as bytes, worker from a data: URL, in-memory store with
 * the reason OPFS is unavailable).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium';
import { ORT_WASM, serveEnginePageAsync } from '../helpers/browser-bundle';
import { startFaultServerAsync, type FaultServer } from './fault-server';
import { serveProofCatalog } from './proof-catalog-server';
import { WORD_COLOURS } from '../models/proof-fixture';
import type { PageConfig } from './browser-entry';

let server: FaultServer;
let browser: Browser;
const enc = (s: string) => new TextEncoder().encode(s);

beforeAll(async () => {
  server = await startFaultServerAsync();
  serveProofCatalog(server, [{ id: 'proof-turbo', options: { maxSide: 256 } }]);
  await serveEnginePageAsync(server, 'test/runtime/browser-entry.ts', 'ui/runtime/worker/engine-worker.ts');
  // The inline mode: a sandboxed iframe without allow-same-origin has origin "null" and no storage at all.
  const inner = `<!doctype html><script src="${'URL'}/entry.js"></script><script>
    window.addEventListener('message', async (e) => {
      try { parent.postMessage({ ok: await runtimeTest.runAsync(e.data) }, '*'); }
      catch (err) { parent.postMessage({ error: String(err && err.message || err) }, '*'); }
    });
    parent.postMessage({ loaded: true }, '*');
  </script>`;
  server.set('/inline.html', enc(`<!doctype html><meta charset="utf-8"><iframe id="f" sandbox="allow-scripts" srcdoc="${inner.replace('URL', '').replace(/"/g, '&quot;')}"></iframe>`), { contentType: 'text/html' });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.closeAsync();
});

const config = (o: Partial<PageConfig>): PageConfig => ({
  workerUrl: `${server.url}/worker.js`, wasm: { kind: 'url', baseUrl: `${server.url}/ort/` }, indexUrl: `${server.url}/proof/index.json`,
  allowed: [server.url], provider: 'wasm', download: true, prompt: 'a red cat', ...o,
});

interface PageResult {
  caps: { provider: string; webgpu: boolean; persistentStorage: boolean; storageReason?: string; reason: string };
  before: string; after: string; ms: number; pixels: number[]; origin: string; storage: { usedBytes: number };
}

const run = (page: Page, c: PageConfig): Promise<PageResult> =>
  page.evaluate((cfg) => (window as unknown as { runtimeTest: { runAsync(c: unknown): Promise<unknown> } }).runtimeTest.runAsync(cfg), c) as Promise<PageResult>;

const onnxRequests = () => server.log.filter((l) => l.path.endsWith('.onnx')).length;
const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('runtime in Chromium', () => {
  it('downloads into OPFS, survives a reload without re-downloading, and gives the same pixels on WebGPU and wasm', async () => {
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.log('[page]', m.text()); });
    await page.goto(`${server.url}/page.html`);
    const first = await run(page, config({ provider: 'wasm' }));
    expect(first.caps.persistentStorage).toBe(true);
    expect(first.before).toBe('not-downloaded');
    expect(first.after).toBe('ready');
    expect(first.storage.usedBytes).toBeGreaterThan(0);
    const downloaded = onnxRequests();
    expect(downloaded).toBeGreaterThanOrEqual(3);
    // The proof model's answer for "red".
    const mean = [0, 1, 2].map((c) => first.pixels.filter((_, i) => i % 4 === c).reduce((s, v) => s + v, 0) / (64 * 64));
    WORD_COLOURS.red.forEach((c, i) => expect(Math.abs(mean[i]! - c)).toBeLessThan(2));

    await page.reload();
    const second = await run(page, config({ provider: 'webgpu', download: false }));
    expect(second.before).toBe('ready');
    expect(onnxRequests()).toBe(downloaded); // nothing fetched again
    expect(second.caps.webgpu).toBe(true);
    expect(second.caps.provider).toBe('webgpu');
    expect(maxDiff(first.pixels, second.pixels)).toBeLessThanOrEqual(1);
    console.log(`proof txt2img 64×64, 2 steps: wasm ${first.ms.toFixed(0)} ms, WebGPU (SwiftShader) ${second.ms.toFixed(0)} ms`);
    await page.close();
  });

  it('runs in a sandboxed null-origin iframe: wasm as bytes, worker from data:, memory store with a reason', async () => {
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.log('[iframe]', m.text()); });
    const inline = config({ workerUrl: undefined, workerSourceUrl: `${server.url}/worker.js`, wasm: { kind: 'bytes-from', url: `${server.url}/ort/${ORT_WASM}` }, prompt: 'a blue cat' });
    await page.goto(`${server.url}/inline.html`);
    const result = await page.evaluate((cfg) => new Promise<{ ok?: unknown; error?: string }>((resolve) => {
      const frame = document.getElementById('f') as HTMLIFrameElement;
      const send = () => frame.contentWindow!.postMessage(cfg, '*');
      window.addEventListener('message', (e) => { if ((e.data as { loaded?: boolean }).loaded) send(); else resolve(e.data as { ok?: unknown; error?: string }); });
      send(); // in case the frame loaded before we listened; a duplicate run is harmless
    }), inline);
    expect(result.error).toBeUndefined();
    const r = result.ok as PageResult;
    expect(r.origin).toBe('null');
    expect(r.caps.persistentStorage).toBe(false);
    expect(r.caps.storageReason).toMatch(/origin "null"/);
    expect(r.caps.storageReason).toMatch(/SecurityError/); // the browser's own refusal is quoted
    expect(r.after).toBe('ready');
    const blue = [0, 1, 2].map((c) => r.pixels.filter((_, i) => i % 4 === c).reduce((s, v) => s + v, 0) / (64 * 64));
    WORD_COLOURS.blue.forEach((c, i) => expect(Math.abs(blue[i]! - c)).toBeLessThan(2));
    await page.close();
  });
});
