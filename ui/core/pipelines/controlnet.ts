/**
 * ControlNet, as diffusers StableDiffusionControlNetPipeline (and its img2img variant when `image` is given), in the
 * two ONNX layouts a manifest can describe:
 * - separate (`components.controlnet`, Axodox / OnnxStack style): inputs sample, timestep, encoder_hidden_states,
 *   controlnet_cond [1,3,H,W] in [0,1], conditioning_scale (any float dtype; when absent the residuals are scaled
 *   here, as diffusers does inside the model); its 13 outputs (down_block_{0..11}_additional_residual,
 *   mid_block_additional_residual) feed the UNet inputs of the same names — outputs with other names are mapped
 *   onto the remaining residual inputs in manifest order;
 * - fused (capabilities.controlnet_fused): the UNet itself takes `controlnet_cond` [1,3,H,W] + `conditioning_scale`,
 *   or diffusers' fused-export names `controlnet_conds` [1,1,3,H,W] + `conditioning_scales`.
 * Under CFG the ControlNet runs for the cond and the uncond pass (diffusers batches both; no guess mode).
 * Scale 0 zeroes every residual, so the image is exactly the one the UNet makes without control.
 */
import { AppError } from '../../../protocol/errors';
import { imageToTensor, imageToUnitTensor, resizeBilinear } from '../image';
import { createTorchGenerator } from '../rng/torch-generator';
import { getImg2ImgStartIndex } from '../schedulers';
import type { ModelSession } from '../session';
import type { Tensor } from '../tensor';
import { floatTensor, toFloat32 } from '../tensor-math';
import { fusedControlFeeds, fusedControlInputs, residualMapping, scaleFeed } from './control-feeds';
import { checkBaseOptions, checkCapability, checkControlScale, checkImage, checkStrength } from './check-inputs';
import {
  componentSpec, decodeLatentsAsync, denoiseAsync, disposeEmbeddings, disposeTensor, encodePixelsAsync, encodePromptAsync, findInput,
  latentShape, stageAsync, startLatents, throwIfAborted, toHostAsync, type DenoiseHooks, type Embeddings,
} from './common';
import type { ControlNetOptions, PipelineContext, PipelineResult } from './types';

/**
 * Generates an image that follows `control` (e.g. the design's outlines), optionally starting from `image`.
 * Errors: AppError INVALID_INPUT (before any model runs), CANCELLED, MODEL_MISMATCH, BAD_MODEL_OUTPUT.
 */
export async function controlNetAsync(ctx: PipelineContext, o: ControlNetOptions): Promise<PipelineResult> {
  // 1. Check inputs (before any session is acquired)
  const scheduler = checkBaseOptions(o, ctx.manifest, { promptRequired: true });
  const controlScale = checkControlScale(o.controlScale);
  const control = resizeBilinear(checkImage('control image', o.control), o.width, o.height);
  checkCapability(ctx.manifest, 'controlnet');
  const strength = o.image === undefined ? 1 : checkStrength(o.strength ?? 1);
  const source = o.image === undefined ? null : resizeBilinear(checkImage('source image', o.image), o.width, o.height);
  if (source && strength < 1) checkCapability(ctx.manifest, 'img2img');
  const fused = ctx.manifest.raw.capabilities.controlnet_fused === true;
  const unetSpec = componentSpec(ctx, 'unet');
  const cnSpec = fused ? null : componentSpec(ctx, 'controlnet');
  const mapping = cnSpec ? residualMapping(cnSpec, unetSpec) : null;
  if (fused && !fusedControlInputs(unetSpec)) {
    throw new AppError('MODEL_MISMATCH', `${ctx.manifest.name} is marked as a fused ControlNet but its UNet lacks "controlnet_cond" / "conditioning_scale".`);
  }
  throwIfAborted(ctx.signal);
  if (source && strength === 0) return { image: { ...source, data: new Uint8ClampedArray(source.data) }, seed: o.seed, droppedTokens: 0, stepsRun: 0 };

  let embeddings: Embeddings | null = null;
  let controlSession: ModelSession | null = null;
  try {
    // 2. Encode the prompt
    embeddings = await encodePromptAsync(ctx, o.prompt, o.negativePrompt ?? '', o.guidanceScale);
    // 3. Encode the source image when refining it (the posterior sample is the generator's first draw, as diffusers)
    const generator = createTorchGenerator(o.seed);
    const imageLatents = source && strength < 1
      ? await stageAsync(ctx, 'encode', () => encodePixelsAsync(ctx, imageToTensor(source), o.width, o.height, generator))
      : null;
    // 4. Initial latents (pure noise, or the noised source image)
    const dims = latentShape(ctx, o.width, o.height);
    const noise = generator.randn(dims);
    const { startIndex, latents } = imageLatents
      ? startLatents(scheduler, getImg2ImgStartIndex(o.steps, strength), imageLatents, noise, false)
      : startLatents(scheduler, 0, noise, noise, true);
    // 5. Control feeds per UNet pass
    const cond = imageToUnitTensor(control);
    let extraFeedsAsync: NonNullable<DenoiseHooks['extraFeedsAsync']>;
    if (fused) {
      const feeds = fusedControlFeeds(unetSpec, cond, o.width, o.height, controlScale);
      extraFeedsAsync = async () => feeds;
    } else {
      const spec = cnSpec!;
      const scaleDecl = findInput(spec, 'conditioning_scale');
      const condDecl = findInput(spec, 'controlnet_cond');
      const condTensor = floatTensor(condDecl?.dtype ?? 'float32', [1, 3, o.height, o.width], cond);
      throwIfAborted(ctx.signal);
      controlSession = await ctx.sessions.acquireAsync('controlnet');
      const session = controlSession;
      extraFeedsAsync = async ({ scaled, timestep, hidden }) => {
        const feeds: Record<string, Tensor> = {
          sample: floatTensor(findInput(spec, 'sample')?.dtype ?? 'float32', dims, scaled),
          timestep,
          encoder_hidden_states: hidden,
          controlnet_cond: condTensor,
        };
        if (scaleDecl) feeds.conditioning_scale = scaleFeed(scaleDecl, controlScale);
        const out = await session.runAsync(feeds);
        const residuals: Record<string, Tensor> = {};
        try {
          for (const [name, t] of Object.entries(out)) {
            const target = mapping!.get(name);
            if (!target) throw new AppError('MODEL_MISMATCH', `The ControlNet returned an unexpected output "${name}".`);
            if (scaleDecl) {
              residuals[target] = t;
              continue;
            }
            // No scale input: scale the residuals here, as diffusers' ControlNetModel does (residual × scale).
            const host = await toHostAsync(t);
            disposeTensor(t);
            residuals[target] = floatTensor(host.dtype, host.dims, toFloat32(host).map((x) => x * controlScale));
          }
        } catch (err) {
          for (const t of Object.values(out)) if (!Object.values(residuals).includes(t)) disposeTensor(t);
          for (const t of Object.values(residuals)) disposeTensor(t);
          throw err;
        }
        return residuals;
      };
    }
    // 6. Denoise with the control
    const final = await denoiseAsync(ctx, { scheduler, latents, latentDims: dims, startIndex, embeddings, guidance: o.guidanceScale, generator, hooks: { extraFeedsAsync } });
    // 7. Decode
    const image = await decodeLatentsAsync(ctx, final, dims, o.width, o.height);
    return { image, seed: o.seed, droppedTokens: embeddings.droppedTokens, stepsRun: scheduler.timesteps.length - startIndex };
  } finally {
    if (controlSession) await ctx.sessions.doneWithAsync('controlnet');
    disposeEmbeddings(embeddings);
  }
}
