/**
 * Inpainting, as diffusers StableDiffusionInpaintPipeline, both ways:
 * - '9ch' (an inpainting UNet): sample = concat(scaled latents, latent mask, masked-image latents) along channels,
 *   masked_image = image · (mask < 0.5) in [-1,1];
 * - 'blend' (any 4-channel UNet): after each step, latents outside the mask are replaced by the image latents noised
 *   to the next timestep (the original, un-noised, after the last step):
 *   latents = (1 − m)·add_noise(image_latents, noise, t_{i+1}) + m·latents.
 * Strength 1 starts from noise × init_noise_sigma (diffusers' is_strength_max), else from the noised image.
 * The latent mask is the binarised pixel mask (luminance·alpha ≥ 0.5) downsampled as diffusers does (nearest: each
 * latent cell takes the top-left pixel of its 8×8 block). `latentMask: 'max'` is a named departure: a cell is
 * repainted when any of its pixels is masked, so a stroke thinner than 8 px that misses every block's corner still
 * changes; it no longer matches diffusers for the seed (cost measured in README.md, parity section).
 * Draw order as diffusers: image posterior (4-channel UNets, or strength < 1), noise, masked-image posterior (the
 * 4-channel blend draws it too and discards it, as diffusers encodes the masked image whatever the UNet), then the
 * scheduler's noise.
 * Finally the decoded image is composited over the original with the soft pixel mask, so every pixel outside the
 * mask comes back byte-identical.
 */
import { AppError } from '../../../protocol/errors';
import { compositeWithMask, downsampleMask, imageToTensor, maskImageTensor, maskToBinary, maskToWeights, resizeBilinear } from '../image';
import { createTorchGenerator } from '../rng/torch-generator';
import { getImg2ImgStartIndex } from '../schedulers';
import { blendByMask, concatChannels } from '../tensor-math';
import { checkBaseOptions, checkCapability, checkImage, checkMaskSize, checkStrength } from './check-inputs';
import {
  decodeLatentsAsync, denoiseAsync, disposeEmbeddings, encodePixelsAsync, encodePromptAsync, latentShape, stageAsync, startLatents,
  throwIfAborted, type DenoiseHooks, type Embeddings,
} from './common';
import type { InpaintOptions, PipelineContext, PipelineResult } from './types';

/**
 * Repaints the white part of `mask` in `image` following the prompt; everything outside the mask is unchanged.
 * Errors: AppError INVALID_INPUT (before any model runs; also for an empty mask), CANCELLED, MODEL_MISMATCH,
 * BAD_MODEL_OUTPUT.
 */
export async function inpaintAsync(ctx: PipelineContext, o: InpaintOptions): Promise<PipelineResult> {
  // 1. Check inputs (before any session is acquired)
  const scheduler = checkBaseOptions(o, ctx.manifest, { promptRequired: true });
  const strength = checkStrength(o.strength);
  const original = checkImage('source image', o.image);
  checkMaskSize(checkImage('mask', o.mask), original);
  checkCapability(ctx.manifest, 'inpaint');
  const source = resizeBilinear(original, o.width, o.height);
  const maskImage = resizeBilinear(o.mask, o.width, o.height);
  const binary = maskToBinary(maskImage);
  if (!binary.some((v) => v > 0)) {
    throw new AppError('INVALID_INPUT', 'The mask is empty (no pixel is at least 50% white), so nothing would change.', { hint: 'Draw over the part of the image to repaint.' });
  }
  const mode = ctx.manifest.raw.capabilities.inpaint;
  throwIfAborted(ctx.signal);
  if (strength === 0) return { image: { ...source, data: new Uint8ClampedArray(source.data) }, seed: o.seed, droppedTokens: 0, stepsRun: 0 };

  let embeddings: Embeddings | null = null;
  try {
    // 2. Encode the prompt
    embeddings = await encodePromptAsync(ctx, o.prompt, o.negativePrompt ?? '', o.guidanceScale);
    // 3. Encode the image (and, for 9 channels, the masked image); latent mask
    const dims = latentShape(ctx, o.width, o.height);
    const [, c, h, w] = dims;
    const latentMask = downsampleMask(binary, o.width, o.height, ctx.manifest.vaeScale, o.latentMask ?? 'nearest');
    const pixels = imageToTensor(source);
    const generator = createTorchGenerator(o.seed);
    // 4. Image latents, noise, masked-image latents — in diffusers' generator order
    const needImage = mode !== '9ch' || strength < 1;
    const { imageLatents, noise, maskedImageLatents } = await stageAsync(ctx, 'encode', async () => {
      const imageLatents = needImage ? await encodePixelsAsync(ctx, pixels, o.width, o.height, generator) : new Float32Array(c * h * w);
      const noise = generator.randn(dims);
      let maskedImageLatents: Float32Array | null = null;
      if (mode === '9ch') maskedImageLatents = await encodePixelsAsync(ctx, maskImageTensor(pixels, binary), o.width, o.height, generator);
      else generator.randn(dims); // diffusers samples the masked image's posterior here; the blend never uses it
      return { imageLatents, noise, maskedImageLatents };
    });
    const { startIndex, latents } = startLatents(scheduler, getImg2ImgStartIndex(o.steps, strength), imageLatents, noise, strength === 1);
    // 5. Denoise
    const last = scheduler.timesteps.length - 1;
    const hooks: DenoiseHooks = mode === '9ch'
      ? { buildSample: (scaled) => ({ dims: [1, 2 * c + 1, h, w], data: concatChannels([scaled, latentMask, maskedImageLatents!]) }) }
      : { afterStep: (next, i) => blendByMask(i < last ? scheduler.addNoise(imageLatents, noise, i + 1) : imageLatents, next, latentMask) };
    const final = await denoiseAsync(ctx, { scheduler, latents, latentDims: dims, startIndex, embeddings, guidance: o.guidanceScale, generator, hooks });
    // 6. Decode, 7. composite over the original with the soft pixel mask
    const generated = await decodeLatentsAsync(ctx, final, dims, o.width, o.height);
    const image = compositeWithMask(source, generated, maskToWeights(maskImage));
    return { image, seed: o.seed, droppedTokens: embeddings.droppedTokens, stepsRun: scheduler.timesteps.length - startIndex };
  } finally {
    disposeEmbeddings(embeddings);
  }
}
