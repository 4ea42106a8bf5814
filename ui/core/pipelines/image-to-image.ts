/**
 * Image → image with a strength, as diffusers StableDiffusionImg2ImgPipeline: encode the image (× vae_scaling_factor),
 * start at get_timesteps' index, noise the image latents to that timestep, denoise the remaining steps.
 * Deviations, on purpose: strength 0 returns the input unchanged without running any model (diffusers would fail
 * with zero steps); any strength > 0 runs at least one step (the last), so a tiny strength still does something.
 * Draw order as diffusers: the VAE posterior sample first (retrieve_latents(vae.encode(image), generator)), then the
 * noise, then the scheduler's noise — so with a mean‖logvar encoder the image equals diffusers' for the seed.
 */
import { imageToTensor, resizeBilinear } from '../image';
import { createTorchGenerator } from '../rng/torch-generator';
import { getImg2ImgStartIndex } from '../schedulers';
import { createLcmScheduler } from '../schedulers/lcm';
import { checkBaseOptions, checkCapability, checkImage, checkStrength } from './check-inputs';
import {
  decodeLatentsAsync, denoiseAsync, disposeEmbeddings, encodePixelsAsync, encodePromptAsync, latentShape, stageAsync, startLatents,
  throwIfAborted, type Embeddings,
} from './common';
import type { ImageToImageOptions, PipelineContext, PipelineResult } from './types';

/**
 * Edits `image` towards the prompt. The prompt may be empty (pure re-rendering).
 * Errors: AppError INVALID_INPUT (before any model runs), CANCELLED, MODEL_MISMATCH, BAD_MODEL_OUTPUT.
 */
export async function imageToImageAsync(ctx: PipelineContext, o: ImageToImageOptions): Promise<PipelineResult> {
  // 1. Check inputs (before any session is acquired)
  const baseScheduler = checkBaseOptions(o, ctx.manifest, { promptRequired: false });
  const strength = checkStrength(o.strength);
  // LCM: LatentConsistencyModelImg2ImgPipeline rebuilds the schedule from the strength and runs all of it.
  const lcm = ctx.manifest.scheduler._class_name === 'LCMScheduler' && strength > 0;
  const scheduler = lcm ? createLcmScheduler(ctx.manifest.scheduler, o.steps, strength) : baseScheduler;
  const source = resizeBilinear(checkImage('source image', o.image), o.width, o.height);
  checkCapability(ctx.manifest, 'img2img');
  throwIfAborted(ctx.signal);
  if (strength === 0) return { image: { ...source, data: new Uint8ClampedArray(source.data) }, seed: o.seed, droppedTokens: 0, stepsRun: 0 };
  let embeddings: Embeddings | null = null;
  try {
    // 2. Encode the prompt
    embeddings = await encodePromptAsync(ctx, o.prompt, o.negativePrompt ?? '', o.guidanceScale);
    // 3. Encode the image (the posterior sample is the generator's first draw)
    const generator = createTorchGenerator(o.seed);
    const imageLatents = await stageAsync(ctx, 'encode', () => encodePixelsAsync(ctx, imageToTensor(source), o.width, o.height, generator));
    // 4. Start step from the strength; noise the image latents to it
    const dims = latentShape(ctx, o.width, o.height);
    const noise = generator.randn(dims);
    const { startIndex, latents } = startLatents(scheduler, lcm ? 0 : getImg2ImgStartIndex(o.steps, strength), imageLatents, noise, false);
    // 5. Denoise
    const final = await denoiseAsync(ctx, { scheduler, latents, latentDims: dims, startIndex, embeddings, guidance: o.guidanceScale, generator });
    // 6. Decode
    const image = await decodeLatentsAsync(ctx, final, dims, o.width, o.height);
    return { image, seed: o.seed, droppedTokens: embeddings.droppedTokens, stepsRun: scheduler.timesteps.length - startIndex };
  } finally {
    disposeEmbeddings(embeddings);
  }
}
