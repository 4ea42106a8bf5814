/**
 * imageToImageAsync and inpaintAsync through onnxruntime-web against proof models with known answers:
 * strength 0 returns the input without touching a model, strength 1 reaches the prompt's target, partial strength
 * lands where the closed form says (start timestep, add_noise, lazy UNet), and inpainting changes exactly the
 * masked region (4-channel latent blending and the 9-channel inpainting UNet) while unmasked pixels stay byte-identical.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../protocol/errors';
import { imageToImageAsync, inpaintAsync } from '../../ui/core/pipelines';
import { createTorchGenerator } from '../../ui/core/rng/torch-generator';
import type { HostTensor } from '../../ui/core/tensor';
import { createUntouchableSource } from '../helpers/ort-node-source';
import { BASE, DDIM, proof, runFor, untouchable } from '../models/pipeline-test-kit';
import { imageFromLatents, latentOfColour, maxDiff, maxDiffFromColour, paintImage, patternImage } from '../models/proof-expect';
import { WORD_COLOURS } from '../models/proof-fixture';
import { proofSigmaTable, SD_TURBO_SCHEDULER } from '../models/proof-model';

const RED = WORD_COLOURS.red;
const SOURCE_COLOUR = [100, 150, 100] as const;
const solidSource = paintImage(64, 64, () => [...SOURCE_COLOUR, 255]);
const ts = (f: Record<string, HostTensor>): number => Number((f.timestep!.data as BigInt64Array)[0]);

describe('imageToImageAsync', () => {
  it('strength 0 returns the input image unchanged and touches no model', async () => {
    const image = patternImage(64, 64);
    const r = await imageToImageAsync(untouchable(proof(), createUntouchableSource()), { ...BASE, image, strength: 0 });
    expect(maxDiff(r.image, image)).toBe(0);
    expect(r.image.data).not.toBe(image.data);
    expect(r.stepsRun).toBe(0);
  });

  it('strength 1 behaves like text-to-image: lands on the prompt’s target whatever the image', async () => {
    const { ctx, src } = runFor(proof());
    const r = await imageToImageAsync(ctx, { ...BASE, image: patternImage(64, 64), strength: 1 });
    expect(maxDiffFromColour(r.image, RED)).toBeLessThanOrEqual(1);
    expect(r.stepsRun).toBe(1);
    expect(src.runs('vae_encoder')).toBe(1);
    expect(ts(src.feeds.unet![0]!)).toBe(999);
    expect(src.held()).toEqual([]);
  });

  it('strength 0.5 of 2 steps runs one step at t = 499 from add_noise(image, σ₄₉₉·randn): result = l·x + (1−l)·x0 (noise = second draw, after the posterior, as diffusers)', async () => {
    const { ctx, src } = runFor(proof());
    const r = await imageToImageAsync(ctx, { ...BASE, prompt: 'red half', image: solidSource, strength: 0.5, steps: 2, seed: 99 });
    expect(r.stepsRun).toBe(1);
    expect(src.feeds.unet!.map(ts)).toEqual([499]);
    const sigma = proofSigmaTable(SD_TURBO_SCHEDULER)[499]!;
    const g = createTorchGenerator(99);
    g.randn([1, 4, 8, 8]); // diffusers' draw order: the VAE posterior sample first (this encoder samples in-graph)
    const noise = g.randn([1, 4, 8, 8]);
    const img = latentOfColour(SOURCE_COLOUR);
    const x0 = latentOfColour(RED);
    const expected = Float32Array.from(noise, (n, i) => {
      const k = Math.floor(i / 64);
      return 0.5 * (img[k]! + sigma * n) + 0.5 * x0[k]!;
    });
    expect(maxDiff(r.image, imageFromLatents(expected, 8, 8))).toBeLessThanOrEqual(1);
  });

  it('a tiny strength still runs exactly one step (the last timestep)', async () => {
    const { ctx, src } = runFor(proof());
    const r = await imageToImageAsync(ctx, { ...BASE, image: solidSource, strength: 0.01, steps: 4 });
    expect(r.stepsRun).toBe(1);
    expect(src.feeds.unet!.map(ts)).toEqual([249]);
    expect(maxDiffFromColour(r.image, RED)).toBeLessThanOrEqual(1);
  });

  it('allows an empty prompt (re-render): the proof model then targets latent 0, mid grey', async () => {
    const { ctx } = runFor(proof());
    const r = await imageToImageAsync(ctx, { ...BASE, prompt: '  ', image: solidSource, strength: 1 });
    expect(maxDiffFromColour(r.image, [128, 128, 128])).toBeLessThanOrEqual(1);
  });

  it('resizes a source of another size to the working size', async () => {
    const { ctx, src } = runFor(proof());
    const r = await imageToImageAsync(ctx, { ...BASE, image: paintImage(32, 48, () => [...SOURCE_COLOUR, 255]), strength: 1 });
    expect([r.image.width, r.image.height]).toEqual([64, 64]);
    expect(src.feeds.vae_encoder![0]!.sample!.dims).toEqual([1, 3, 64, 64]);
  });

  it('DDIM img2img: 0.6 of 5 steps starts at t = 401 (get_timesteps) and lands on the target', async () => {
    const { ctx, src } = runFor(proof({ scheduler: DDIM }));
    const r = await imageToImageAsync(ctx, { ...BASE, image: solidSource, strength: 0.6, steps: 5 });
    expect(src.feeds.unet!.map(ts)).toEqual([401, 201, 1]);
    expect(maxDiffFromColour(r.image, RED)).toBeLessThanOrEqual(1);
  });
});

/** Mask: white (change) in x ∈ [16,40), y ∈ [8,32) — whole 8×8 latent cells — black elsewhere. */
const inMask = (x: number, y: number): boolean => x >= 16 && x < 40 && y >= 8 && y < 32;
const mask = paintImage(64, 64, (x, y) => (inMask(x, y) ? [255, 255, 255, 255] : [0, 0, 0, 255]));

function expectInpainted(result: { image: { width: number; height: number; data: Uint8ClampedArray } }, original: typeof mask): void {
  expect(maxDiffFromColour(result.image, RED, inMask)).toBeLessThanOrEqual(1);
  // Every pixel outside the mask is byte-identical to the original (alpha included).
  let changed = 0;
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 64; x++) {
      if (inMask(x, y)) continue;
      const o = (y * 64 + x) * 4;
      for (let c = 0; c < 4; c++) if (result.image.data[o + c] !== original.data[o + c]) changed++;
    }
  }
  expect(changed).toBe(0);
}

describe('inpaintAsync', () => {
  it('4-channel latent blending, 1 step: the masked region becomes the target, the rest is byte-identical', async () => {
    const { ctx, src } = runFor(proof());
    const image = patternImage(64, 64);
    const r = await inpaintAsync(ctx, { ...BASE, image, mask, strength: 1 });
    expectInpainted(r, image);
    expect(src.feeds.unet![0]!.sample!.dims).toEqual([1, 4, 8, 8]);
    expect(src.held()).toEqual([]);
  });

  it('4-channel blending over 4 steps from strength 0.75: blended latents outside, target inside', async () => {
    const { ctx, src } = runFor(proof());
    const image = patternImage(64, 64);
    const r = await inpaintAsync(ctx, { ...BASE, image, mask, strength: 0.75, steps: 4 });
    expect(r.stepsRun).toBe(3);
    expect(src.feeds.unet!.map(ts)).toEqual([749, 499, 249]);
    expectInpainted(r, image);
    // The UNet input outside the mask is the image latents noised to each step's level (scaled by 1/√(σ²+1)):
    // at step 2 (t = 499) a cell outside the mask holds (img + σ₄₉₉·n)/√(σ₄₉₉²+1).
    const sigma = proofSigmaTable(SD_TURBO_SCHEDULER)[499]!;
    const g = createTorchGenerator(BASE.seed);
    g.randn([1, 4, 8, 8]); // the image posterior's draw comes first (diffusers' order); the noise is the second
    const n = g.randn([1, 4, 8, 8]);
    const imgLatents = src.feeds.vae_encoder![0]!.sample!; // pixels fed; the latent is M⁺·avgpool(pixels)
    expect(imgLatents.dims).toEqual([1, 3, 64, 64]);
    const sample = src.feeds.unet![1]!.sample!.data as Float32Array;
    const cell = 7 * 8 + 7; // bottom-right cell, outside the mask
    const pooled = [0, 1, 2].map((c) => {
      let s = 0;
      for (let y = 56; y < 64; y++) for (let x = 56; x < 64; x++) s += (imgLatents.data as Float32Array)[c * 4096 + y * 64 + x]!;
      return s / 64;
    });
    const img = latentOfColour(pooled.map((v) => (v + 1) * 127.5));
    for (let k = 0; k < 4; k++) {
      expect(sample[k * 64 + cell]).toBeCloseTo((img[k]! + sigma * n[k * 64 + cell]!) / Math.sqrt(sigma * sigma + 1), 4);
    }
  });

  it('9-channel inpainting UNet: sample = [latents, mask, masked-image latents]; masked region → target, rest identical', async () => {
    const { ctx, src } = runFor(proof({ unet: '9ch' }));
    const image = patternImage(64, 64);
    const r = await inpaintAsync(ctx, { ...BASE, image, mask, strength: 1 });
    expectInpainted(r, image);
    const sample = src.feeds.unet![0]!.sample!;
    expect(sample.dims).toEqual([1, 9, 8, 8]);
    const latentMask = Array.from((sample.data as Float32Array).subarray(4 * 64, 5 * 64));
    expect(latentMask).toEqual(Array.from({ length: 64 }, (_, i) => (inMask((i % 8) * 8, Math.floor(i / 8) * 8) ? 1 : 0)));
    // At strength 1 only the masked image is encoded (diffusers skips the image latents there); it was blanked
    // (0 in [-1,1]) under the mask before encoding.
    expect(src.feeds.vae_encoder).toHaveLength(1);
    const masked = src.feeds.vae_encoder![0]!.sample!.data as Float32Array;
    expect(masked[20 * 64 + 20]).toBe(0);
    expect(masked[2 * 4096 + 20 * 64 + 20]).toBe(0);
    expect(masked[0]).not.toBe(0);
  });

  it('a thin stroke that misses every 8×8 block’s top-left pixel: repainted with latentMask "max"; diffusers’ nearest (default) misses it', async () => {
    const { ctx } = runFor(proof());
    const image = patternImage(64, 64);
    const thin = (x: number, y: number): boolean => x >= 18 && x < 21 && y >= 10 && y < 30;
    const m = paintImage(64, 64, (x, y) => (thin(x, y) ? [255, 255, 255, 255] : [0, 0, 0, 0]));
    const nearest = await inpaintAsync(ctx, { ...BASE, image, mask: m, strength: 1 });
    expect(maxDiffFromColour(nearest.image, RED, thin)).toBeGreaterThan(16);
    const r = await inpaintAsync(ctx, { ...BASE, image, mask: m, strength: 1, latentMask: 'max' });
    expect(maxDiffFromColour(r.image, RED, thin)).toBeLessThanOrEqual(1);
    let changed = 0;
    for (let p = 0; p < 64 * 64; p++) if (!thin(p % 64, Math.floor(p / 64)) && r.image.data[p * 4] !== image.data[p * 4]) changed++;
    expect(changed).toBe(0);
  });

  it('strength 0 returns the image; an empty mask or a mask of another size is INVALID_INPUT before any model runs', async () => {
    const ctx = untouchable(proof(), createUntouchableSource());
    const image = patternImage(64, 64);
    const r = await inpaintAsync(ctx, { ...BASE, image, mask, strength: 0 });
    expect(maxDiff(r.image, image)).toBe(0);
    const empty = paintImage(64, 64, () => [0, 0, 0, 255]);
    await expect(inpaintAsync(ctx, { ...BASE, image, mask: empty, strength: 1 })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/mask is empty/) });
    const small = paintImage(32, 32, () => [255, 255, 255, 255]);
    await expect(inpaintAsync(ctx, { ...BASE, image, mask: small, strength: 1 })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/32×32.*64×64/) });
    await expect(inpaintAsync(untouchable(proof({ vaeEncoder: false }), createUntouchableSource()), { ...BASE, image, mask, strength: 1 }))
      .rejects.toBeInstanceOf(AppError);
  });
});
