/**
 * Image → image with a strength, as diffusers StableDiffusionImg2ImgPipeline: start at get_timesteps' index,
 * noise the encoded image to that timestep. Strength 0 returns the input unchanged (no model runs); any strength
 * > 0 runs at least one step (the last one), so a small strength still does something.
 */
import { createTorchGenerator } from '../rng/torch-generator';
import { createScheduler, getImg2ImgStartIndex } from '../schedulers';
import { checkBaseOptions, checkImage, checkStrength } from './check-inputs';
import { decodeLatentsAsync, denoiseAsync, disposeTensor, encodeImageAsync, encodePromptAsync, latentShape, throwIfAborted, type Embeddings } from './common';
import type { ImageToImageOptions, PipelineResult } from './types';
import type { PipelineContext } from './types';

export async function imageToImageAsync(ctx: PipelineContext, o: ImageToImageOptions): Promise<PipelineResult> {
  // 1. Check inputs
  checkBaseOptions(o, ctx.manifest, { promptRequired: false });
  checkStrength(o.strength);
  checkImage('source image', o.image, o.width, o.height);
  throwIfAborted(ctx.signal);
  if (o.strength === 0) {
    return { image: { width: o.image.width, height: o.image.height, data: new Uint8ClampedArray(o.image.data) }, seed: o.seed, droppedTokens: 0, stepsRun: 0 };
  }
  let embeddings: Embeddings | null = null;
  try {
    // 2. Encode prompt and image
    embeddings = await encodePromptAsync(ctx, o.prompt, o.negativePrompt ?? '', o.guidanceScale);
    const imageLatents = await encodeImageAsync(ctx, o.image);
    // 3. Timesteps from the strength
    const scheduler = createScheduler(ctx.manifest.scheduler, o.steps);
    const startIndex = Math.min(getImg2ImgStartIndex(o.steps, o.strength), o.steps - 1);
    // 4. Noise the image latents to the first timestep that runs
    const dims = latentShape(ctx, o.width, o.height);
    const generator = createTorchGenerator(o.seed);
    const noise = generator.randn(dims);
    const latents = scheduler.addNoise(imageLatents, noise, startIndex);
    // 5. Denoise
    const final = await denoiseAsync(ctx, { scheduler, latents, latentDims: dims, startIndex, embeddings, guidance: o.guidanceScale, generator });
    // 6. Decode
    const image = await decodeLatentsAsync(ctx, final, dims, o.width, o.height);
    return { image, seed: o.seed, droppedTokens: embeddings.droppedTokens, stepsRun: o.steps - startIndex };
  } finally {
    disposeTensor(embeddings?.cond);
    disposeTensor(embeddings?.uncond);
  }
}
