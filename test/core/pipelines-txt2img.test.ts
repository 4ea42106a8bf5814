/**
 * textToImageAsync through onnxruntime-web against proof models with known answers (test/models/proof-model.ts):
 * the prompt decides the colour, CFG mixes cond/uncond as ε_u + g(ε_c − ε_u), a seed reproduces torch's noise, and
 * Euler (1-step trailing, multi-step linspace with float timesteps), Euler ancestral, LCM and DDIM all land exactly.
 */
import { describe, expect, it } from 'vitest';
import { textToImageAsync } from '../../ui/core/pipelines';
import { createTorchGenerator } from '../../ui/core/rng/torch-generator';
import { createScheduler } from '../../ui/core/schedulers';
import { WORD_COLOURS } from '../models/proof-fixture';
import { imageFromLatents, latentOfColour, maxDiff, maxDiffFromColour, unitOf, bytesOf } from '../models/proof-expect';
import { PROOF_M, proofSigmaTable, SD_TURBO_SCHEDULER } from '../models/proof-model';
import { BASE, DDIM, EULER_ANCESTRAL, EULER_LINSPACE, LCM, proof, runFor } from '../models/pipeline-test-kit';

const RED = WORD_COLOURS.red;
const BLUE = WORD_COLOURS.blue;

describe('textToImageAsync (SD-Turbo-like: Euler trailing, int64 timestep, no CFG)', () => {
  it('prompt "red" gives the red target and "blue" the blue one: the text path decides the image', async () => {
    const { ctx, src } = runFor(proof());
    const red = await textToImageAsync(ctx, BASE);
    expect(red.image.width).toBe(64);
    expect(red.image.height).toBe(64);
    expect(maxDiffFromColour(red.image, RED)).toBeLessThanOrEqual(1);
    const blue = await textToImageAsync(ctx, { ...BASE, prompt: 'blue' });
    expect(maxDiffFromColour(blue.image, BLUE)).toBeLessThanOrEqual(1);
    expect(red.stepsRun).toBe(1);
    expect(red.droppedTokens).toBe(0);
    // One UNet pass per step without CFG, timestep 999 as int64, SD-Turbo's [1,4,64/8,64/8] sample.
    expect(src.runs('unet')).toBe(2);
    const feed = src.feeds.unet![0]!;
    expect(feed.timestep!.dtype).toBe('int64');
    expect(Array.from(feed.timestep!.data as BigInt64Array)).toEqual([999n]);
    expect(feed.sample!.dims).toEqual([1, 4, 8, 8]);
    expect(feed.encoder_hidden_states!.dims).toEqual([1, 77, 8]);
    expect(src.held()).toEqual([]);
  });

  it('reproduces the seed’s torch noise: lazy UNet leaves 10% of σ_max·randn(seed) in, exactly as computed', async () => {
    const { ctx } = runFor(proof());
    const opts = { ...BASE, prompt: 'red slightly', seed: 1234 };
    const a = await textToImageAsync(ctx, opts);
    const b = await textToImageAsync(ctx, opts);
    const c = await textToImageAsync(ctx, { ...opts, seed: 1235 });
    expect(maxDiff(a.image, b.image)).toBe(0);
    expect(maxDiff(a.image, c.image)).toBeGreaterThan(20);
    // Euler, one step from σ_max to 0 with ε = (1−l)(x−x0)/σ: result = l·x_T + (1−l)·x0, x_T = σ_max·randn.
    const sigmaMax = proofSigmaTable(SD_TURBO_SCHEDULER)[999]!;
    const noise = createTorchGenerator(1234).randn([1, 4, 8, 8]);
    const x0 = latentOfColour(RED);
    const expected = Float32Array.from(noise, (n, i) => 0.1 * sigmaMax * n + 0.9 * x0[Math.floor(i / 64)]!);
    expect(maxDiff(a.image, imageFromLatents(expected, 8, 8))).toBeLessThanOrEqual(1);
  });

  it('classifier-free guidance: ε_u + g(ε_c − ε_u) with the negative prompt, two UNet passes per step; off at g ≤ 1', async () => {
    const { ctx, src } = runFor(proof());
    const guided = await textToImageAsync(ctx, { ...BASE, prompt: 'red', negativePrompt: 'blue', guidanceScale: 1.5 });
    const want = bytesOf(unitOf(BLUE).map((b, i) => b + 1.5 * (unitOf(RED)[i]! - b)));
    expect(maxDiffFromColour(guided.image, want)).toBeLessThanOrEqual(1);
    expect(src.runs('text_encoder')).toBe(2);
    expect(src.runs('unet')).toBe(2);
    const plain = await textToImageAsync(ctx, { ...BASE, prompt: 'red', negativePrompt: 'blue', guidanceScale: 1 });
    expect(maxDiffFromColour(plain.image, RED)).toBeLessThanOrEqual(1);
    expect(src.runs('text_encoder')).toBe(3);
    expect(src.runs('unet')).toBe(3);
  });

  it('four Euler trailing steps land on the target and feed timesteps 999, 749, 499, 249', async () => {
    const { ctx, src } = runFor(proof());
    const r = await textToImageAsync(ctx, { ...BASE, steps: 4 });
    expect(maxDiffFromColour(r.image, RED)).toBeLessThanOrEqual(1);
    expect(src.feeds.unet!.map((f) => Number((f.timestep!.data as BigInt64Array)[0]))).toEqual([999, 749, 499, 249]);
  });
});

describe('textToImageAsync with other schedulers', () => {
  it('Euler linspace, 5 steps, float32 fractional timesteps: exact model lands on the target', async () => {
    const { ctx, src } = runFor(proof({ scheduler: EULER_LINSPACE, timestepDtype: 'float32' }));
    const r = await textToImageAsync(ctx, { ...BASE, prompt: 'green', steps: 5 });
    expect(maxDiffFromColour(r.image, WORD_COLOURS.green)).toBeLessThanOrEqual(1);
    const fed = src.feeds.unet!.map((f) => (f.timestep!.data as Float32Array)[0]!);
    expect(fed[1]).toBeCloseTo(749.25, 3);
    expect(fed.length).toBe(5);
  });

  it('Euler linspace with a lazy UNet: y_end = y_T·Π(1 − (1−l)(1 − σ_{i+1}/σ_i)), the closed form over the schedule', async () => {
    const pm = proof({ scheduler: EULER_LINSPACE, timestepDtype: 'float32' });
    const { ctx } = runFor(pm);
    const steps = 3;
    const r = await textToImageAsync(ctx, { ...BASE, prompt: 'red half', steps, seed: 7 });
    const sched = createScheduler(EULER_LINSPACE, steps);
    const sig = sched.sigmas!;
    let factor = 1;
    for (let i = 0; i < steps; i++) factor *= 1 - 0.5 * (1 - sig[i + 1]! / sig[i]!);
    const x0 = latentOfColour(RED);
    const noise = createTorchGenerator(7).randn([1, 4, 8, 8]);
    const expected = Float32Array.from(noise, (n, i) => {
      const x = x0[Math.floor(i / 64)]!;
      return x + (n * sched.initNoiseSigma - x) * factor;
    });
    expect(factor).toBeGreaterThan(0.1); // enough noise left for the image to depend on every step
    expect(maxDiff(r.image, imageFromLatents(expected, 8, 8))).toBeLessThanOrEqual(1);
  });

  it('Euler ancestral, 3 steps (noise drawn from the seed each step): exact model lands on the target', async () => {
    const { ctx } = runFor(proof({ scheduler: EULER_ANCESTRAL }));
    const r = await textToImageAsync(ctx, { ...BASE, steps: 3 });
    expect(maxDiffFromColour(r.image, RED)).toBeLessThanOrEqual(1);
  });

  it('LCM, 4 steps, guidance embedding instead of CFG: g = 1 → target, g = 1.5 → 1.5 × target latent', async () => {
    const { ctx, src } = runFor(proof({ scheduler: LCM, guidanceEmbeddingDim: 256 }));
    const one = await textToImageAsync(ctx, { ...BASE, steps: 4, guidanceScale: 1 });
    expect(maxDiffFromColour(one.image, RED)).toBeLessThanOrEqual(1);
    const more = await textToImageAsync(ctx, { ...BASE, steps: 4, guidanceScale: 1.5, negativePrompt: 'blue' });
    expect(maxDiffFromColour(more.image, bytesOf(unitOf(RED).map((v) => 1.5 * v)))).toBeLessThanOrEqual(1);
    // No uncond pass: one text-encoder run and one UNet run per step for each generation.
    expect(src.runs('text_encoder')).toBe(2);
    expect(src.runs('unet')).toBe(8);
    expect(src.feeds.unet![0]!.timestep_cond!.dims).toEqual([1, 256]);
    expect(src.feeds.unet!.slice(0, 4).map((f) => Number((f.timestep!.data as BigInt64Array)[0]))).toEqual([999, 759, 499, 259]);
  });

  it('DDIM, 5 steps (set_alpha_to_one): exact model lands on the target', async () => {
    const { ctx, src } = runFor(proof({ scheduler: DDIM }));
    const r = await textToImageAsync(ctx, { ...BASE, prompt: 'blue', steps: 5 });
    expect(maxDiffFromColour(r.image, BLUE)).toBeLessThanOrEqual(1);
    expect(src.feeds.unet!.map((f) => Number((f.timestep!.data as BigInt64Array)[0]))).toEqual([801, 601, 401, 201, 1]);
  });

  it('live preview uses the manifest’s latent_rgb_factors: with Mᵀ they show the x0 estimate’s true colour', async () => {
    const factors = [0, 1, 2, 3].map((k) => PROOF_M.map((row) => row[k]!));
    const { ctx, progress } = runFor(proof({ latentRgbFactors: factors }));
    await textToImageAsync(ctx, { ...BASE, steps: 2 });
    const previews = progress.filter((p) => p.stage === 'denoise').map((p) => p.preview!);
    expect(previews.length).toBe(2);
    expect(previews[1]!.width).toBe(8);
    expect(maxDiffFromColour(previews[1]!, RED)).toBeLessThanOrEqual(1);
  });
});
