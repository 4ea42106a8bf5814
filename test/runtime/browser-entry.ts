/**
 * Page script for test/runtime/runtime.browser.test.ts: drives the real engine client + engine worker in Chromium.
 * `window.runtimeTest.runAsync(config)` downloads (or finds) a model, generates, and returns plain results.
 */
import { createEngineClient, type WasmSource } from '../../ui/runtime/engine-client';
import { decodePng } from '../../ui/core/image';

export interface PageConfig {
  readonly workerUrl?: string;
  /** Fetch the worker source and start it from a data: URL (the null-origin inline mode). */
  readonly workerSourceUrl?: string;
  readonly wasm: { kind: 'url'; baseUrl: string } | { kind: 'bytes-from'; url: string };
  readonly indexUrl: string;
  readonly allowed: string[];
  readonly provider: 'webgpu' | 'wasm';
  readonly download: boolean;
  readonly prompt: string;
}

async function runAsync(c: PageConfig) {
  let workerUrl = c.workerUrl;
  if (c.workerSourceUrl) {
    const src = await (await fetch(c.workerSourceUrl)).text();
    workerUrl = `data:text/javascript;base64,${btoa(unescape(encodeURIComponent(src)))}`;
  }
  const wasm: WasmSource = c.wasm.kind === 'url'
    ? c.wasm
    : { kind: 'bytes', loadAsync: async () => new Uint8Array(await (await fetch((c.wasm as { url: string }).url)).arrayBuffer()) };
  const client = createEngineClient({ workerUrl: workerUrl!, wasm, devCatalogUrl: c.indexUrl, extraAllowedDomains: c.allowed, allowFallbackAdapter: true, forceProvider: c.provider });
  try {
    const caps = await client.capabilitiesAsync();
    const before = (await client.listModelsAsync()).find((m) => m.id === 'proof-turbo')?.status;
    if (c.download) await client.downloadModelAsync('proof-turbo', () => {});
    const after = (await client.listModelsAsync()).find((m) => m.id === 'proof-turbo')?.status;
    const t0 = performance.now();
    const r = await client.generateAsync({ modelId: 'proof-turbo', mode: 'generate', prompt: c.prompt, negativePrompt: '', width: 64, height: 64, steps: 2, guidanceScale: 0, seed: 3 }, {});
    const ms = performance.now() - t0;
    const img = decodePng(r.png);
    const storage = await client.storageAsync();
    return { caps, before, after, ms, storage, pixels: Array.from(img.data), origin: self.origin };
  } finally {
    client.terminate();
  }
}

(window as unknown as { runtimeTest: unknown }).runtimeTest = { runAsync };
