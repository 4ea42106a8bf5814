/**
 * Text → image, as diffusers StableDiffusionPipeline.__call__: classifier-free guidance when guidance > 1 (two UNet
 * passes per step, cond and uncond), skipped otherwise (SD-Turbo: guidance 0); LCM models take the guidance embedding.
 */
import { createTorchGenerator } from '../rng/torch-generator';
import { checkBaseOptions } from './check-inputs';
import { decodeLatentsAsync, denoiseAsync, disposeEmbeddings, encodePromptAsync, latentShape, throwIfAborted, type Embeddings } from './common';
import type { PipelineContext, PipelineResult, TextToImageOptions } from './types';

/**
 * Generates a width × height image from a prompt.
 * Errors: AppError INVALID_INPUT (before any model runs), CANCELLED, MODEL_MISMATCH, BAD_MODEL_OUTPUT.
 */
export async function textToImageAsync(ctx: PipelineContext, o: TextToImageOptions): Promise<PipelineResult> {
  // 1. Check inputs (before any session is acquired); 3. the schedule for `steps`
  const scheduler = checkBaseOptions(o, ctx.manifest, { promptRequired: true });
  throwIfAborted(ctx.signal);
  let embeddings: Embeddings | null = null;
  try {
    // 2. Encode the prompt (and the negative prompt under CFG)
    embeddings = await encodePromptAsync(ctx, o.prompt, o.negativePrompt ?? '', o.guidanceScale);
    // 4. Initial latents: torch.randn([1,C,H/8,W/8], generator=manual_seed(seed)) × init_noise_sigma
    const dims = latentShape(ctx, o.width, o.height);
    const generator = createTorchGenerator(o.seed);
    const latents = generator.randn(dims).map((v) => v * scheduler.initNoiseSigma);
    // 5. Denoise
    const final = await denoiseAsync(ctx, { scheduler, latents, latentDims: dims, startIndex: 0, embeddings, guidance: o.guidanceScale, generator });
    // 6. Decode
    const image = await decodeLatentsAsync(ctx, final, dims, o.width, o.height);
    return { image, seed: o.seed, droppedTokens: embeddings.droppedTokens, stepsRun: scheduler.timesteps.length };
  } finally {
    disposeEmbeddings(embeddings);
  }
}
