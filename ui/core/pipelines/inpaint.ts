/**
 * Inpainting, both ways (as diffusers StableDiffusionInpaintPipeline):
 * - a 9-channel inpainting UNet (manifest capabilities.inpaint = '9ch'): sample = concat(scaled latents, mask,
 *   masked-image latents);
 * - any 4-channel UNet ('blend'): after each step, latents outside the mask are replaced by the original image
 *   latents noised to the next timestep.
 * Finally the decoded image is composited over the original with the (soft) pixel mask, so pixels outside the mask
 * come back exactly unchanged.
 */
import { AppError } from '../../../protocol/errors';
import { createTorchGenerator } from '../rng/torch-generator';
import { createScheduler, getImg2ImgStartIndex } from '../schedulers';
import { compositeWithMask, downsampleMaskNearest, maskToBinary, maskToWeights, type RgbaImage } from '../image';
import { float32 } from '../tensor';
import { checkBaseOptions, checkImage, checkStrength } from './check-inputs';
import { decodeLatentsAsync, denoiseAsync, disposeTensor, encodeImageAsync, encodePromptAsync, latentShape, throwIfAborted, type Embeddings } from './common';
import type { InpaintOptions, PipelineContext, PipelineResult } from './types';

export async function inpaintAsync(ctx: PipelineContext, o: InpaintOptions): Promise<PipelineResult> {
  // 1. Check inputs
  checkBaseOptions(o, ctx.manifest, { promptRequired: true });
  checkStrength(o.strength);
  checkImage('source image', o.image, o.width, o.height);
  checkImage('mask', o.mask, o.width, o.height);
  const mode = ctx.manifest.raw.capabilities.inpaint;
  if (mode === 'none') throw new AppError('INVALID_INPUT', `${ctx.manifest.name} cannot inpaint. Pick a model that can.`);
  const binary = maskToBinary(o.mask);
  const covered = binary.reduce((s, v) => s + v, 0);
  if (covered === 0) throw new AppError('INVALID_INPUT', 'The mask is empty: nothing would change.', { hint: 'Draw a shape over the part of the image to repaint.' });
  throwIfAborted(ctx.signal);
  if (o.strength === 0) return { image: o.image, seed: o.seed, droppedTokens: 0, stepsRun: 0 };

  let embeddings: Embeddings | null = null;
  try {
    // 2. Encode prompt, image and (9ch) masked image
    embeddings = await encodePromptAsync(ctx, o.prompt, o.negativePrompt ?? '', o.guidanceScale);
    const dims = latentShape(ctx, o.width, o.height);
    const [, c, h, w] = dims;
    const f = ctx.manifest.vaeScale;
    const latentMask = downsampleMaskNearest(binary, o.width, o.height, f);
    const imageLatents = await encodeImageAsync(ctx, o.image);
    let maskedImageLatents: Float32Array | null = null;
    if (mode === '9ch') {
      const masked: RgbaImage = { width: o.width, height: o.height, data: new Uint8ClampedArray(o.image.data) };
      // masked_image = image · (mask < 0.5): masked pixels become 0 in [-1,1] space, i.e. mid grey.
      for (let p = 0; p < binary.length; p++) if (binary[p]! >= 0.5) masked.data.set([128, 128, 128, 255], p * 4);
      maskedImageLatents = await encodeImageAsync(ctx, masked);
    }
    // 3. Timesteps
    const scheduler = createScheduler(ctx.manifest.scheduler, o.steps);
    const startIndex = Math.min(getImg2ImgStartIndex(o.steps, o.strength), o.steps - 1);
    // 4. Initial latents: pure noise at full strength (9ch), else the noised image
    const generator = createTorchGenerator(o.seed);
    const noise = generator.randn(dims);
    const latents = o.strength >= 1 && mode === '9ch'
      ? noise.map((v) => v * scheduler.initNoiseSigma)
      : scheduler.addNoise(imageLatents, noise, startIndex);
    const plane = h * w;
    // 5. Denoise
    const final = await denoiseAsync(ctx, {
      scheduler, latents, latentDims: dims, startIndex, embeddings, guidance: o.guidanceScale, generator,
      hooks: mode === '9ch'
        ? {
            buildSample: (scaled) => {
              const data = new Float32Array((2 * c + 1) * plane);
              data.set(scaled, 0);
              data.set(latentMask, c * plane);
              data.set(maskedImageLatents!, (c + 1) * plane);
              return float32([1, 2 * c + 1, h, w], data);
            },
          }
        : {
            afterStep: (next, i) => {
              const last = i === scheduler.timesteps.length - 1;
              const proper = last ? imageLatents : scheduler.addNoise(imageLatents, noise, i + 1);
              const out = new Float32Array(next.length);
              for (let k = 0; k < next.length; k++) {
                const m = latentMask[k % plane]!;
                out[k] = (1 - m) * proper[k]! + m * next[k]!;
              }
              return out;
            },
          },
    });
    // 6. Decode and composite
    const generated = await decodeLatentsAsync(ctx, final, dims, o.width, o.height);
    const image = compositeWithMask(o.image, generated, maskToWeights(o.mask));
    return { image, seed: o.seed, droppedTokens: embeddings.droppedTokens, stepsRun: o.steps - startIndex };
  } finally {
    disposeTensor(embeddings?.cond);
    disposeTensor(embeddings?.uncond);
  }
}
