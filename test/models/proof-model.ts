/**
 * Proof models: tiny ONNX graphs with the REAL Stable Diffusion components' I/O names, ranks and dtypes, whose
 * behaviour is analytic, so a pipeline run has a known answer.
 *
 * - text_encoder: `input_ids` int32 [batch,77] → `last_hidden_state` float32 [batch,77,D]: an embedding lookup
 *   (Gather). Token rows are given by the caller; every other row (BOS, EOS, padding) is 0.
 * - unet: `sample` float32 [batch,C,h,w] (9-channel variant: [batch,2C+1,h,w]), `timestep` int64 [1] or float32 [1],
 *   `encoder_hidden_states` float32 [batch,77,D] → `out_sample` [batch,C,h,w]. Let s = Σ_tokens hidden ([batch,D]):
 *   x0 = s[0:C] (the target latent, in the scheduler's scaled latent space), lazy = s[C]. With σ(t) read from a
 *   sigma table inside the graph (linear interpolation between integer timesteps, exactly like diffusers' Euler
 *   `np.interp`), a = 1/√(σ²+1) = √ᾱ_t and b = σ·a = √(1-ᾱ_t), the UNet predicts
 *       ε = (1 − lazy) · (sample − a·x0) / b
 *   i.e. for lazy = 0 the exact noise of a sample that is `a·x0 + b·ε` (the VP-scaled input every SD UNet receives:
 *   Euler feeds x/√(σ²+1), DDIM/LCM feed x). A correct sampler therefore lands exactly on x0, whatever the noise.
 *   With lazy > 0 the prediction is only partly right and the result depends on the noise in a closed form
 *   (Euler one step: x0_pred = lazy·x + (1 − lazy)·x0).
 *   Options add: LCM's `timestep_cond` [batch,G] (the guidance embedding; the graph recovers w = (g−1)·1000 from its
 *   lowest-frequency sine and multiplies x0 by g); ControlNet residual inputs (`down_block_{0..11}_additional_residual`,
 *   `mid_block_additional_residual`, each [batch,C,h,w]; x0 += Σ wᵢ·resᵢ with wᵢ = (i+1)/Σ(j+1)²); the fused variant
 *   (`controlnet_cond` [batch,3,H,W] + `conditioning_scale`, or diffusers' `controlnet_conds` [1,batch,3,H,W] +
 *   `conditioning_scales` [1]) computing the same shift inside; the 9-channel inpainting input
 *   concat(latents, mask, masked_image_latents): x0 ← m·(x0 + β·mil) + (1 − m)·mil with β = 0.5, so the masked
 *   image must really be blanked (0 in [-1,1] pixel space) where the mask is.
 * - controlnet: `sample`, `timestep`, `encoder_hidden_states`, `controlnet_cond` float32 [batch,3,H,W] in [0,1],
 *   `conditioning_scale` (float64 [1] like Axodox's exports, or float32) → r = scale · Wc·avgpool₈(cond) and 13 outputs
 *   `down_block_{i}_additional_residual` = (i+1)·r, `mid_block_additional_residual` = 13·r. Wc = 0.5·M⁺, so a
 *   control pixel value k∈[0,1] shifts the decoded colour by +0.5·k (in [-1,1] units) at scale 1.
 * - vae_decoder: `latent_sample` [batch,C,h,w] → `sample` [batch,3,8h,8w]: 1×1 conv with sf·M then nearest ×8
 *   upsampling, so decode(latents / sf) = M·latents per latent cell (M is 3×C, below).
 * - vae_encoder: `sample` [batch,3,H,W] → `latent_sample` [batch,C,h,w]: 8×8 average pooling then 1×1 conv with
 *   M⁺/sf, so sf·encode(image) = M⁺·pixels, and decode(encode(x)) = x for images constant on 8×8 blocks.
 *
 * `ioDtype: 'float16'` makes every float input/output half precision (compute stays float32 inside, via Cast), like
 * the WebNN SD 1.5 exports; `timestepDtype` may be int64, float32 or float16.
 * Pure (onnx-proto only), so it can be bundled for browser tests and benchmarks too.
 */
import { parseManifest, type ModelManifest, type SchedulerConfig } from '../../ui/core/manifest';
import type { ModelRole } from '../../ui/core/session';
import { createGraphBuilder, ONNX_TYPE, type GraphDim, type GraphBuilder } from './graph-builder';
import { clipTokenizerEntries } from '../helpers/clip-tokenizer-files';

/** Latent → pixel mixing (3 × 4): decoded RGB in [-1,1] = M · latent (scaled latent space). Full row rank. */
export const PROOF_M: readonly (readonly number[])[] = [
  [0.6, 0.2, -0.1, 0.3],
  [-0.2, 0.5, 0.3, 0.2],
  [0.1, -0.3, 0.6, 0.25],
];
/** 9-channel UNet: weight of the masked-image latents inside the masked region (see header). */
export const PROOF_MASKED_IMAGE_WEIGHT = 0.5;
/** ControlNet: decoded-colour shift per unit of control pixel value at scale 1. */
export const PROOF_CONTROL_GAIN = 0.5;
export const RESIDUAL_NAMES: readonly string[] = [
  ...Array.from({ length: 12 }, (_, i) => `down_block_${i}_additional_residual`),
  'mid_block_additional_residual',
];

/** SD-Turbo's scheduler (stabilityai/sd-turbo scheduler_config.json). */
export const SD_TURBO_SCHEDULER: SchedulerConfig = {
  _class_name: 'EulerDiscreteScheduler',
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  prediction_type: 'epsilon',
  timestep_spacing: 'trailing',
  steps_offset: 1,
};

export interface ProofModelOptions {
  /** Manifest id (lowercase). Default 'proof-sd'. */
  readonly id?: string;
  /** Text-encoder vocabulary size (rows of the embedding table). Default 49408 (CLIP). */
  readonly vocabSize?: number;
  /** Hidden size D of `last_hidden_state` / `encoder_hidden_states`. Default 8; must be ≥ latentChannels + 1. */
  readonly hiddenSize?: number;
  /** Token id → D-vector (use `proofEmbedding`). Other rows are 0. */
  readonly tokenEmbeddings?: ReadonlyMap<number, readonly number[]>;
  /** Default 4 (M above is 3 × 4). */
  readonly latentChannels?: 4;
  readonly vaeScalingFactor?: number;
  /** `timestep` dtype; float16 as in WebNN/Axodox exports. Default int64. */
  readonly timestepDtype?: 'int64' | 'float32' | 'float16';
  /** Float I/O dtype of every graph (float16 like the WebNN SD 1.5 exports; compute stays float32 inside). */
  readonly ioDtype?: 'float32' | 'float16';
  readonly scheduler?: SchedulerConfig;
  /** Adds a VAE encoder (img2img, inpainting). Default true. */
  readonly vaeEncoder?: boolean;
  /** '9ch' builds the inpainting UNet. Default 'plain'. */
  readonly unet?: 'plain' | '9ch';
  /** ControlNet layout. 'fused-multi' uses diffusers' fused-script names (`controlnet_conds`, `conditioning_scales`). */
  readonly controlnet?: 'none' | 'separate' | 'fused' | 'fused-multi';
  readonly conditioningScaleDtype?: 'float64' | 'float32';
  /** Custom ControlNet output names (positional mapping onto the UNet's residual inputs). */
  readonly controlnetOutputNames?: readonly string[];
  /** LCM: adds `timestep_cond` [batch, dim] to the UNet. */
  readonly guidanceEmbeddingDim?: number;
  readonly padTokenId?: number;
  /** Manifest capabilities.inpaint override (default '9ch' for the 9-channel UNet, 'blend' with an encoder). */
  readonly inpaint?: 'none' | 'blend' | '9ch';
  /** Manifest sizes. */
  readonly maxSide?: number;
  readonly sizeMultiple?: number;
  /** Manifest defaults.steps (default 1). */
  readonly defaultSteps?: number;
  /** Optional manifest preview factors (C rows of [R,G,B]). */
  readonly latentRgbFactors?: readonly (readonly number[])[];
  /** Base of the dummy file URLs. Default 'https://proof.invalid/<id>'. */
  readonly urlBase?: string;
}

export interface ProofModel {
  readonly manifest: ModelManifest;
  /** ONNX bytes per component. */
  readonly models: Partial<Record<ModelRole, Uint8Array>>;
  readonly options: Required<Pick<ProofModelOptions, 'hiddenSize' | 'vaeScalingFactor' | 'timestepDtype' | 'scheduler' | 'ioDtype'>>;
}

// ---------- small linear algebra (float64) ----------

function inverse3(m: readonly (readonly number[])[]): number[][] {
  const a = (i: number, j: number): number => m[i]![j]!;
  const det = a(0, 0) * (a(1, 1) * a(2, 2) - a(1, 2) * a(2, 1)) - a(0, 1) * (a(1, 0) * a(2, 2) - a(1, 2) * a(2, 0))
    + a(0, 2) * (a(1, 0) * a(2, 1) - a(1, 1) * a(2, 0));
  // Adjugate / determinant: inv[i][j] = cofactor(j, i) / det.
  const cof = (i: number, j: number): number => {
    const r = [0, 1, 2].filter((x) => x !== i);
    const c = [0, 1, 2].filter((x) => x !== j);
    const minor = a(r[0]!, c[0]!) * a(r[1]!, c[1]!) - a(r[0]!, c[1]!) * a(r[1]!, c[0]!);
    return (i + j) % 2 === 0 ? minor : -minor;
  };
  return [0, 1, 2].map((i) => [0, 1, 2].map((j) => cof(j, i) / det));
}

/** M⁺ = Mᵀ (M Mᵀ)⁻¹ (4 × 3): the latent of least norm that decodes to a colour. */
export const PROOF_M_PINV: readonly (readonly number[])[] = (() => {
  const m = PROOF_M;
  const mmt = [0, 1, 2].map((i) => [0, 1, 2].map((j) => m[i]!.reduce((s, v, k) => s + v * m[j]![k]!, 0)));
  const inv = inverse3(mmt);
  return [0, 1, 2, 3].map((k) => [0, 1, 2].map((j) => [0, 1, 2].reduce((s, i) => s + m[i]![k]! * inv[i]![j]!, 0)));
})();

/** Decoded colour (RGB in [-1,1]) of one latent cell (scaled latent space). */
export function latentToRgb(latent: readonly number[]): [number, number, number] {
  return PROOF_M.map((row) => row.reduce((s, v, k) => s + v * latent[k]!, 0)) as [number, number, number];
}

/** The least-norm latent (scaled space) whose decoded colour is `rgb` (in [-1,1]). */
export function rgbToLatent(rgb: readonly number[]): number[] {
  return PROOF_M_PINV.map((row) => row.reduce((s, v, j) => s + v * rgb[j]!, 0));
}

/** 8-bit channel → [-1,1] model pixel value (c/127.5 − 1). */
export const byteToUnit = (c: number): number => c / 127.5 - 1;
/** [-1,1] → 8-bit, as the pipeline's tensor→image (x/2 + 0.5, clamp, round). */
export const unitToByte = (v: number): number => Math.round(Math.min(1, Math.max(0, v / 2 + 0.5)) * 255);

/**
 * A token's D-vector: its target colour (8-bit RGB; decoded through the model, the prompt's tokens add up in
 * [-1,1] space) and its `lazy` share (how much of the noise the UNet leaves in).
 */
export function proofEmbedding(opts: { rgb?: readonly [number, number, number]; lazy?: number; hiddenSize?: number }): number[] {
  const d = opts.hiddenSize ?? 8;
  const out = new Array<number>(d).fill(0);
  if (opts.rgb) rgbToLatent(opts.rgb.map(byteToUnit)).forEach((v, i) => (out[i] = v));
  out[4] = opts.lazy ?? 0;
  return out;
}

/** Training sigmas σ(t) = √((1−ᾱ_t)/ᾱ_t), computed here in float64 independently of ui/core/schedulers. */
export function proofSigmaTable(config: SchedulerConfig): Float64Array {
  const n = config.num_train_timesteps;
  const sigmas = new Float64Array(n);
  let prod = 1;
  for (let i = 0; i < n; i++) {
    const beta = config.beta_schedule === 'scaled_linear'
      ? (Math.sqrt(config.beta_start) + ((Math.sqrt(config.beta_end) - Math.sqrt(config.beta_start)) * i) / (n - 1)) ** 2
      : config.beta_start + ((config.beta_end - config.beta_start) * i) / (n - 1);
    prod *= 1 - beta;
    sigmas[i] = Math.sqrt((1 - prod) / prod);
  }
  return sigmas;
}

// ---------- graphs ----------

const LATENT: GraphDim[] = ['batch', 'channels', 'height', 'width'];
type FloatIo = 'float32' | 'float16';
type TimestepDType = 'int64' | 'float32' | 'float16';

/** Declares a float input of dtype `io`; returns a float32 value (Cast when float16). */
function inF(g: GraphBuilder, io: FloatIo, name: string, dims: readonly GraphDim[]): string {
  const x = g.input(name, io, dims);
  return io === 'float16' ? g.op('Cast', [x], { to: ONNX_TYPE.float32 }) : x;
}

/** Declares a float32 value as output `name` of dtype `io` (Cast when float16). */
function outF(g: GraphBuilder, io: FloatIo, value: string, name: string, dims: readonly GraphDim[]): void {
  g.output(io === 'float16' ? g.op('Cast', [value], { to: ONNX_TYPE.float16 }) : value, name, io, dims);
}

/** The `timestep` input as a value: int64 stays int64, float dtypes become float32. */
function timestepInput(g: GraphBuilder, dtype: TimestepDType): string {
  const t = g.input('timestep', dtype, [1]);
  return dtype === 'float16' ? g.op('Cast', [t], { to: ONNX_TYPE.float32 }) : t;
}

/** σ(t) [1] from the table, interpolated for float timesteps (as np.interp over integer timesteps). */
function sigmaOf(g: GraphBuilder, t: string, dtype: TimestepDType, table: Float64Array): string {
  const tab = g.floats([table.length], table, 'sigmas');
  const last = table.length - 1;
  if (dtype === 'int64') return g.op('Gather', [tab, t], { axis: 0 });
  const tf = g.op('Floor', [t]);
  const i0 = g.op('Min', [g.op('Max', [g.op('Cast', [tf], { to: ONNX_TYPE.int64 }), g.ints([0])]), g.ints([last])]);
  const i1 = g.op('Min', [g.op('Add', [i0, g.ints([1])]), g.ints([last])]);
  const s0 = g.op('Gather', [tab, i0], { axis: 0 });
  const s1 = g.op('Gather', [tab, i1], { axis: 0 });
  return g.op('Add', [s0, g.op('Mul', [g.op('Sub', [t, tf]), g.op('Sub', [s1, s0])])]);
}

function conv1x1(g: GraphBuilder, x: string, matrix: readonly (readonly number[])[], scale: number): string {
  const rows = matrix.length;
  const cols = matrix[0]!.length;
  const w = g.floats([rows, cols, 1, 1], matrix.flatMap((r) => r.map((v) => v * scale)), 'conv');
  return g.op('Conv', [x, w]);
}

function textEncoderGraph(o: { vocab: number; d: number; table: ReadonlyMap<number, readonly number[]>; io: FloatIo }): Uint8Array {
  const g = createGraphBuilder();
  const ids = g.input('input_ids', 'int32', ['batch', 'sequence']);
  const e = new Float32Array(o.vocab * o.d);
  for (const [id, vec] of o.table) {
    if (id < 0 || id >= o.vocab) throw new Error(`token id ${id} outside the vocabulary (${o.vocab})`);
    vec.forEach((v, k) => (e[id * o.d + k] = v));
  }
  const emb = g.floats([o.vocab, o.d], e, 'token_embedding');
  outF(g, o.io, g.op('Gather', [emb, ids], { axis: 0 }), 'last_hidden_state', ['batch', 'sequence', o.d]);
  return g.toBytes('proof_text_encoder');
}

/** Control shift r = scale · Wc·avgpool₈(cond), [batch,C,h,w]. */
function controlShift(g: GraphBuilder, cond: string, scale: string, scaleDtype: 'float64' | 'float32'): string {
  const pooled = g.op('AveragePool', [cond], { kernel_shape: [8, 8], strides: [8, 8] });
  const r = conv1x1(g, pooled, PROOF_M_PINV, PROOF_CONTROL_GAIN);
  const s = scaleDtype === 'float64' ? g.op('Cast', [scale], { to: ONNX_TYPE.float32 }) : scale;
  return g.op('Mul', [r, s]);
}

function unetGraph(o: {
  d: number; c: number; ts: TimestepDType; io: FloatIo; table: Float64Array; nineCh: boolean;
  control: 'none' | 'separate' | 'fused' | 'fused-multi'; scaleDtype: 'float64' | 'float32'; guidanceDim?: number;
}): Uint8Array {
  const g = createGraphBuilder();
  const { c } = o;
  const sample = inF(g, o.io, 'sample', ['batch', o.nineCh ? 2 * c + 1 : c, 'height', 'width']);
  const t = timestepInput(g, o.ts);
  const ehs = inF(g, o.io, 'encoder_hidden_states', ['batch', 'sequence', o.d]);
  const s = g.op('ReduceSum', [ehs, g.ints([1])], { keepdims: 0 });
  const slice = (x: string, from: number, to: number, axis: number) => g.op('Slice', [x, g.ints([from]), g.ints([to]), g.ints([axis])]);
  let x0 = g.op('Unsqueeze', [slice(s, 0, c, 1), g.ints([2, 3])]);
  const lazy = g.op('Unsqueeze', [slice(s, c, c + 1, 1), g.ints([2, 3])]);
  if (o.guidanceDim) {
    const tc = inF(g, o.io, 'timestep_cond', ['batch', o.guidanceDim]);
    // sin(w·1e-4) sits at index half−1 (diffusers get_guidance_scale_embedding); g = 1 + w/1000 = 1 + 10·asin(·).
    const half = o.guidanceDim / 2;
    const w = g.op('Asin', [slice(tc, half - 1, half, 1)]);
    const gain = g.op('Add', [g.scalar(1), g.op('Mul', [w, g.scalar(10)])]);
    x0 = g.op('Mul', [x0, g.op('Unsqueeze', [gain, g.ints([2, 3])])]);
  }
  if (o.control === 'separate') {
    const total = RESIDUAL_NAMES.reduce((acc, _, i) => acc + (i + 1) ** 2, 0);
    let sum = '';
    RESIDUAL_NAMES.forEach((name, i) => {
      const r = g.op('Mul', [inF(g, o.io, name, LATENT), g.scalar((i + 1) / total)]);
      sum = sum ? g.op('Add', [sum, r]) : r;
    });
    x0 = g.op('Add', [x0, sum]);
  } else if (o.control === 'fused') {
    const cond = inF(g, o.io, 'controlnet_cond', ['batch', 3, 'image_height', 'image_width']);
    const scale = g.input('conditioning_scale', o.scaleDtype, [1]);
    x0 = g.op('Add', [x0, controlShift(g, cond, scale, o.scaleDtype)]);
  } else if (o.control === 'fused-multi') {
    const conds = inF(g, o.io, 'controlnet_conds', [1, 'batch', 3, 'image_height', 'image_width']);
    const scales = g.input('conditioning_scales', o.scaleDtype, [1]);
    const cond = g.op('Squeeze', [conds, g.ints([0])]);
    x0 = g.op('Add', [x0, controlShift(g, cond, scales, o.scaleDtype)]);
  }
  let xIn = sample;
  if (o.nineCh) {
    xIn = slice(sample, 0, c, 1);
    const m = slice(sample, c, c + 1, 1);
    const mil = slice(sample, c + 1, 2 * c + 1, 1);
    const inside = g.op('Mul', [m, g.op('Add', [x0, g.op('Mul', [mil, g.scalar(PROOF_MASKED_IMAGE_WEIGHT)])])]);
    const outside = g.op('Mul', [g.op('Sub', [g.scalar(1), m]), mil]);
    x0 = g.op('Add', [inside, outside]);
  }
  const sigma = sigmaOf(g, t, o.ts, o.table);
  const a = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [g.op('Mul', [sigma, sigma]), g.scalar(1)])])]);
  const b = g.op('Mul', [sigma, a]);
  const eps = g.op('Div', [g.op('Sub', [xIn, g.op('Mul', [a, x0])]), b]);
  outF(g, o.io, g.op('Mul', [eps, g.op('Sub', [g.scalar(1), lazy])]), 'out_sample', LATENT);
  return g.toBytes('proof_unet');
}

function controlnetGraph(o: { d: number; c: number; ts: TimestepDType; io: FloatIo; scaleDtype: 'float64' | 'float32'; names: readonly string[] }): Uint8Array {
  const g = createGraphBuilder();
  g.input('sample', o.io, LATENT);
  g.input('timestep', o.ts, [1]);
  g.input('encoder_hidden_states', o.io, ['batch', 'sequence', o.d]);
  const cond = inF(g, o.io, 'controlnet_cond', ['batch', 3, 'image_height', 'image_width']);
  const scale = g.input('conditioning_scale', o.scaleDtype, [1]);
  const r = controlShift(g, cond, scale, o.scaleDtype);
  o.names.forEach((name, i) => outF(g, o.io, g.op('Mul', [r, g.scalar(i + 1)]), name, LATENT));
  return g.toBytes('proof_controlnet');
}

function vaeDecoderGraph(sf: number, io: FloatIo): Uint8Array {
  const g = createGraphBuilder();
  const z = inF(g, io, 'latent_sample', ['batch', 'channels', 'height', 'width']);
  const rgb = conv1x1(g, z, PROOF_M, sf);
  const up = g.op('Resize', [rgb, '', g.floats([4], [1, 1, 8, 8], 'scales')], {
    mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor',
  });
  outF(g, io, up, 'sample', ['batch', 3, 'image_height', 'image_width']);
  return g.toBytes('proof_vae_decoder');
}

function vaeEncoderGraph(sf: number, io: FloatIo): Uint8Array {
  const g = createGraphBuilder();
  const x = inF(g, io, 'sample', ['batch', 3, 'image_height', 'image_width']);
  const pooled = g.op('AveragePool', [x], { kernel_shape: [8, 8], strides: [8, 8] });
  outF(g, io, conv1x1(g, pooled, PROOF_M_PINV, 1 / sf), 'latent_sample', ['batch', 'channels', 'height', 'width']);
  return g.toBytes('proof_vae_encoder');
}

// ---------- manifest ----------

type Io = { name: string; dtype: 'float32' | 'float16' | 'float64' | 'int32' | 'int64'; dims: (number | string)[] };
const io = (name: string, dtype: Io['dtype'], dims: (number | string)[]): Io => ({ name, dtype, dims });

/** Builds the proof models and a manifest that passes parseManifest (dummy https URLs, real byte counts). */
export function createProofModel(opts: ProofModelOptions = {}): ProofModel {
  const id = opts.id ?? 'proof-sd';
  const d = opts.hiddenSize ?? 8;
  const c = opts.latentChannels ?? 4;
  const sf = opts.vaeScalingFactor ?? 0.18215;
  const ts = opts.timestepDtype ?? 'int64';
  const f = opts.ioDtype ?? 'float32';
  const scheduler = opts.scheduler ?? SD_TURBO_SCHEDULER;
  const control = opts.controlnet ?? 'none';
  const scaleDtype = opts.conditioningScaleDtype ?? 'float64';
  const hasEncoder = opts.vaeEncoder ?? true;
  const nineCh = opts.unet === '9ch';
  if (d < c + 1) throw new Error(`hiddenSize must be ≥ ${c + 1}`);
  const table = proofSigmaTable(scheduler);
  const cnNames = opts.controlnetOutputNames ?? RESIDUAL_NAMES;

  const models: Partial<Record<ModelRole, Uint8Array>> = {
    text_encoder: textEncoderGraph({ vocab: opts.vocabSize ?? 49408, d, table: opts.tokenEmbeddings ?? new Map(), io: f }),
    unet: unetGraph({ d, c, ts, io: f, table, nineCh, control, scaleDtype, ...(opts.guidanceEmbeddingDim ? { guidanceDim: opts.guidanceEmbeddingDim } : {}) }),
    vae_decoder: vaeDecoderGraph(sf, f),
  };
  if (hasEncoder) models.vae_encoder = vaeEncoderGraph(sf, f);
  if (control === 'separate') models.controlnet = controlnetGraph({ d, c, ts, io: f, scaleDtype, names: cnNames });

  const latentIo = (name: string, ch: number | string = c) => io(name, f, ['batch', ch, 'height', 'width']);
  const unetInputs: Io[] = [latentIo('sample', nineCh ? 2 * c + 1 : c), io('timestep', ts, [1]), io('encoder_hidden_states', f, ['batch', 'sequence', d])];
  if (opts.guidanceEmbeddingDim) unetInputs.push(io('timestep_cond', f, ['batch', opts.guidanceEmbeddingDim]));
  if (control === 'separate') for (const n of RESIDUAL_NAMES) unetInputs.push(latentIo(n));
  if (control === 'fused') unetInputs.push(io('controlnet_cond', f, ['batch', 3, 'image_height', 'image_width']), io('conditioning_scale', scaleDtype, [1]));
  if (control === 'fused-multi') unetInputs.push(io('controlnet_conds', f, [1, 'batch', 3, 'image_height', 'image_width']), io('conditioning_scales', scaleDtype, [1]));

  const specs: Partial<Record<ModelRole, { inputs: Io[]; outputs: Io[] }>> = {
    text_encoder: { inputs: [io('input_ids', 'int32', ['batch', 'sequence'])], outputs: [io('last_hidden_state', f, ['batch', 'sequence', d])] },
    unet: { inputs: unetInputs, outputs: [latentIo('out_sample')] },
    vae_decoder: { inputs: [latentIo('latent_sample')], outputs: [io('sample', f, ['batch', 3, 'image_height', 'image_width'])] },
  };
  if (hasEncoder) specs.vae_encoder = { inputs: [io('sample', f, ['batch', 3, 'image_height', 'image_width'])], outputs: [latentIo('latent_sample')] };
  if (control === 'separate') {
    specs.controlnet = {
      inputs: [latentIo('sample'), io('timestep', ts, [1]), io('encoder_hidden_states', f, ['batch', 'sequence', d]),
        io('controlnet_cond', f, ['batch', 3, 'image_height', 'image_width']), io('conditioning_scale', scaleDtype, [1])],
      outputs: cnNames.map((n) => latentIo(n)),
    };
  }
  const urlBase = opts.urlBase ?? `https://proof.invalid/${id}`;
  const components: Record<string, unknown> = {};
  for (const [role, spec] of Object.entries(specs)) {
    const bytes = models[role as ModelRole]!;
    components[role] = {
      files: [{ path: `${role}/model.onnx`, url: `${urlBase}/${role}/model.onnx`, bytes: bytes.length }],
      model: `${role}/model.onnx`,
      inputs: spec!.inputs,
      outputs: spec!.outputs,
    };
  }
  const raw: Record<string, unknown> = {
    id,
    name: `Proof model ${id}`,
    description: 'Analytic test model with the real SD I/O names (test/models/proof-model.ts).',
    source: 'generated',
    licence: { name: 'MIT', commercial_use: true, url: 'https://proof.invalid/licence' },
    dtype: f,
    capabilities: {
      txt2img: true,
      img2img: hasEncoder,
      inpaint: opts.inpaint ?? (nineCh ? '9ch' : hasEncoder ? 'blend' : 'none'),
      controlnet: control === 'none' ? 'none' : 'scribble',
      ...(control.startsWith('fused') ? { controlnet_fused: true } : {}),
    },
    tokenizer: { ...clipTokenizerEntries(`${urlBase}/tokenizer`), pad_token_id: opts.padTokenId ?? 49407, max_length: 77 },
    vae_scaling_factor: sf,
    latent_channels: c,
    vae_scale: 8,
    ...(opts.guidanceEmbeddingDim ? { guidance_embedding_dim: opts.guidanceEmbeddingDim } : {}),
    ...(opts.latentRgbFactors ? { latent_rgb_factors: opts.latentRgbFactors.map((r) => [...r]) } : {}),
    sizes: { default_width: 64, default_height: 64, max_side: opts.maxSide ?? 512, multiple: opts.sizeMultiple ?? 8 },
    defaults: { steps: opts.defaultSteps ?? 1, guidance_scale: 0, strength: 0.5, ...(control !== 'none' ? { control_scale: 1 } : {}) },
    scheduler,
    components,
  };
  return { manifest: parseManifest(raw), models, options: { hiddenSize: d, vaeScalingFactor: sf, timestepDtype: ts, scheduler, ioDtype: f } };
}

/**
 * The proof model's manifest as JSON (snake_case, what models/*.json hold), with file URLs and sha256 of your
 * choice, e.g. to serve the models from a test server and exercise download + integrity checks:
 * `proofManifestJson(pm, { url: (role) => `${base}/${role}.onnx`, sha256: (bytes) => sha256Hex(bytes) })`.
 */
export function proofManifestJson(
  pm: ProofModel,
  opts: { url?: (role: ModelRole, path: string) => string; sha256?: (bytes: Uint8Array) => string } = {},
): Record<string, unknown> {
  const raw = structuredClone(pm.manifest.raw) as unknown as { components: Record<string, { files: { path: string; url: string; sha256?: string }[] }> };
  for (const [role, comp] of Object.entries(raw.components)) {
    const bytes = pm.models[role as ModelRole]!;
    for (const file of comp.files) {
      if (opts.url) file.url = opts.url(role as ModelRole, file.path);
      if (opts.sha256) file.sha256 = opts.sha256(bytes);
    }
  }
  return raw as unknown as Record<string, unknown>;
}
