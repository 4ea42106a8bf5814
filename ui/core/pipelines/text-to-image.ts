/**
 * Text → image, as diffusers StableDiffusionPipeline (CFG when guidance > 1, skipped otherwise; LCM models take a
 * guidance embedding instead).
 */
import { createTorchGenerator } from '../rng/torch-generator';
import { createScheduler } from '../schedulers';
import { checkBaseOptions } from './check-inputs';
import { decodeLatentsAsync, denoiseAsync, disposeTensor, encodePromptAsync, latentShape, throwIfAborted, type Embeddings } from './common';
import type { PipelineContext, PipelineResult, TextToImageOptions } from './types';

export async function textToImageAsync(ctx: PipelineContext, o: TextToImageOptions): Promise<PipelineResult> {
  // 1. Check inputs (before any model runs)
  checkBaseOptions(o, ctx.manifest, { promptRequired: true });
  throwIfAborted(ctx.signal);
  let embeddings: Embeddings | null = null;
  try {
    // 2. Encode the prompt
    embeddings = await encodePromptAsync(ctx, o.prompt, o.negativePrompt ?? '', o.guidanceScale);
    // 3. Timesteps
    const scheduler = createScheduler(ctx.manifest.scheduler, o.steps);
    // 4. Initial latents: seeded noise × init_noise_sigma
    const dims = latentShape(ctx, o.width, o.height);
    const generator = createTorchGenerator(o.seed);
    const latents = generator.randn(dims).map((v) => v * scheduler.initNoiseSigma);
    // 5. Denoise
    const final = await denoiseAsync(ctx, { scheduler, latents, latentDims: dims, startIndex: 0, embeddings, guidance: o.guidanceScale, generator });
    // 6. Decode
    const image = await decodeLatentsAsync(ctx, final, dims, o.width, o.height);
    return { image, seed: o.seed, droppedTokens: embeddings.droppedTokens, stepsRun: o.steps };
  } finally {
    disposeTensor(embeddings?.cond);
    disposeTensor(embeddings?.uncond);
  }
}
