/**
 * Shared pipeline stages: prompt encoding, the denoising loop (with classifier-free guidance, ControlNet residuals,
 * 9-channel inputs and inpaint blending as hooks), VAE encode/decode. Sessions are acquired per stage and given back
 * with doneWithAsync so the runtime's memory policy can release them; device tensors are disposed in `finally`.
 */
import { AppError } from '../../../protocol/errors';
import { createTorchGenerator } from '../rng/torch-generator';
import type { Scheduler } from '../schedulers';
import type { ModelSession } from '../session';
import { float32, type HostTensor, type Tensor } from '../tensor';
import { imageToTensor, latentPreview, tensorToImage, type RgbaImage } from '../image';
import type { ModelRole } from '../session';
import type { PipelineContext } from './types';

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AppError('CANCELLED', 'Generation cancelled.');
}

export async function toHostAsync(t: Tensor): Promise<HostTensor> {
  return t.kind === 'host' ? t : t.downloadAsync();
}

export function disposeTensor(t: Tensor | null | undefined): void {
  if (t && t.kind === 'device') t.dispose();
}

/** Runs `fn` with a session and always tells the source we are done with it. */
export async function withSessionAsync<T>(ctx: PipelineContext, role: ModelRole, fn: (s: ModelSession) => Promise<T>): Promise<T> {
  const session = await ctx.sessions.acquireAsync(role);
  try {
    return await fn(session);
  } finally {
    await ctx.sessions.doneWithAsync(role);
  }
}

/** Float → IEEE half bits (for float16 timestep inputs). */
export function toHalf(v: number): number {
  const f32 = new Float32Array([v]);
  const x = new Uint32Array(f32.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  let exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  // round to nearest even
  const round = mant & 0x1fff;
  mant >>= 13;
  if (round > 0x1000 || (round === 0x1000 && (mant & 1))) {
    mant++;
    if (mant === 0x400) { mant = 0; exp++; }
  }
  return sign | (exp << 10) | mant;
}

/** The `timestep` input in the dtype the UNet declares (int64 for SD-Turbo exports, float for others). */
export function timestepTensor(ctx: PipelineContext, t: number): HostTensor {
  switch (ctx.manifest.timestepDtype) {
    case 'int64': return { kind: 'host', dtype: 'int64', dims: [1], data: BigInt64Array.from([BigInt(Math.round(t))]) };
    case 'int32': return { kind: 'host', dtype: 'int32', dims: [1], data: Int32Array.from([Math.round(t)]) };
    case 'float16': return { kind: 'host', dtype: 'float16', dims: [1], data: Uint16Array.from([toHalf(t)]) };
    case 'float64': return { kind: 'host', dtype: 'float64', dims: [1], data: Float64Array.from([t]) };
    default: return float32([1], Float32Array.from([t]));
  }
}

export interface Embeddings {
  readonly cond: Tensor;
  /** Null when guidance is off (≤ 1) or the model uses a guidance embedding instead (LCM). */
  readonly uncond: Tensor | null;
  readonly droppedTokens: number;
}

/** Whether the UNet takes LCM's guidance embedding (`timestep_cond`) instead of running CFG. */
export const usesGuidanceEmbedding = (ctx: PipelineContext): boolean =>
  (ctx.manifest.components.unet?.inputs ?? []).some((i) => i.name === 'timestep_cond');

/** 1. Encode the prompt (and the negative prompt when CFG is on) with the text encoder. */
export async function encodePromptAsync(ctx: PipelineContext, prompt: string, negativePrompt: string, guidance: number): Promise<Embeddings> {
  const { manifest, tokenizer } = ctx;
  const cfg = guidance > 1 && !usesGuidanceEmbedding(ctx);
  ctx.onProgress?.({ step: 0, total: 1, stage: 'text' });
  return withSessionAsync(ctx, 'text_encoder', async (session) => {
    const inputName = manifest.components.text_encoder?.inputs[0]?.name ?? 'input_ids';
    const inputDtype = manifest.components.text_encoder?.inputs[0]?.dtype ?? 'int32';
    const outputName = manifest.components.text_encoder?.outputs[0]?.name ?? 'last_hidden_state';
    const run = async (text: string) => {
      const enc = tokenizer.encode(text, { padTokenId: manifest.padTokenId, maxLength: manifest.maxLength });
      const ids: HostTensor = inputDtype === 'int64'
        ? { kind: 'host', dtype: 'int64', dims: [1, manifest.maxLength], data: BigInt64Array.from(enc.ids, (x) => BigInt(x)) }
        : { kind: 'host', dtype: 'int32', dims: [1, manifest.maxLength], data: enc.ids };
      const out = await session.runAsync({ [inputName]: ids });
      const hidden = out[outputName];
      if (!hidden) throw new AppError('MODEL_MISMATCH', `The text encoder returned no "${outputName}" output.`);
      for (const [k, v] of Object.entries(out)) if (k !== outputName) disposeTensor(v);
      return { hidden, dropped: enc.droppedTokens };
    };
    const cond = await run(prompt);
    const uncond = cfg ? await run(negativePrompt) : null;
    return { cond: cond.hidden, uncond: uncond?.hidden ?? null, droppedTokens: cond.dropped };
  });
}

/** LCM's w-embedding: sinusoidal embedding of w = (guidance − 1)·1000, as diffusers get_guidance_scale_embedding. */
export function guidanceEmbedding(guidance: number, dim: number): Float32Array {
  const w = (guidance - 1) * 1000;
  const half = dim / 2;
  const out = new Float32Array(dim);
  const scale = Math.log(10000) / (half - 1);
  for (let i = 0; i < half; i++) {
    const e = w * Math.exp(-scale * i);
    out[i] = Math.sin(e);
    out[half + i] = Math.cos(e);
  }
  return out;
}

export interface DenoiseHooks {
  /** Builds the UNet `sample` from the scaled latent input (9-channel inpainting concatenates mask + image latents). */
  readonly buildSample?: (scaled: Float32Array) => HostTensor;
  /** Extra UNet feeds for one pass (ControlNet residuals); called per guidance branch. */
  readonly extraFeedsAsync?: (args: { sample: HostTensor; timestep: HostTensor; hidden: Tensor; stepIndex: number }) => Promise<Record<string, Tensor>>;
  /** Post-step latent rewrite (inpaint blending with the noised original). */
  readonly afterStep?: (latents: Float32Array, stepIndex: number) => Float32Array;
}

export interface DenoiseArgs {
  readonly scheduler: Scheduler;
  readonly latents: Float32Array;
  readonly latentDims: readonly [number, number, number, number];
  readonly startIndex: number;
  readonly embeddings: Embeddings;
  readonly guidance: number;
  readonly generator: ReturnType<typeof createTorchGenerator>;
  readonly hooks?: DenoiseHooks;
}

/** 5. The denoising loop. Returns the final latents. One UNet output read back per pass (scheduler runs on CPU). */
export async function denoiseAsync(ctx: PipelineContext, args: DenoiseArgs): Promise<Float32Array> {
  const { scheduler, latentDims, embeddings, guidance, hooks } = args;
  const unetSpec = ctx.manifest.components.unet!;
  const outName = unetSpec.outputs[0]!.name;
  const condDim = unetSpec.inputs.find((i) => i.name === 'timestep_cond');
  const total = scheduler.timesteps.length - args.startIndex;
  const randn = (n: number) => args.generator.randn([n]);
  const [, channels, h, w] = latentDims;
  let latents = args.latents;
  const timestepCond = condDim
    ? float32([1, Number(condDim.dims[1] ?? 256)], guidanceEmbedding(guidance, Number(condDim.dims[1] ?? 256)))
    : null;

  return withSessionAsync(ctx, 'unet', async (unet) => {
    for (let i = args.startIndex; i < scheduler.timesteps.length; i++) {
      throwIfAborted(ctx.signal);
      const t = scheduler.timesteps[i]!;
      const scaled = scheduler.scaleModelInput(latents, i);
      const sample = hooks?.buildSample ? hooks.buildSample(scaled) : float32(latentDims, scaled);
      const timestep = timestepTensor(ctx, t);
      const pass = async (hidden: Tensor): Promise<Float32Array> => {
        const extra = hooks?.extraFeedsAsync ? await hooks.extraFeedsAsync({ sample, timestep, hidden, stepIndex: i }) : {};
        const feeds: Record<string, Tensor> = { sample, timestep, encoder_hidden_states: hidden, ...extra };
        if (timestepCond) feeds.timestep_cond = timestepCond;
        try {
          const out = await unet.runAsync(feeds);
          const noise = out[outName];
          if (!noise) throw new AppError('MODEL_MISMATCH', `The UNet returned no "${outName}" output.`);
          for (const [k, v] of Object.entries(out)) if (k !== outName) disposeTensor(v);
          const host = await toHostAsync(noise);
          disposeTensor(noise);
          return host.data as Float32Array;
        } finally {
          for (const v of Object.values(extra)) disposeTensor(v);
        }
      };
      let eps = await pass(embeddings.cond);
      if (embeddings.uncond) {
        // Classifier-free guidance: ε = ε_u + g·(ε_c − ε_u).
        const epsU = await pass(embeddings.uncond);
        const mixed = new Float32Array(eps.length);
        for (let k = 0; k < eps.length; k++) mixed[k] = epsU[k]! + guidance * (eps[k]! - epsU[k]!);
        eps = mixed;
      }
      const { prevSample, predOriginalSample } = scheduler.step(eps, i, latents, randn);
      latents = hooks?.afterStep ? hooks.afterStep(prevSample, i) : prevSample;
      ctx.onProgress?.({
        step: i - args.startIndex + 1,
        total,
        stage: 'denoise',
        preview: latentPreview(predOriginalSample, channels, h, w, 1),
      });
    }
    return latents;
  });
}

/** 2b. VAE-encode an image to scaled latents [1,C,h,w] (× vae_scaling_factor). */
export async function encodeImageAsync(ctx: PipelineContext, image: RgbaImage): Promise<Float32Array> {
  const spec = ctx.manifest.components.vae_encoder;
  if (!spec) throw new AppError('MODEL_MISMATCH', `${ctx.manifest.name} has no VAE encoder, so it cannot edit images.`);
  ctx.onProgress?.({ step: 0, total: 1, stage: 'encode' });
  return withSessionAsync(ctx, 'vae_encoder', async (enc) => {
    const inName = spec.inputs[0]!.name;
    const outName = spec.outputs[0]!.name;
    const out = await enc.runAsync({ [inName]: float32([1, 3, image.height, image.width], imageToTensor(image)) });
    const t = out[outName];
    if (!t) throw new AppError('MODEL_MISMATCH', `The VAE encoder returned no "${outName}" output.`);
    const host = await toHostAsync(t);
    disposeTensor(t);
    const sf = ctx.manifest.vaeScalingFactor;
    return (host.data as Float32Array).map((v) => v * sf);
  });
}

/** 7. Decode latents (÷ vae_scaling_factor) to an image. */
export async function decodeLatentsAsync(ctx: PipelineContext, latents: Float32Array, dims: readonly number[], width: number, height: number): Promise<RgbaImage> {
  throwIfAborted(ctx.signal);
  ctx.onProgress?.({ step: 0, total: 1, stage: 'decode' });
  const spec = ctx.manifest.components.vae_decoder!;
  return withSessionAsync(ctx, 'vae_decoder', async (dec) => {
    const sf = ctx.manifest.vaeScalingFactor;
    const out = await dec.runAsync({ [spec.inputs[0]!.name]: float32(dims, latents.map((v) => v / sf)) });
    const t = out[spec.outputs[0]!.name];
    if (!t) throw new AppError('MODEL_MISMATCH', `The VAE decoder returned no "${spec.outputs[0]!.name}" output.`);
    const host = await toHostAsync(t);
    disposeTensor(t);
    return tensorToImage(host.data as Float32Array, width, height);
  });
}

/** Latent geometry for a pixel size. */
export function latentShape(ctx: PipelineContext, width: number, height: number): [number, number, number, number] {
  const f = ctx.manifest.vaeScale;
  return [1, ctx.manifest.latentChannels, height / f, width / f];
}
