/**
 * Boost through the engine (in-thread, ORT wasm in Node): the bundled-style ESRGAN-slim ×2 upscaler, and upscale +
 * refine with a downloaded diffusion model (the proof model, whose img2img pulls colours toward the prompt's word).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { NO_GPU, nodeOrt as ort } from '../helpers/node-engine';
import { decodePng, type RgbaImage } from '../../ui/core/image';
import type { GenerateRequest } from '../../ui/contracts/engine';
import { createEngineAsync, type Engine } from '../../ui/runtime/engine';
import { createMemoryStore } from '../../ui/runtime/store/memory-store';
import { cropImage } from '../../ui/core/upscale';
import { buildUpscalers } from '../../tools/upscale/build-upscalers';
import { WORD_COLOURS } from '../models/proof-fixture';
import { ASSETS } from '../helpers/paths';
import { startFaultServerAsync, type FaultServer } from './fault-server';
import { serveProofCatalog, type ServedProof } from './proof-catalog-server';


let server: FaultServer;
let proof: ServedProof;
let engine: Engine;
const photo: RgbaImage = cropImage(decodePng(new Uint8Array(fs.readFileSync(path.join(ASSETS, 'images/controlnet_house.png')))), 150, 150, 96, 72);

beforeAll(async () => {
  server = await startFaultServerAsync();
  proof = serveProofCatalog(server, [{ id: 'proof-turbo', options: { inpaint: 'blend', maxSide: 256 } }]);
  const [x2] = buildUpscalers([2]);
  engine = await createEngineAsync({
    ort, store: createMemoryStore(), network: { domains: [server.url] }, adapter: NO_GPU, catalog: [],
    devCatalogUrl: proof.indexUrl, downloadTuning: { sleep: async () => {}, progressIntervalMs: 0 },
    upscalers: [{ ...x2!, loadAsync: async () => x2!.onnx }],
  });
});
afterAll(async () => {
  await engine?.closeAsync();
  await server.closeAsync();
});

const boost = (o: Partial<GenerateRequest> = {}): GenerateRequest => ({
  modelId: 'esrgan-slim-x2', mode: 'boost', prompt: '', negativePrompt: '', width: photo.width, height: photo.height,
  steps: 1, guidanceScale: 0, seed: 7, image: photo, upscale: 2, ...o,
});

const mean = (img: RgbaImage): number[] => {
  const s = [0, 0, 0];
  for (let i = 0; i < img.data.length; i += 4) for (let c = 0; c < 3; c++) s[c]! += img.data[i + c]!;
  return s.map((v) => v / (img.width * img.height));
};

describe('engine: Boost', () => {
  it('upscales ×2 with the bundled model, reporting tiles, no download needed', async () => {
    const steps: number[] = [];
    const r = await engine.generateAsync(boost(), { onProgress: (p) => steps.push(p.step) });
    const img = decodePng(r.png);
    expect([img.width, img.height]).toEqual([192, 144]);
    expect(steps.at(-1)).toBe(1); // 96×72 fits one tile
    // The same picture, not noise: mean colour within a level of the source.
    mean(img).forEach((m, i) => expect(Math.abs(m - mean(photo)[i]!)).toBeLessThan(2));
    await expect(engine.generateAsync(boost({ upscale: 3 }), {})).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('upscale + refine: needs the diffusion model downloaded, then pulls every tile toward the prompt, seams blended', async () => {
    await expect(engine.generateAsync(boost({ refineModelId: 'proof-turbo', prompt: 'red', strength: 0.5 }), {}))
      .rejects.toMatchObject({ code: 'MODEL_NOT_READY' });
    await engine.downloadModelAsync('proof-turbo', () => {});
    const big = cropImage(decodePng(new Uint8Array(fs.readFileSync(path.join(ASSETS, 'images/controlnet_house.png')))), 0, 0, 160, 96);
    const plain = decodePng((await engine.generateAsync(boost({ image: big, width: 160, height: 96 }), {})).png);
    const progress: number[] = [];
    const refined = decodePng((await engine.generateAsync(boost({ image: big, width: 160, height: 96, refineModelId: 'proof-turbo', prompt: 'red', strength: 0.5 }), {
      onProgress: (p) => progress.push(p.total),
    })).png);
    expect([refined.width, refined.height]).toEqual([320, 192]);
    expect(Math.max(...progress)).toBeGreaterThan(1); // the refine pass ran in several tiles
    const [mp, mr] = [mean(plain), mean(refined)];
    const red = [...WORD_COLOURS.red];
    const dist = (m: number[]) => Math.hypot(...m.map((v, i) => v - red[i]!));
    expect(dist(mr)).toBeLessThan(dist(mp) * 0.8);
  });
});

describe('engine: Full resolution (Generate / Edit)', () => {
  const gen = (o: Partial<GenerateRequest> = {}): GenerateRequest => ({
    modelId: 'proof-turbo', mode: 'generate', prompt: 'red', negativePrompt: '', width: 128, height: 64, steps: 1, guidanceScale: 0, seed: 11, ...o,
  });
  const full = { width: 300, height: 150, crop: { x: 4, y: 0, width: 120, height: 64 }, strength: 0.5 };

  it('makes the part that shows in the layer at the asked size, refined in blended tiles (stage "refine"), and says so in the recipe', async () => {
    await engine.downloadModelAsync('proof-turbo', () => {});
    const plain = await engine.generateAsync(gen(), {});
    expect([plain.width, plain.height]).toEqual([128, 64]);
    const stages: string[] = [];
    let tiles = 0;
    const r = await engine.generateAsync(gen({ fullResolution: full }), {
      onProgress: (p) => { stages.push(p.stage); if (p.stage === 'refine') tiles = p.total; },
    });
    const img = decodePng(r.png);
    expect([r.width, r.height, img.width, img.height]).toEqual([300, 150, 300, 150]);
    // The base image first, then the refine pass over 64-px tiles (the proof model's size) with 8-px blended overlaps.
    expect(stages.indexOf('denoise')).toBeLessThan(stages.indexOf('refine'));
    expect(tiles).toBe(6 * 3);
    // Still the prompt's picture: the refined image's mean colour is the plain one's (red pulled, not replaced by noise).
    const red = [...WORD_COLOURS.red];
    const dist = (m: number[]) => Math.hypot(...m.map((v, i) => v - red[i]!));
    expect(dist(mean(img))).toBeLessThanOrEqual(dist(mean(decodePng(plain.png))) + 2);
    expect(r.reproduce?.departures.join(' ')).toMatch(/Full resolution: the 128×64 image is cropped to the layer, Lanczos-resized to 300×150 and refined by img2img at strength 0.5 in 64-px tiles/);
  });

  it('Cancel stops the refine pass', async () => {
    const ctl = new AbortController();
    const run = engine.generateAsync(gen({ fullResolution: full }), { signal: ctl.signal, onProgress: (p) => { if (p.stage === 'refine' && p.step >= 2) ctl.abort(); } });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
