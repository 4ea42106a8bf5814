/**
 * Shared pipeline stages: prompt encoding, the denoising loop (classifier-free guidance, LCM guidance embedding and
 * hooks for ControlNet residuals, 9-channel inputs and inpaint blending), VAE encode/decode.
 * Sessions are acquired per stage and handed back with doneWithAsync (so the runtime's memory policy can release
 * them); device tensors we receive are disposed as soon as they are read or consumed.
 * I/O names and dtypes come from the manifest; float inputs are converted to the dtype the manifest declares.
 */
import { AppError } from '../../../protocol/errors';
import { LATENT_RGB_FACTORS, latentPreview, tensorToImage, type RgbaImage } from '../image';
import type { ComponentSpec } from '../manifest';
import type { TorchGenerator } from '../rng/torch-generator';
import type { Scheduler } from '../schedulers';
import type { ModelRole, ModelSession } from '../session';
import { floatTensor, guide, hasNonFinite, toFloat32, toHalf } from '../tensor-math';
import type { HostTensor, Tensor } from '../tensor';
import { neutralControlFeedsAsync } from './control-feeds';
import type { PipelineContext, PipelineStage } from './types';

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AppError('CANCELLED', 'Generation cancelled.');
}

export async function toHostAsync(t: Tensor): Promise<HostTensor> {
  return t.kind === 'host' ? t : t.downloadAsync();
}

export function disposeTensor(t: Tensor | null | undefined): void {
  if (t && t.kind === 'device') t.dispose();
}

/** Reads one named output as float32 values and disposes every output tensor. */
async function takeOutputAsync(out: Record<string, Tensor>, name: string, what: string): Promise<{ data: Float32Array; dims: readonly number[] }> {
  try {
    const t = out[name];
    if (!t) throw new AppError('MODEL_MISMATCH', `The ${what} returned no "${name}" output (it returned ${Object.keys(out).map((k) => `"${k}"`).join(', ') || 'nothing'}).`);
    const host = await toHostAsync(t);
    return { data: toFloat32(host), dims: host.dims };
  } finally {
    for (const v of Object.values(out)) disposeTensor(v);
  }
}

/** Runs `fn` with a session and always tells the source we are done with it. */
export async function withSessionAsync<T>(ctx: PipelineContext, role: ModelRole, fn: (s: ModelSession) => Promise<T>): Promise<T> {
  throwIfAborted(ctx.signal);
  const session = await ctx.sessions.acquireAsync(role);
  try {
    return await fn(session);
  } finally {
    await ctx.sessions.doneWithAsync(role);
  }
}

/** Reports a one-shot stage (step 0 at start, 1 when done). */
export async function stageAsync<T>(ctx: PipelineContext, stage: PipelineStage, fn: () => Promise<T>): Promise<T> {
  throwIfAborted(ctx.signal);
  ctx.onProgress?.({ step: 0, total: 1, stage });
  const result = await fn();
  ctx.onProgress?.({ step: 1, total: 1, stage });
  return result;
}

export function componentSpec(ctx: PipelineContext, role: ModelRole): ComponentSpec {
  const spec = ctx.manifest.components[role];
  if (!spec) throw new AppError('MODEL_MISMATCH', `${ctx.manifest.name} has no ${role.replace('_', ' ')} component.`);
  return spec;
}

/** The manifest's declaration of an input, if any. */
export const findInput = (spec: ComponentSpec, name: string) => spec.inputs.find((i) => i.name === name);

/** A float feed in the dtype the manifest declares for `name` (float32 when undeclared). */
export function floatFeed(spec: ComponentSpec, name: string, dims: readonly number[], values: Float32Array): HostTensor {
  return floatTensor(findInput(spec, name)?.dtype ?? 'float32', dims, values);
}

/**
 * The `timestep` feed in the dtype and rank the model declares ([1] usually, a scalar when declared with no dims).
 * Integer dtypes truncate, as diffusers' ONNX pipelines do (`np.array([t], dtype=int64)`), so Euler's fractional
 * timesteps (e.g. 977.11) become 977 there; float dtypes keep the value.
 */
export function timestepFeed(spec: ComponentSpec, t: number): HostTensor {
  const decl = findInput(spec, 'timestep');
  const dtype = decl?.dtype ?? 'float32';
  const dims = decl && decl.dims.length === 0 ? [] : [1];
  switch (dtype) {
    case 'int64': return { kind: 'host', dtype, dims, data: BigInt64Array.from([BigInt(Math.trunc(t))]) };
    case 'int32': return { kind: 'host', dtype, dims, data: Int32Array.from([Math.trunc(t)]) };
    case 'float16': return { kind: 'host', dtype, dims, data: Uint16Array.from([toHalf(t)]) };
    case 'float64': return { kind: 'host', dtype, dims, data: Float64Array.from([t]) };
    default: return { kind: 'host', dtype: 'float32', dims, data: Float32Array.from([t]) };
  }
}

export interface Embeddings {
  readonly cond: Tensor;
  /** Null when guidance is off (≤ 1) or the model takes a guidance embedding instead (LCM). */
  readonly uncond: Tensor | null;
  readonly droppedTokens: number;
}

export function disposeEmbeddings(e: Embeddings | null): void {
  disposeTensor(e?.cond);
  disposeTensor(e?.uncond);
}

/** Whether the UNet takes LCM's guidance embedding (`timestep_cond`) instead of running CFG. */
export const usesGuidanceEmbedding = (ctx: PipelineContext): boolean => !!findInput(componentSpec(ctx, 'unet'), 'timestep_cond');

/** Classifier-free guidance is on when guidance > 1 and the model has no guidance embedding (as diffusers). */
export const usesCfg = (ctx: PipelineContext, guidance: number): boolean => guidance > 1 && !usesGuidanceEmbedding(ctx);

/** 2. Encode the prompt (and the negative prompt when CFG is on) with the text encoder → [1,77,D] each. */
export async function encodePromptAsync(ctx: PipelineContext, prompt: string, negativePrompt: string, guidance: number): Promise<Embeddings> {
  const { manifest, tokenizer } = ctx;
  const spec = componentSpec(ctx, 'text_encoder');
  const input = spec.inputs[0]!;
  const outputName = spec.outputs.some((o) => o.name === 'last_hidden_state') ? 'last_hidden_state' : spec.outputs[0]!.name;
  return stageAsync(ctx, 'text', () => withSessionAsync(ctx, 'text_encoder', async (session) => {
    const run = async (text: string): Promise<{ hidden: Tensor; dropped: number }> => {
      const enc = tokenizer.encode(text, { padTokenId: manifest.padTokenId, maxLength: manifest.maxLength });
      const ids: HostTensor = input.dtype === 'int64'
        ? { kind: 'host', dtype: 'int64', dims: [1, manifest.maxLength], data: BigInt64Array.from(enc.ids, (x) => BigInt(x)) }
        : { kind: 'host', dtype: 'int32', dims: [1, manifest.maxLength], data: enc.ids };
      const out = await session.runAsync({ [input.name]: ids });
      const hidden = out[outputName];
      for (const [k, v] of Object.entries(out)) if (k !== outputName) disposeTensor(v);
      if (!hidden) throw new AppError('MODEL_MISMATCH', `The text encoder returned no "${outputName}" output.`);
      return { hidden, dropped: enc.droppedTokens };
    };
    const cond = await run(prompt);
    try {
      const uncond = usesCfg(ctx, guidance) ? await run(negativePrompt) : null;
      return { cond: cond.hidden, uncond: uncond?.hidden ?? null, droppedTokens: cond.dropped };
    } catch (err) {
      disposeTensor(cond.hidden);
      throw err;
    }
  }));
}

/**
 * LCM's w-embedding [dim]: sinusoidal embedding of w = (guidance − 1)·1000, as diffusers
 * LatentConsistencyModelPipeline.get_guidance_scale_embedding (sin half first, then cos), in float32 steps as torch
 * computes it: w = f32(g − 1)·1000, e = log(10000)/(half − 1), freq_i = exp(−e·i), arg_i = w·freq_i.
 * (torch's vectorised exp/sin/cos are within 1 ulp of the correctly rounded values used here.)
 */
export function guidanceEmbedding(guidance: number, dim: number): Float32Array {
  const f = Math.fround;
  const w = f(f(guidance - 1) * 1000);
  const half = Math.floor(dim / 2);
  const out = new Float32Array(dim);
  const scale = f(f(Math.log(10000)) / (half - 1));
  for (let i = 0; i < half; i++) {
    const e = f(w * f(Math.exp(f(i * -scale))));
    out[i] = Math.sin(e);
    out[half + i] = Math.cos(e);
  }
  return out;
}

export interface PassArgs {
  /** The UNet `sample` feed of this step. */
  readonly sample: HostTensor;
  /** The scaled 4-channel latents (scheduler.scaleModelInput) — what a ControlNet gets as `sample`. */
  readonly scaled: Float32Array;
  readonly timestep: HostTensor;
  readonly hidden: Tensor;
  readonly stepIndex: number;
}

export interface DenoiseHooks {
  /** Builds the UNet `sample` values from the scaled latents (9-channel inpainting concatenates mask + image latents). */
  readonly buildSample?: (scaled: Float32Array) => { dims: readonly number[]; data: Float32Array };
  /** Extra UNet feeds for one pass (ControlNet residuals); called per guidance branch; device tensors are disposed after the pass. */
  readonly extraFeedsAsync?: (args: PassArgs) => Promise<Record<string, Tensor>>;
  /** Rewrites the latents after each scheduler step (inpaint blending with the noised original). */
  readonly afterStep?: (latents: Float32Array, stepIndex: number) => Float32Array;
}

export interface DenoiseArgs {
  readonly scheduler: Scheduler;
  /** Initial latents [1,C,h,w] (noise × init_noise_sigma, or the noised image). */
  readonly latents: Float32Array;
  readonly latentDims: readonly [number, number, number, number];
  /** First scheduler step to run (img2img); steps startIndex…end run. */
  readonly startIndex: number;
  readonly embeddings: Embeddings;
  readonly guidance: number;
  readonly generator: TorchGenerator;
  readonly hooks?: DenoiseHooks;
}

/** Latent → RGB preview factors: the manifest's `latent_rgb_factors`, else the SD 1.x/2.x default. */
export const previewFactors = (ctx: PipelineContext): readonly (readonly number[])[] => ctx.manifest.raw.latent_rgb_factors ?? LATENT_RGB_FACTORS;

/**
 * Live preview through the model's preview decoder (TAESD), when the manifest has one and the runtime provided it:
 * the x0 prediction goes in as it is — TAESD's latent scale is 1, no ÷ vae_scaling_factor — and the image comes back
 * in [-1, 1] at full size, for a fraction of the VAE's cost. Null (→ the cheap latent-RGB preview) when there is no
 * preview decoder or it failed once in this run: a preview never fails a generation.
 */
export async function previewDecodeAsync(ctx: PipelineContext, x0: Float32Array, dims: readonly number[], state: { failed: boolean }): Promise<RgbaImage | null> {
  const spec = ctx.manifest.components.preview_decoder;
  if (!spec || state.failed) return null;
  try {
    return await withSessionAsync(ctx, 'preview_decoder', async (dec) => {
      const inName = spec.inputs[0]!.name;
      const outName = spec.outputs[0]!.name;
      const { data, dims: outDims } = await takeOutputAsync(await dec.runAsync({ [inName]: floatFeed(spec, inName, dims, x0) }), outName, 'preview decoder');
      const height = outDims[outDims.length - 2]!;
      const width = outDims[outDims.length - 1]!;
      return tensorToImage(data, width, height);
    });
  } catch (err) {
    if (err instanceof AppError && err.code === 'CANCELLED') throw err;
    state.failed = true;
    return null;
  }
}

/**
 * 5. The denoising loop, as diffusers StableDiffusionPipeline.__call__: per step scale_model_input → UNet (cond, and
 * uncond when CFG is on: ε = ε_u + g·(ε_c − ε_u)) → scheduler.step → hook. Returns the final latents.
 * The scheduler's noise (ancestral / LCM) comes from the same generator as the initial latents, as diffusers does.
 */
export async function denoiseAsync(ctx: PipelineContext, args: DenoiseArgs): Promise<Float32Array> {
  const { scheduler, latentDims, embeddings, guidance, hooks } = args;
  const spec = componentSpec(ctx, 'unet');
  const outName = spec.outputs.some((o) => o.name === 'out_sample') ? 'out_sample' : spec.outputs[0]!.name;
  const condDecl = findInput(spec, 'timestep_cond');
  const total = scheduler.timesteps.length - args.startIndex;
  const randn = (n: number): Float32Array => args.generator.randn([n]);
  const [, channels, h, w] = latentDims;
  const factors = previewFactors(ctx);
  let latents = args.latents;
  const previewState = { failed: false };
  let timestepCond: HostTensor | null = null;
  let neutral: Record<string, HostTensor> | null | undefined;
  if (condDecl) {
    const dim = typeof condDecl.dims[1] === 'number' ? condDecl.dims[1] : (ctx.manifest.raw.guidance_embedding_dim ?? 256);
    timestepCond = floatTensor(condDecl.dtype, [1, dim], guidanceEmbedding(guidance, dim));
  }

  return withSessionAsync(ctx, 'unet', async (unet) => {
    for (let i = args.startIndex; i < scheduler.timesteps.length; i++) {
      throwIfAborted(ctx.signal);
      const scaled = scheduler.scaleModelInput(latents, i);
      const built = hooks?.buildSample ? hooks.buildSample(scaled) : { dims: latentDims, data: scaled };
      const sample = floatFeed(spec, 'sample', built.dims, built.data);
      const timestep = timestepFeed(spec, scheduler.timesteps[i]!);
      if (!hooks?.extraFeedsAsync && neutral === undefined) {
        // A ControlNet-wired UNet run without control: zero residuals / black image at scale 0 (found once).
        neutral = await neutralControlFeedsAsync({
          unet: spec, controlnet: ctx.manifest.components.controlnet, sessions: ctx.sessions,
          probe: { sample: floatFeed(spec, 'sample', latentDims, scaled), timestep, hidden: embeddings.cond }, width: w * ctx.manifest.vaeScale, height: h * ctx.manifest.vaeScale,
        });
      }
      const pass = async (hidden: Tensor): Promise<Float32Array> => {
        const extra = hooks?.extraFeedsAsync ? await hooks.extraFeedsAsync({ sample, scaled, timestep, hidden, stepIndex: i }) : (neutral ?? {});
        try {
          const feeds: Record<string, Tensor> = { sample, timestep, encoder_hidden_states: hidden, ...extra };
          if (timestepCond) feeds.timestep_cond = timestepCond;
          const { data } = await takeOutputAsync(await unet.runAsync(feeds), outName, 'UNet');
          if (data.length !== scaled.length) throw new AppError('MODEL_MISMATCH', `The UNet returned ${data.length} values; expected ${scaled.length} (latents [${latentDims.join(',')}]).`);
          if (hasNonFinite(data) || data.every((v) => v === 0)) {
            throw new AppError('BAD_MODEL_OUTPUT', 'The model returned an empty or invalid result (all zeros or NaN).', {
              hint: 'This GPU may not support the model’s half-precision maths; try the CPU (wasm) backend or a float32 model.',
            });
          }
          return data;
        } finally {
          if (hooks?.extraFeedsAsync) for (const v of Object.values(extra)) disposeTensor(v);
        }
      };
      let eps = await pass(embeddings.cond);
      if (embeddings.uncond) eps = guide(await pass(embeddings.uncond), eps, guidance);
      const { prevSample, predOriginalSample } = scheduler.step(eps, i, latents, randn);
      latents = hooks?.afterStep ? hooks.afterStep(prevSample, i) : prevSample;
      if (ctx.onProgress) {
        const preview = (await previewDecodeAsync(ctx, predOriginalSample, latentDims, previewState)) ?? latentPreview(predOriginalSample, channels, h, w, factors);
        ctx.onProgress({ step: i - args.startIndex + 1, total, stage: 'denoise', preview });
      }
    }
    return latents;
  });
}

/** What the VAE encoder returns, from the manifest (or, undeclared, from its output's channel count). */
export type VaeEncoderOutput = 'sample' | 'mean' | 'mean_logvar';

/**
 * How the encode stage relates to diffusers for a seed, recorded with every result:
 * 'diffusers' — the posterior is sampled from the seed's generator in diffusers' order (exact);
 * 'posterior-mean' — the encoder gives only the mean: the noise is still diffusers' (the posterior draw is consumed),
 *   but the image latents lack diffusers' std·ε term;
 * 'in-graph-sample' — the encoder samples inside its graph (diffusers' old ONNX export): not reproducible.
 */
export type EncodeConvention = 'diffusers' | 'posterior-mean' | 'in-graph-sample';

export function vaeEncoderOutput(ctx: Pick<PipelineContext, 'manifest'>): VaeEncoderOutput {
  const declared = ctx.manifest.raw.vae_encoder_output;
  if (declared) return declared;
  const spec = ctx.manifest.components.vae_encoder;
  const out = spec?.outputs.find((o) => o.name === 'latent_sample') ?? spec?.outputs[0];
  const channels = out?.dims[1];
  return typeof channels === 'number' && channels === 2 * ctx.manifest.latentChannels ? 'mean_logvar' : 'sample';
}

export const encodeConvention = (ctx: Pick<PipelineContext, 'manifest'>): EncodeConvention =>
  ({ mean_logvar: 'diffusers', mean: 'posterior-mean', sample: 'in-graph-sample' } as const)[vaeEncoderOutput(ctx)];

/**
 * diffusers' DiagonalGaussianDistribution.sample in float32 steps: mean + exp(0.5·clamp(logvar, −30, 20))·ε.
 * `moments` is [1,2C,h,w] (mean channels first); ε is [1,C,h,w].
 */
export function samplePosterior(moments: Float32Array, eps: Float32Array): Float32Array {
  const n = eps.length;
  const f = Math.fround;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const logvar = Math.min(20, Math.max(-30, moments[n + i]!));
    out[i] = f(moments[i]! + f(f(Math.exp(f(0.5 * logvar))) * eps[i]!));
  }
  return out;
}

/**
 * 3. VAE-encode pixels [1,3,H,W] in [-1,1] to scaled latents [1,C,H/8,W/8] (× vae_scaling_factor), as diffusers'
 * `retrieve_latents(vae.encode(x), generator)`: draws ε = randn([1,C,h,w]) from `generator` — every encoder kind
 * consumes that draw, so the noise drawn after it is diffusers' noise — and with a 'mean_logvar' encoder returns
 * mean + std·ε (diffusers exactly); a 'mean' encoder returns the mean; a 'sample' encoder its in-graph sample.
 * An undeclared encoder with 2C output channels is read as mean‖logvar.
 */
export async function encodePixelsAsync(ctx: PipelineContext, pixels: Float32Array, width: number, height: number, generator: TorchGenerator): Promise<Float32Array> {
  const spec = componentSpec(ctx, 'vae_encoder');
  const outName = spec.outputs.some((o) => o.name === 'latent_sample') ? 'latent_sample' : spec.outputs[0]!.name;
  const c = ctx.manifest.latentChannels;
  const f = ctx.manifest.vaeScale;
  const plane = (width / f) * (height / f);
  const kind = vaeEncoderOutput(ctx);
  const data = await withSessionAsync(ctx, 'vae_encoder', async (enc) => {
    const inName = spec.inputs[0]!.name;
    return (await takeOutputAsync(await enc.runAsync({ [inName]: floatFeed(spec, inName, [1, 3, height, width], pixels) }), outName, 'VAE encoder')).data;
  });
  const eps = generator.randn([1, c, height / f, width / f]);
  let latents: Float32Array;
  if (data.length === 2 * c * plane) latents = kind === 'mean_logvar' ? samplePosterior(data, eps) : data.subarray(0, c * plane);
  else if (data.length === c * plane && kind !== 'mean_logvar') latents = data;
  else {
    const want = kind === 'mean_logvar' ? `${2 * c * plane} (mean‖logvar [1,${2 * c},${height / f},${width / f}])` : `${c * plane} (latents [1,${c},${height / f},${width / f}])`;
    throw new AppError('MODEL_MISMATCH', `The VAE encoder returned ${data.length} values; expected ${want}.`);
  }
  const sf = Math.fround(ctx.manifest.vaeScalingFactor);
  return latents.map((v) => v * sf);
}

/** 7. Decode latents [1,C,h,w] (÷ vae_scaling_factor) with the VAE decoder to an opaque width × height image. */
export async function decodeLatentsAsync(ctx: PipelineContext, latents: Float32Array, dims: readonly number[], width: number, height: number): Promise<RgbaImage> {
  const spec = componentSpec(ctx, 'vae_decoder');
  return stageAsync(ctx, 'decode', () => withSessionAsync(ctx, 'vae_decoder', async (dec) => {
    const sf = ctx.manifest.vaeScalingFactor;
    const inName = spec.inputs[0]!.name;
    const outName = spec.outputs.some((o) => o.name === 'sample') ? 'sample' : spec.outputs[0]!.name;
    const { data } = await takeOutputAsync(await dec.runAsync({ [inName]: floatFeed(spec, inName, dims, latents.map((v) => v / sf)) }), outName, 'VAE decoder');
    if (data.length !== 3 * width * height) throw new AppError('MODEL_MISMATCH', `The VAE decoder returned ${data.length} values; expected ${3 * width * height} (image [1,3,${height},${width}]).`);
    if (hasNonFinite(data)) throw new AppError('BAD_MODEL_OUTPUT', 'The image decoder returned invalid values (NaN).');
    return tensorToImage(data, width, height);
  }));
}

/** Latent geometry [1, C, H/f, W/f] for a pixel size. */
export function latentShape(ctx: PipelineContext, width: number, height: number): [number, number, number, number] {
  const f = ctx.manifest.vaeScale;
  return [1, ctx.manifest.latentChannels, height / f, width / f];
}

/**
 * 4. First step and initial latents, as diffusers' img2img get_timesteps + prepare_latents: run timesteps[start…]
 * with start = getImg2ImgStartIndex(steps, strength) clamped so at least one step runs; noise the image latents to
 * timesteps[start] (scheduler.addNoise). `strength` 1 with `pureNoiseAtFullStrength` (inpainting, as diffusers'
 * is_strength_max) starts from noise × init_noise_sigma instead.
 */
export function startLatents(
  scheduler: Scheduler,
  startIndexRaw: number,
  imageLatents: Float32Array,
  noise: Float32Array,
  pureNoise: boolean,
): { startIndex: number; latents: Float32Array } {
  const startIndex = Math.min(startIndexRaw, scheduler.timesteps.length - 1);
  const latents = pureNoise ? noise.map((v) => v * scheduler.initNoiseSigma) : scheduler.addNoise(imageLatents, noise, startIndex);
  return { startIndex, latents };
}
