/**
 * Page script for test/runtime/upscaler.browser.test.ts: the real engine client + worker in Chromium run Boost with an
 * upscaler handed over in the init config (by URL, as the hosted build does, or as bytes, as the inline build does).
 */
import { createEngineClient } from '../../ui/runtime/engine-client';
import { decodePng } from '../../ui/core/image';

export interface UpscalerPageConfig {
  readonly workerUrl: string;
  readonly wasmBaseUrl: string;
  readonly modelUrl: string;
  readonly as: 'url' | 'bytes';
  readonly provider: 'webgpu' | 'wasm';
  readonly image: { width: number; height: number; data: number[] };
}

async function runAsync(c: UpscalerPageConfig) {
  const client = createEngineClient({
    workerUrl: c.workerUrl, wasm: { kind: 'url', baseUrl: c.wasmBaseUrl }, allowFallbackAdapter: true, forceProvider: c.provider, memoryStore: true,
    upscalers: [{
      id: 'esrgan-slim-x2', name: 'ESRGAN-slim ×2', scale: 2, range: 255, receptiveRadius: 10, licence: 'MIT',
      load: async () => (c.as === 'url'
        ? { kind: 'url' as const, url: c.modelUrl }
        : { kind: 'bytes' as const, bytes: new Uint8Array(await (await fetch(c.modelUrl)).arrayBuffer()) }),
    }],
  });
  try {
    const caps = await client.capabilitiesAsync();
    const tiles: number[] = [];
    const image = { width: c.image.width, height: c.image.height, data: new Uint8ClampedArray(c.image.data) };
    const r = await client.generateAsync({
      modelId: 'esrgan-slim-x2', mode: 'boost', prompt: '', negativePrompt: '', width: image.width, height: image.height,
      steps: 1, guidanceScale: 0, seed: 0, image, upscale: 2,
    }, { onProgress: (p) => tiles.push(p.step) });
    const img = decodePng(r.png);
    return { provider: caps.provider, tiles, width: img.width, height: img.height, pixels: Array.from(img.data) };
  } finally {
    client.terminate();
  }
}

(window as unknown as { upscalerTest: unknown }).upscalerTest = { runAsync };
