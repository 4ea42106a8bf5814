/**
 * ControlNet, as diffusers StableDiffusionControlNetPipeline, in the two ONNX layouts:
 * - separate: a `controlnet` component (sample, timestep, encoder_hidden_states, controlnet_cond [1,3,H,W] in [0,1],
 *   conditioning_scale) whose 13 residual outputs (`down_block_{0..11}_additional_residual`,
 *   `mid_block_additional_residual`) feed the UNet's inputs of the same names;
 * - fused (capabilities.controlnet_fused): the UNet itself takes `controlnet_conds` [1,1,3,H,W] and
 *   `conditioning_scales` [1,1].
 * The control image is the design's line map (white on black). Scale 0 gives the same image as no control.
 */
import { AppError } from '../../../protocol/errors';
import { createTorchGenerator } from '../rng/torch-generator';
import { createScheduler, getImg2ImgStartIndex } from '../schedulers';
import { imageToUnitTensor } from '../image';
import { float32, type HostTensor, type Tensor } from '../tensor';
import type { ModelSession } from '../session';
import { checkBaseOptions, checkControlScale, checkImage, checkStrength } from './check-inputs';
import { type DenoiseHooks, decodeLatentsAsync, denoiseAsync, disposeTensor, encodeImageAsync, encodePromptAsync, latentShape, throwIfAborted, type Embeddings } from './common';
import type { ControlNetOptions, PipelineContext, PipelineResult } from './types';

function scaleTensor(dtype: string, dims: readonly number[], scale: number): HostTensor {
  return dtype === 'float64'
    ? { kind: 'host', dtype: 'float64', dims, data: Float64Array.from([scale]) }
    : float32(dims, Float32Array.from([scale]));
}

export async function controlNetAsync(ctx: PipelineContext, o: ControlNetOptions): Promise<PipelineResult> {
  // 1. Check inputs
  checkBaseOptions(o, ctx.manifest, { promptRequired: true });
  checkControlScale(o.controlScale);
  checkImage('control image', o.control, o.width, o.height);
  if (o.image) {
    checkImage('source image', o.image, o.width, o.height);
    checkStrength(o.strength ?? 1);
  }
  const caps = ctx.manifest.raw.capabilities;
  const fused = caps.controlnet_fused === true;
  if (caps.controlnet === 'none') throw new AppError('INVALID_INPUT', `${ctx.manifest.name} has no ControlNet. Pick a model for Wireframe → mockup.`);
  if (!fused && !ctx.manifest.components.controlnet) throw new AppError('INVALID_MANIFEST', `${ctx.manifest.name} names a ControlNet but has no controlnet component.`);
  throwIfAborted(ctx.signal);

  let embeddings: Embeddings | null = null;
  let controlSession: ModelSession | null = null;
  try {
    // 2. Encode prompt (and the source image when refining)
    embeddings = await encodePromptAsync(ctx, o.prompt, o.negativePrompt ?? '', o.guidanceScale);
    const imageLatents = o.image && (o.strength ?? 1) < 1 ? await encodeImageAsync(ctx, o.image) : null;
    // 3. Control image tensor
    const cond = imageToUnitTensor(o.control);
    const dims = latentShape(ctx, o.width, o.height);
    // 4. Timesteps and initial latents
    const scheduler = createScheduler(ctx.manifest.scheduler, o.steps);
    const generator = createTorchGenerator(o.seed);
    const startIndex = imageLatents ? Math.min(getImg2ImgStartIndex(o.steps, o.strength ?? 1), o.steps - 1) : 0;
    const noise = generator.randn(dims);
    const latents = imageLatents ? scheduler.addNoise(imageLatents, noise, startIndex) : noise.map((v) => v * scheduler.initNoiseSigma);

    let extraFeedsAsync: NonNullable<DenoiseHooks['extraFeedsAsync']>;
    if (fused) {
      const unetInputs = ctx.manifest.components.unet!.inputs;
      const scaleSpec = unetInputs.find((i) => i.name === 'conditioning_scales');
      const condTensor = float32([1, 1, 3, o.height, o.width], cond);
      const scale = scaleTensor(scaleSpec?.dtype ?? 'float32', [1, 1], o.controlScale);
      extraFeedsAsync = async () => ({ controlnet_conds: condTensor, conditioning_scales: scale });
    } else {
      const spec = ctx.manifest.components.controlnet!;
      const scaleSpec = spec.inputs.find((i) => i.name === 'conditioning_scale');
      const condTensor = float32([1, 3, o.height, o.width], cond);
      const scale = scaleTensor(scaleSpec?.dtype ?? 'float32', scaleSpec?.dims.length === 0 ? [] : [1], o.controlScale);
      controlSession = await ctx.sessions.acquireAsync('controlnet');
      const session = controlSession;
      extraFeedsAsync = async ({ sample, timestep, hidden }) => {
        const feeds: Record<string, Tensor> = { sample, timestep, encoder_hidden_states: hidden, controlnet_cond: condTensor };
        if (scaleSpec) feeds.conditioning_scale = scale;
        const out = await session.runAsync(feeds);
        // Residual names match the UNet's extra inputs one to one.
        if (!scaleSpec) {
          // A ControlNet without a scale input: scale the residuals here (as diffusers does inside the model).
          const scaled: Record<string, Tensor> = {};
          for (const [k, v] of Object.entries(out)) {
            const host = v.kind === 'host' ? v : await v.downloadAsync();
            disposeTensor(v);
            scaled[k] = float32(host.dims, (host.data as Float32Array).map((x) => x * o.controlScale));
          }
          return scaled;
        }
        return out;
      };
    }
    // 5. Denoise with the residuals
    const final = await denoiseAsync(ctx, { scheduler, latents, latentDims: dims, startIndex, embeddings, guidance: o.guidanceScale, generator, hooks: { extraFeedsAsync } });
    // 6. Decode
    const image = await decodeLatentsAsync(ctx, final, dims, o.width, o.height);
    return { image, seed: o.seed, droppedTokens: embeddings.droppedTokens, stepsRun: o.steps - startIndex };
  } finally {
    if (controlSession) await ctx.sessions.doneWithAsync('controlnet');
    disposeTensor(embeddings?.cond);
    disposeTensor(embeddings?.uncond);
  }
}
