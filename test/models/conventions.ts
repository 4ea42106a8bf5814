/**
 * The export-convention matrix: the same analytic proof model (test/models/proof-model.ts) saved in each convention
 * seen in the wild, so a test can run each through the real runtime and compare the image with the reference
 * convention's. Each convention names the public export it imitates and what differs. The manifest given to the
 * runtime always declares the STANDARD names (what a user copying a built-in manifest would write), with only the
 * family facts (capabilities, dtype, scale) set: the runtime must discover the real names, dtypes and ranks itself.
 *
 * Also the "odd user-added exports": conventions not in the catalogue, which must either run or stop with a message
 * naming the model's real I/O.
 */
import type { ModelRole } from '../../ui/core/session';
import type { ModelFiles, ConventionMode } from './convention-run';
import { rewriteOnnx, type Rewrite } from './onnx-rewrite';
import { createColourProofModel } from './proof-fixture';
import { RESIDUAL_NAMES, SD_TURBO_SCHEDULER, type ProofModelOptions } from './proof-model';
import { LCM } from './pipeline-test-kit';

export interface Convention {
  readonly name: string;
  /** The public export this imitates and what is different about it. */
  readonly imitates: string;
  readonly mode: ConventionMode;
  /** Options shared with the reference (the model family: LCM, 9-channel, ControlNet…). */
  readonly family: ProofModelOptions;
  /** Options of this convention (dtypes, scale). */
  readonly variant: ProofModelOptions;
  readonly rewrites?: Partial<Record<ModelRole, Rewrite>>;
  /** Float I/O is float32 throughout: runs on WebGPU without shader-f16 (SwiftShader). */
  readonly gpu: boolean;
  readonly steps?: number;
  readonly guidance?: number;
  /** Edits the (standard-names) manifest, e.g. a wrong capability a user might declare. */
  readonly patchManifest?: (raw: Record<string, any>) => void;
  /** When set, the convention must stop with MODEL_MISMATCH whose message matches this. */
  readonly refusal?: RegExp;
  readonly size?: number;
}

const residualDims = (role: 'unet' | 'controlnet'): Record<string, (number | string)[]> =>
  Object.fromEntries(RESIDUAL_NAMES.map((n, i) => [n, ['batch', `${role === 'unet' ? 'res' : 'cn'}${i}_channels`, `${role === 'unet' ? 'res' : 'cn'}${i}_height`, `${role === 'unet' ? 'res' : 'cn'}${i}_width`]]));

export const CONVENTIONS: readonly Convention[] = [
  {
    name: 'schmuell (fp32 I/O, int64 timestep [1], int32 input_ids)',
    imitates: 'schmuell/sd-turbo-ort-web @ ace89b7d, Microsoft\'s SD-Turbo WebGPU sample',
    mode: 'generate', family: {}, variant: {}, gpu: true,
  },
  {
    name: 'aislamov (float32 timestep, timestep_cond [1,256], external data model.onnx_data)',
    imitates: 'aislamov/lcm-dreamshaper-v7-onnx (diffusers.js): LCM UNet and VAE decoder with weights in model.onnx_data',
    mode: 'generate', family: { guidanceEmbeddingDim: 256, scheduler: LCM }, variant: { timestepDtype: 'float32' }, gpu: true,
    steps: 2, guidance: 8,
    rewrites: { unet: { externalData: 'model.onnx_data' }, vae_decoder: { externalData: 'model.onnx_data' } },
  },
  {
    name: 'RanaLLC (all-float16 I/O incl. timestep, 9-channel sample)',
    imitates: 'RanaLLC/stable-diffusion-v1-5-inpainting-onnx-fp16',
    mode: 'inpaint', family: { unet: '9ch' }, variant: { ioDtype: 'float16', timestepDtype: 'float16' }, gpu: false, steps: 2,
  },
  {
    name: 'axodox/Olive (float16 I/O, float64 conditioning_scale [1], extra text-encoder outputs)',
    imitates: 'axodoxian/stable_diffusion_onnx + controlnet_onnx (Olive DirectML): pooler_output and hidden_states.11 besides last_hidden_state',
    mode: 'controlnet', family: { controlnet: 'separate' },
    variant: { ioDtype: 'float16', timestepDtype: 'float16', conditioningScaleDtype: 'float64' }, gpu: false, steps: 2,
    rewrites: {
      text_encoder: { extraOutputs: [
        { name: 'pooler_output', of: 'last_hidden_state', op: 'MeanOverTokens', elem: 'float16', dims: ['batch', 8] },
        { name: 'hidden_states.11', of: 'last_hidden_state', op: 'Identity', elem: 'float16', dims: ['batch', 'sequence', 8] },
      ] },
      unet: { dims: residualDims('unet') },
      controlnet: { dims: residualDims('controlnet') },
    },
  },
  {
    name: 'diffusers convert script / nmkd (float16 timestep, external data weights.pb)',
    imitates: 'nmkd/stable-diffusion-1.5-onnx-fp16 @ 38dacf2c, diffusers scripts/convert_stable_diffusion_checkpoint_to_onnx.py --fp16',
    mode: 'generate', family: {}, variant: { ioDtype: 'float16', timestepDtype: 'float16' }, gpu: false, steps: 2,
    rewrites: {
      text_encoder: { extraOutputs: [{ name: 'pooler_output', of: 'last_hidden_state', op: 'MeanOverTokens', elem: 'float16', dims: ['batch', 8] }] },
      unet: { externalData: 'weights.pb' },
    },
  },
  {
    name: 'SDXS (int64 input_ids, float32 timestep, decoder latent→image, VAE scale 1)',
    imitates: 'skillsafeai/sdxs-512-dreamshaper-onnx-webgpu @ b23bf8f4',
    mode: 'generate', family: {}, variant: { timestepDtype: 'float32', vaeScalingFactor: 1 }, gpu: true,
    rewrites: {
      text_encoder: { inputType: { input_ids: 'int64' } },
      vae_decoder: { rename: { latent_sample: 'latent', sample: 'image' } },
    },
  },
  {
    name: 'TAESD (index-only I/O names, latent scale 1)',
    imitates: 'julienkay/taesd @ c8a437fd vae_decoder/model.onnx (consumers bind by index)',
    mode: 'generate', family: {}, variant: { vaeScalingFactor: 1 }, gpu: true,
    rewrites: { vae_decoder: { rename: { latent_sample: 'input.1', sample: '/decoder/Clip_output_0' } } },
  },
];

/** Exports a user might add by URL that are in no catalogue entry: each runs, or stops naming its real I/O. */
export const ODD_EXPORTS: readonly Convention[] = [
  {
    name: 'numeric ControlNet output names and down_block_additional_residual_N UNet inputs (jdp8/diffusers.js style)',
    imitates: 'jdp8/stable-diffusion-1-5-canny-base-onnx (numeric ControlNet outputs mapped by hand in diffusers.js)',
    mode: 'controlnet', family: { controlnet: 'separate' }, variant: {}, gpu: true, steps: 2,
    rewrites: {
      controlnet: { rename: Object.fromEntries(RESIDUAL_NAMES.map((n, i) => [n, String(2301 + 2 * i)])) },
      unet: { rename: Object.fromEntries(RESIDUAL_NAMES.map((n, i) => [n, i < 12 ? `down_block_additional_residual_${i}` : 'mid_block_res_sample'])) },
    },
  },
  {
    name: 'a float32 ControlNet whose conditioning_scale is float64 [1] (no float64 kernel in the WebGPU build)',
    imitates: 'an Axodox/OnnxStack-style ControlNet exported with float32 I/O (OnnxStack feeds DenseTensor<double>({v},{1}))',
    mode: 'controlnet', family: { controlnet: 'separate' }, variant: { conditioningScaleDtype: 'float64' }, gpu: true, steps: 2,
  },
  {
    name: 'renamed UNet I/O (latents, t, context → noise_pred) with a scalar int32 timestep',
    imitates: 'hand-rolled torch.onnx.export with positional argument names',
    mode: 'generate', family: {}, variant: {}, gpu: true,
    rewrites: { unet: { rename: { sample: 'latents', timestep: 't', encoder_hidden_states: 'context', out_sample: 'noise_pred' }, inputType: { t: 'int32' }, dims: { t: [] } } },
  },
  {
    name: 'an SDXL-style UNet that also needs text_embeds (an input nothing can feed)',
    imitates: 'an SDXL export added to an SD 1.5 manifest',
    mode: 'generate', family: {}, variant: {}, gpu: true,
    rewrites: { unet: { extraInputs: [{ name: 'text_embeds', elem: 'float32', dims: ['batch', 1280] }, { name: 'time_ids', elem: 'float32', dims: ['batch', 6] }] } },
    refusal: /unet of .* cannot be used: it needs inputs the app cannot feed: "text_embeds" float32 \[batch,1280\], "time_ids" float32 \[batch,6\]\. The model's inputs "sample" float32 \[batch,4,height,width\], "timestep" int64 \[1\], "encoder_hidden_states" float32 \[batch,sequence,8\], "text_embeds"/,
  },
  {
    name: 'a static 64×64 UNet (fixed latent dims) asked for 128×128',
    imitates: 'a fixed-shape export (e.g. WebNN/CoreML-style static graphs)',
    mode: 'generate', family: {}, variant: {}, gpu: true, size: 128,
    rewrites: { unet: { dims: { sample: [1, 4, 8, 8], out_sample: [1, 4, 8, 8] } } },
    refusal: /unet of .* cannot take "sample": the model takes \[1,4,8,8\], the app feeds \[1,4,16,16\]\. The model's inputs "sample" float32 \[1,4,8,8\]/,
  },
  {
    name: 'a 9-channel inpainting UNet declared as a txt2img model',
    imitates: 'RanaLLC inpainting files under a manifest copied from a txt2img entry',
    mode: 'generate', family: { unet: '9ch' }, variant: {}, gpu: true,
    patchManifest: (raw) => { raw.capabilities.inpaint = 'blend'; raw.components.unet.inputs[0].dims = ['batch', 4, 'height', 'width']; },
    refusal: /unet of .* cannot be used: it takes 9-channel samples \(an inpainting UNet\), but the manifest declares a 4-channel model; declare capabilities\.inpaint "9ch"/,
  },
];

export interface BuiltSet {
  readonly manifestJson: Record<string, any>;
  readonly files: Partial<Record<ModelRole, ModelFiles>>;
}

/** The reference convention's model set for this family (standard names, float32 I/O, int64 timestep, one file each). */
export function buildReference(c: Convention): BuiltSet {
  const pm = createColourProofModel({ id: 'reference', scheduler: SD_TURBO_SCHEDULER, ...c.family, conditioningScaleDtype: 'float32' });
  const raw = structuredClone(pm.manifest.raw) as Record<string, any>;
  const files: BuiltSet['files'] = {};
  for (const [role, bytes] of Object.entries(pm.models)) if (bytes) files[role as ModelRole] = { model: bytes };
  return { manifestJson: raw, files };
}

/** The convention's model set: the same model in its dtypes, re-saved with its names / dims / external data. */
export function buildConvention(c: Convention): BuiltSet {
  const pm = createColourProofModel({ id: 'convention', scheduler: SD_TURBO_SCHEDULER, ...c.family, ...c.variant });
  const raw = structuredClone(pm.manifest.raw) as Record<string, any>;
  const files: BuiltSet['files'] = {};
  for (const [role, bytes] of Object.entries(pm.models)) {
    if (!bytes) continue;
    const r = c.rewrites?.[role as ModelRole];
    if (!r) { files[role as ModelRole] = { model: bytes }; continue; }
    const out = rewriteOnnx(bytes, r);
    files[role as ModelRole] = out.external ? { model: out.model, externalData: [{ path: r.externalData!, data: out.external }] } : { model: out.model };
  }
  c.patchManifest?.(raw);
  return { manifestJson: raw, files };
}
