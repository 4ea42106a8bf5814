/**
 * Boost's upscaler in real Chromium through the engine worker: WebGPU (SwiftShader) and wasm give the same pixels, the
 * model arrives by URL (hosted build) or as bytes (inline build), and the result is ×2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/chromium';
import { serveEnginePageAsync } from '../helpers/browser-bundle';
import { ASSETS } from '../helpers/paths';
import { startFaultServerAsync, type FaultServer } from './fault-server';
import { buildUpscalers } from '../../tools/upscale/build-upscalers';
import { decodePng } from '../../ui/core/image';
import { cropImage } from '../../ui/core/upscale';
import type { UpscalerPageConfig } from './upscaler-browser-entry';

let server: FaultServer;
let browser: Browser;

beforeAll(async () => {
  server = await startFaultServerAsync();
  await serveEnginePageAsync(server, 'test/runtime/upscaler-browser-entry.ts', 'ui/runtime/worker/engine-worker.ts');
  server.set('/esrgan-x2.onnx', buildUpscalers([2])[0]!.onnx, { contentType: 'application/octet-stream' });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.closeAsync();
});

describe('Boost upscaler in Chromium', () => {
  it('gives the same ×2 pixels on WebGPU and on wasm, with the model by URL or as bytes', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/page.html`);
    const photo = cropImage(decodePng(new Uint8Array(fs.readFileSync(path.join(ASSETS, 'images/controlnet_house.png')))), 200, 200, 40, 32);
    const cfg = (o: Partial<UpscalerPageConfig>): UpscalerPageConfig => ({
      workerUrl: `${server.url}/worker.js`, wasmBaseUrl: `${server.url}/ort/`, modelUrl: `${server.url}/esrgan-x2.onnx`, as: 'url', provider: 'wasm',
      image: { width: photo.width, height: photo.height, data: Array.from(photo.data) }, ...o,
    });
    type Out = { provider: string; tiles: number[]; width: number; height: number; pixels: number[] };
    const run = (c: UpscalerPageConfig) => page.evaluate((x) => (window as any).upscalerTest.runAsync(x), c) as Promise<Out>;
    const wasm = await run(cfg({ provider: 'wasm', as: 'bytes' }));
    const gpu = await run(cfg({ provider: 'webgpu', as: 'url' }));
    // The engine options force each run's provider (forceProvider); the WebGPU adapter (SwiftShader) is there.
    expect(gpu.provider).toBe('webgpu');
    expect([wasm.width, wasm.height]).toEqual([80, 64]);
    expect(wasm.tiles.at(-1)).toBe(1);
    const maxDiff = wasm.pixels.reduce((m, v, i) => Math.max(m, Math.abs(v - gpu.pixels[i]!)), 0);
    console.log(`ESRGAN-slim ×2 in Chromium: max |WebGPU − wasm| = ${maxDiff} / 255`);
    expect(maxDiff).toBeLessThanOrEqual(2);
    await page.close();
  });
});
