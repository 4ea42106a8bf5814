/**
 * controlNetAsync through onnxruntime-web against proof models: a separate ControlNet whose 13 residuals feed the
 * UNet (the proof UNet weighs them so that only the right name→input mapping gives the expected shift), the fused
 * variants, scale 0 = no control, scale k shifts the decoded colour by k·0.5 where the control is white, and CFG.
 */
import { describe, expect, it } from 'vitest';
import { controlNetAsync, inpaintAsync, textToImageAsync } from '../../ui/core/pipelines';
import { BASE, proof, runFor } from '../models/pipeline-test-kit';
import { bytesOf, maxDiff, maxDiffFromColour, paintImage, patternImage, unitOf } from '../models/proof-expect';
import { WORD_COLOURS } from '../models/proof-fixture';
import { PROOF_CONTROL_GAIN } from '../models/proof-model';

const RED = WORD_COLOURS.red;
const BLUE = WORD_COLOURS.blue;
/** Control: white on the left half, black on the right (a wireframe's lines would be thinner). */
const left = (x: number): boolean => x < 32;
const control = paintImage(64, 64, (x) => (left(x) ? [255, 255, 255, 255] : [0, 0, 0, 255]));
const shifted = (rgb: readonly number[], k: number): number[] => bytesOf(unitOf(rgb).map((v) => v + k * PROOF_CONTROL_GAIN));

describe('controlNetAsync', () => {
  it('scale 0 gives exactly the image of the same model without control (separate ControlNet)', async () => {
    const opts = { ...BASE, prompt: 'red slightly', seed: 5, steps: 2 };
    const plain = await textToImageAsync(runFor(proof()).ctx, opts);
    const { ctx, src } = runFor(proof({ controlnet: 'separate' }));
    const zero = await controlNetAsync(ctx, { ...opts, control, controlScale: 0 });
    expect(maxDiff(zero.image, plain.image)).toBe(0);
    expect(src.runs('controlnet')).toBe(2);
    expect(src.held()).toEqual([]);
  });

  it('scale 1 and 0.5 shift the decoded colour by 0.5·scale where the control is white, nothing where black', async () => {
    const { ctx, src } = runFor(proof({ controlnet: 'separate' }));
    for (const k of [1, 0.5]) {
      const r = await controlNetAsync(ctx, { ...BASE, control, controlScale: k });
      expect(maxDiffFromColour(r.image, shifted(RED, k), left), `scale ${k}`).toBeLessThanOrEqual(1);
      expect(maxDiffFromColour(r.image, RED, (x) => !left(x)), `scale ${k}`).toBeLessThanOrEqual(1);
    }
    const feed = src.feeds.controlnet![0]!;
    expect(feed.controlnet_cond!.dims).toEqual([1, 3, 64, 64]);
    expect(Array.from(feed.conditioning_scale!.data as Float64Array)).toEqual([1]);
    expect(feed.conditioning_scale!.dtype).toBe('float64');
    // The UNet received all 13 residuals under their own names.
    expect(Object.keys(src.feeds.unet![0]!).filter((n) => n.includes('additional_residual')).length).toBe(13);
  });

  it('fused single-graph variants (controlnet_cond / controlnet_conds) give the same image as the separate one', async () => {
    const opts = { ...BASE, prompt: 'green slightly', seed: 11, steps: 2, control, controlScale: 0.8 };
    const separate = await controlNetAsync(runFor(proof({ controlnet: 'separate' })).ctx, opts);
    for (const variant of ['fused', 'fused-multi'] as const) {
      const { ctx, src } = runFor(proof({ controlnet: variant, conditioningScaleDtype: 'float32' }));
      const fused = await controlNetAsync(ctx, opts);
      expect(maxDiff(fused.image, separate.image), variant).toBeLessThanOrEqual(1);
      const feed = src.feeds.unet![0]!;
      if (variant === 'fused') expect(feed.controlnet_cond!.dims).toEqual([1, 3, 64, 64]);
      else expect(feed.controlnet_conds!.dims).toEqual([1, 1, 3, 64, 64]);
      expect(src.runs('controlnet')).toBe(0);
    }
    const zeroFused = await controlNetAsync(runFor(proof({ controlnet: 'fused' })).ctx, { ...opts, controlScale: 0 });
    const plain = await textToImageAsync(runFor(proof()).ctx, opts);
    expect(maxDiff(zeroFused.image, plain.image)).toBe(0);
  });

  it('maps ControlNet outputs with other names onto the UNet residual inputs in order', async () => {
    const names = Array.from({ length: 13 }, (_, i) => `residual_${i}`);
    const { ctx } = runFor(proof({ controlnet: 'separate', controlnetOutputNames: names, conditioningScaleDtype: 'float32' }));
    const r = await controlNetAsync(ctx, { ...BASE, control, controlScale: 1 });
    expect(maxDiffFromColour(r.image, shifted(RED, 1), left)).toBeLessThanOrEqual(1);
  });

  it('runs the ControlNet for both CFG passes: x0 = x0_u + r + g·(x0_c − x0_u)', async () => {
    const { ctx, src } = runFor(proof({ controlnet: 'separate' }));
    const r = await controlNetAsync(ctx, { ...BASE, prompt: 'red', negativePrompt: 'blue', guidanceScale: 1.5, control, controlScale: 0.5 });
    const guided = unitOf(BLUE).map((b, i) => b + 1.5 * (unitOf(RED)[i]! - b));
    expect(maxDiffFromColour(r.image, bytesOf(guided.map((v) => v + 0.5 * PROOF_CONTROL_GAIN)), left)).toBeLessThanOrEqual(1);
    expect(maxDiffFromColour(r.image, bytesOf(guided), (x) => !left(x))).toBeLessThanOrEqual(1);
    expect(src.runs('controlnet')).toBe(2);
    expect(src.runs('unet')).toBe(2);
  });

  it('with device-tensor outputs (GPU-style) every residual, embedding and output is disposed', async () => {
    const { ctx, src } = runFor(proof({ controlnet: 'separate' }), { deviceOutputs: true });
    const r = await controlNetAsync(ctx, { ...BASE, prompt: 'red', negativePrompt: 'blue', guidanceScale: 2, steps: 2, control, controlScale: 1 });
    expect(r.image.width).toBe(64);
    expect(src.undisposed()).toBe(0);
    expect(src.held()).toEqual([]);
  });

  it('starts from a source image at strength < 1, and returns it at strength 0', async () => {
    const { ctx, src } = runFor(proof({ controlnet: 'separate' }));
    const image = paintImage(64, 64, () => [100, 150, 100, 255]);
    const r = await controlNetAsync(ctx, { ...BASE, steps: 2, image, strength: 0.5, control, controlScale: 1 });
    expect(r.stepsRun).toBe(1);
    expect(src.runs('vae_encoder')).toBe(1);
    expect(maxDiffFromColour(r.image, shifted(RED, 1), left)).toBeLessThanOrEqual(1);
    const same = await controlNetAsync(ctx, { ...BASE, image, strength: 0, control, controlScale: 1 });
    expect(maxDiff(same.image, image)).toBe(0);
  });

  it('a ControlNet-wired UNet used without control (txt2img, inpaint) makes the plain model’s image', async () => {
    const opts = { ...BASE, prompt: 'blue slightly', seed: 3, steps: 2 };
    const mask = paintImage(64, 64, (x, y) => (x < 24 && y > 16 ? [255, 255, 255, 255] : [0, 0, 0, 255]));
    const image = patternImage(64, 64);
    const plainT2i = await textToImageAsync(runFor(proof()).ctx, opts);
    const plainInpaint = await inpaintAsync(runFor(proof()).ctx, { ...opts, image, mask, strength: 1 });
    for (const variant of ['separate', 'fused', 'fused-multi'] as const) {
      const { ctx, src } = runFor(proof({ controlnet: variant }));
      expect(maxDiff((await textToImageAsync(ctx, opts)).image, plainT2i.image), variant).toBe(0);
      expect(maxDiff((await inpaintAsync(ctx, { ...opts, image, mask, strength: 1 })).image, plainInpaint.image), variant).toBe(0);
      // The separate ControlNet runs once per generation (to learn its residual shapes), not per step.
      expect(src.runs('controlnet'), variant).toBe(variant === 'separate' ? 2 : 0);
      expect(src.held(), variant).toEqual([]);
    }
  });
});
