/**
 * Model manifests (models/*.json, snake_case, data only) → validated camelCase types.
 * Every constant a pipeline needs (VAE scaling, latent channels, timestep dtype, pad id, scheduler config, I/O names)
 * comes from here, never from code. Errors carry a path: `At components.unet.files.0.sha256: …`.
 */
import * as v from '../../protocol/validate';
import { AppError } from '../../protocol/errors';
import type { ModelRole } from './session';
import { slotOf } from './io-slots';

const dtype = v.oneOf(['float32', 'float16', 'float64', 'int32', 'int64'] as const);
const sha256 = v.string({ pattern: /^[0-9a-f]{64}$/, patternName: '64 lowercase hex characters' });
const url = v.string({ pattern: /^(https?:\/\/|\.{0,2}\/)[^\s]+$/, patternName: 'an http(s) URL' });

/**
 * A file a model needs (weights, external data, tokenizer). Verification policy (ui/runtime/downloader.ts): with
 * `sha256` the stored bytes must hash to it; without one the downloader checks the host's advertised hash when the
 * response shows it (Hugging Face's LFS ETag / X-Linked-Etag is the file's sha256), else records the sha256 of the
 * first complete download (trust on first use) and refuses a later, different file. `bytes` is exact.
 */
const tokenizerFile = v.object({
  /** Name the file has in the model's repo / a picked folder, e.g. "tokenizer/vocab.json". */
  path: v.string({ minLength: 1, maxLength: 300, pattern: /^[\w.\-/]+$/, patternName: 'a relative file path' }),
  url,
  bytes: v.number({ integer: true, min: 1 }),
  sha256: v.optional(sha256),
}, { strict: true });

const file = v.object({
  /** Name inside the store, e.g. "unet/model.onnx". External-data files are listed as their own entries. */
  path: v.string({ minLength: 1, maxLength: 300, pattern: /^[\w.\-/]+$/, patternName: 'a relative file path' }),
  url,
  /** Exact size. Absent only where no public source gives it: the first complete download's size is then pinned. */
  bytes: v.optional(v.number({ integer: true, min: 1 })),
  /** A hub listing's rounded size ("1.64 GB"), shown before download when `bytes` is unknown; never used to verify. */
  approx_bytes: v.optional(v.number({ integer: true, min: 1 })),
  sha256: v.optional(sha256),
  /** Set on external-data files: the name the .onnx refers to them by. */
  external_data_for: v.optional(v.string({ maxLength: 300 })),
}, { strict: true });

const io = v.object({
  name: v.string({ minLength: 1, maxLength: 200 }),
  dtype,
  /** Dims; strings are symbolic (free) dimensions. */
  dims: v.array(v.refine(v.plainData(), (d) => (typeof d === 'number' || typeof d === 'string' ? null : 'expected a number or a name'))),
}, { strict: true });

const component = v.object({
  files: v.array(file, { minLength: 1 }),
  /** The file that is the ONNX graph (others are external data). */
  model: v.string({ minLength: 1 }),
  /**
   * What the manifest expects the model's I/O to be: the names the pipelines use, and the fallback when the runtime
   * cannot read the model's own metadata. The runtime binds them to the model's real I/O (ui/runtime/io-binding.ts).
   * Optional: omitted lists get the diffusers ONNX export's names for the role (defaultIo).
   */
  inputs: v.optional(v.array(io, { minLength: 1 })),
  outputs: v.optional(v.array(io, { minLength: 1 })),
  free_dimension_overrides: v.optional(v.record(v.number({ integer: true, min: 1 }))),
  /**
   * Not part of the install: downloaded when a task first needs it (the VAE encoder on first Edit/Inpaint). If it
   * cannot be downloaded (e.g. 404), the capabilities that need it are disabled with a message, the model still runs.
   */
  optional: v.optional(v.boolean()),
}, { strict: true });

/** Where each fact in a manifest comes from, so the next person can re-check it (models/README.md). */
const evidence = v.object({
  /** Upstream repo and pinned commit, e.g. "schmuell/sd-turbo-ort-web@ace89b7d…", or why none is pinned. */
  revision: v.string({ minLength: 1, maxLength: 300 }),
  /** Public sources, each with what it shows. */
  sources: v.array(v.string({ minLength: 1, maxLength: 600 }), { minLength: 1, maxLength: 20 }),
  /** What was checked against those sources (names, dtypes, sizes, hashes…). */
  checked: v.string({ minLength: 1, maxLength: 1500 }),
  /** What is still unknown or risky. */
  unverified: v.optional(v.array(v.string({ minLength: 1, maxLength: 600 }), { maxLength: 20 })),
}, { strict: true });

const scheduler = v.object({
  _class_name: v.oneOf(['EulerDiscreteScheduler', 'EulerAncestralDiscreteScheduler', 'DDIMScheduler', 'LCMScheduler'] as const),
  num_train_timesteps: v.number({ integer: true, min: 1 }),
  beta_start: v.number({ min: 0, max: 1 }),
  beta_end: v.number({ min: 0, max: 1 }),
  beta_schedule: v.oneOf(['linear', 'scaled_linear'] as const),
  prediction_type: v.oneOf(['epsilon', 'v_prediction'] as const),
  timestep_spacing: v.oneOf(['linspace', 'leading', 'trailing'] as const),
  steps_offset: v.optional(v.number({ integer: true, min: 0 })),
  use_karras_sigmas: v.optional(v.boolean()),
  clip_sample: v.optional(v.boolean()),
  set_alpha_to_one: v.optional(v.boolean()),
  original_inference_steps: v.optional(v.number({ integer: true, min: 1 })),
  timestep_scaling: v.optional(v.number({ min: 0 })),
});

const components = v.object({
  text_encoder: component,
  unet: component,
  vae_decoder: component,
  vae_encoder: v.optional(component),
  controlnet: v.optional(component),
  preview_decoder: v.optional(component),
}, { strict: true });

/** Longest model id (ids name store folders and travel in every recipe). */
export const MAX_ID_LENGTH = 100;
const fixedSide = v.number({ integer: true, min: 64, max: 4096 });

export const manifestValidator = v.object({
  id: v.string({ maxLength: MAX_ID_LENGTH, pattern: /^[a-z0-9][a-z0-9\-_.]*$/, patternName: 'a lowercase id' }),
  name: v.string({ minLength: 1, maxLength: 120 }),
  description: v.string({ maxLength: 1000 }),
  /** Upstream repo, e.g. "schmuell/sd-turbo-ort-web". */
  source: v.string({ maxLength: 300 }),
  licence: v.object({ name: v.string({ minLength: 1 }), commercial_use: v.boolean(), url }, { strict: true }),
  /** Weight dtype: float16 models need WebGPU `shader-f16` (or wasm). */
  dtype: v.oneOf(['float32', 'float16'] as const),
  capabilities: v.object({
    txt2img: v.boolean(),
    img2img: v.boolean(),
    /** 'blend' = any 4-channel UNet with latent blending; '9ch' = an inpainting UNet. */
    inpaint: v.oneOf(['none', 'blend', '9ch'] as const),
    /** ControlNet kind when `components.controlnet` is present or the UNet is fused with one. */
    controlnet: v.oneOf(['none', 'scribble', 'lineart', 'canny', 'mlsd'] as const),
    controlnet_fused: v.optional(v.boolean()),
  }, { strict: true }),
  /** The CLIP BPE files, verified like weights (ui/runtime/engine.ts downloads them through the same path). */
  tokenizer: v.object({
    vocab: tokenizerFile,
    merges: tokenizerFile,
    pad_token_id: v.number({ integer: true, min: 0 }),
    max_length: v.number({ integer: true, min: 2, max: 1024 }),
  }, { strict: true }),
  vae_scaling_factor: v.number({ min: 0, max: 10 }),
  latent_channels: v.number({ integer: true, min: 1, max: 64 }),
  /** VAE downsampling factor (8 for SD). */
  vae_scale: v.number({ integer: true, min: 1, max: 64 }),
  /**
   * What the VAE encoder graph returns (see ui/core/pipelines/common.ts encodePixelsAsync):
   * 'mean_logvar' — the posterior's parameters [1,2C,h,w] (optimum's `latent_parameters`); the pipelines sample it from
   *   the seed's generator in diffusers' draw order, so img2img / inpaint match diffusers exactly;
   * 'mean' — the posterior mean (deterministic encode; close to diffusers, not exact);
   * 'sample' — a sample drawn inside the graph (diffusers' old ONNX export; not reproducible from the seed).
   * Absent: 'mean_logvar' when the output has 2C channels, else 'sample'.
   */
  vae_encoder_output: v.optional(v.oneOf(['sample', 'mean', 'mean_logvar'] as const)),
  /** UNet time-conditioning: LCM models take a guidance embedding; this records the dim when present. */
  guidance_embedding_dim: v.optional(v.number({ integer: true, min: 1 })),
  /** Cheap live preview: latent → RGB linear map, one [R, G, B] row per latent channel (pipelines' default: SD 1.x/2.x). */
  latent_rgb_factors: v.optional(v.array(v.array(v.number({ min: -10, max: 10 }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 64 })),
  sizes: v.object({
    // Limits = what the plugin protocol accepts (protocol/messages.ts workingSizeRequest), so a manifest that passes
    // here never produces a request the plugin refuses.
    default_width: v.number({ integer: true, min: 64, max: 4096 }),
    default_height: v.number({ integer: true, min: 64, max: 4096 }),
    max_side: v.number({ integer: true, min: 64, max: 4096 }),
    multiple: v.number({ integer: true, min: 8, max: 256 }),
    /** When set, the model only runs at these sizes (static-shape exports). */
    fixed: v.optional(v.array(v.object({ width: fixedSide, height: fixedSide }, { strict: true }), { minLength: 1, maxLength: 32 })),
  }, { strict: true }),
  defaults: v.object({
    steps: v.number({ integer: true, min: 1, max: 150 }),
    guidance_scale: v.number({ min: 0, max: 50 }),
    strength: v.number({ min: 0, max: 1 }),
    control_scale: v.optional(v.number({ min: 0, max: 4 })),
  }, { strict: true }),
  scheduler,
  components,
  evidence: v.optional(evidence),
}, { strict: true });

export type RawManifest = v.Infer<typeof manifestValidator>;
type RawComponent = RawManifest['components']['unet'];
export type IoSpec = NonNullable<RawComponent['inputs']>[number];
/** A component with its I/O expectations filled in (from the manifest, else defaultIo). */
export type ComponentSpec = Omit<RawComponent, 'inputs' | 'outputs'> & { readonly inputs: IoSpec[]; readonly outputs: IoSpec[] };
export type FileSpec = RawComponent['files'][number];
export type SchedulerConfig = RawManifest['scheduler'];
export type TokenizerFileSpec = RawManifest['tokenizer']['vocab'];

/** The parsed manifest; stays close to upstream names so it diffs against diffusers' configs. */
export interface ModelManifest {
  readonly id: string;
  readonly name: string;
  readonly raw: RawManifest;
  readonly dtype: 'float32' | 'float16';
  readonly padTokenId: number;
  readonly maxLength: number;
  readonly vaeScalingFactor: number;
  readonly latentChannels: number;
  readonly vaeScale: number;
  readonly scheduler: SchedulerConfig;
  readonly components: Partial<Record<ModelRole, ComponentSpec>>;
  /** Timestep input dtype of the UNet ('int64' | 'float32' | …), read from its `timestep` input. */
  readonly timestepDtype: 'float32' | 'float16' | 'float64' | 'int32' | 'int64';
  /** Total bytes of the install (every non-optional component's files; a rounded size where the exact one is unknown). */
  readonly totalBytes: number;
}

export const RESIDUAL_INPUT_NAMES: readonly string[] = [...Array.from({ length: 12 }, (_, i) => `down_block_${i}_additional_residual`), 'mid_block_additional_residual'];

/** The I/O diffusers' ONNX exports give a role, for components whose manifest omits them. */
export function defaultIo(role: ModelRole, raw: RawManifest): { inputs: IoSpec[]; outputs: IoSpec[] } {
  const f = 'float32' as const;
  const latent = (name: string, ch: number | string = 'channels'): IoSpec => ({ name, dtype: f, dims: ['batch', ch, 'height', 'width'] });
  const image = (name: string): IoSpec => ({ name, dtype: f, dims: ['batch', 3, 'image_height', 'image_width'] });
  // A float timestep loses nothing: an integer-timestep model gets it truncated by the runtime, as diffusers does.
  const timestep: IoSpec = { name: 'timestep', dtype: f, dims: [1] };
  const hidden: IoSpec = { name: 'encoder_hidden_states', dtype: f, dims: ['batch', 'sequence', 'hidden'] };
  const residuals = RESIDUAL_INPUT_NAMES.map((n, i) => ({ name: n, dtype: f, dims: ['batch', `residual_${i}_channels`, `residual_${i}_height`, `residual_${i}_width`] }));
  switch (role) {
    case 'text_encoder': return { inputs: [{ name: 'input_ids', dtype: 'int32', dims: ['batch', 'sequence'] }], outputs: [{ name: 'last_hidden_state', dtype: f, dims: ['batch', 'sequence', 'hidden'] }] };
    case 'unet': {
      const c = raw.latent_channels;
      const inputs: IoSpec[] = [latent('sample', raw.capabilities.inpaint === '9ch' ? 2 * c + 1 : c), timestep, hidden];
      if (raw.guidance_embedding_dim) inputs.push({ name: 'timestep_cond', dtype: f, dims: ['batch', raw.guidance_embedding_dim] });
      if (raw.components.controlnet) inputs.push(...residuals);
      if (raw.capabilities.controlnet_fused) inputs.push(image('controlnet_cond'), { name: 'conditioning_scale', dtype: f, dims: [1] });
      return { inputs, outputs: [latent('out_sample', c)] };
    }
    case 'controlnet': return {
      inputs: [latent('sample', raw.latent_channels), timestep, hidden, image('controlnet_cond'), { name: 'conditioning_scale', dtype: f, dims: [1] }],
      outputs: residuals,
    };
    case 'vae_encoder': return { inputs: [image('sample')], outputs: [latent('latent_sample', raw.latent_channels)] };
    default: return { inputs: [latent('latent_sample', raw.latent_channels)], outputs: [image('sample')] };
  }
}

/**
 * A manifest may use an export's own names ("latents", "t", "context", "noise_pred"…): they are written as the slot
 * names the pipelines use, so pipelines never depend on one export's naming. The runtime binds them back to the
 * model's real names (ui/runtime/io-binding.ts). Unknown names stay as they are.
 */
function canonicalNames(role: ModelRole, kind: 'input' | 'output', list: readonly IoSpec[]): IoSpec[] {
  const taken = new Set(list.map((x) => x.name));
  return list.map((x) => {
    const slot = slotOf(role, kind, x.name);
    if (!slot || slot === x.name || taken.has(slot)) return x;
    taken.add(slot);
    return { ...x, name: slot };
  });
}

/** Validates raw JSON and returns the manifest, or throws AppError INVALID_MANIFEST naming the path. */
export function parseManifest(json: unknown): ModelManifest {
  let raw: RawManifest;
  try {
    raw = manifestValidator.validate(json);
  } catch (err) {
    throw new AppError('INVALID_MANIFEST', `Model manifest is invalid. ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const components: Partial<Record<ModelRole, ComponentSpec>> = {};
  for (const [role, c] of Object.entries(raw.components) as [ModelRole, RawComponent | undefined][]) {
    if (!c) continue;
    const d = c.inputs && c.outputs ? null : defaultIo(role, raw);
    components[role] = { ...c, inputs: canonicalNames(role, 'input', c.inputs ?? d!.inputs), outputs: canonicalNames(role, 'output', c.outputs ?? d!.outputs) };
  }
  for (const [role, spec] of Object.entries(components)) {
    if (!spec) continue;
    if (!spec.files.some((f) => f.path === spec.model)) {
      throw new AppError('INVALID_MANIFEST', `Model manifest is invalid. At components.${role}.model: "${spec.model}" is not one of its files.`);
    }
  }
  const sz = raw.sizes;
  for (const key of ['default_width', 'default_height'] as const) {
    if (sz[key] > sz.max_side) {
      throw new AppError('INVALID_MANIFEST', `Model manifest is invalid. At sizes.${key}: ${sz[key]} is larger than sizes.max_side (${sz.max_side}).`);
    }
  }
  const ts = components.unet!.inputs.find((i) => i.name === 'timestep');
  if (!ts) throw new AppError('INVALID_MANIFEST', 'Model manifest is invalid. At components.unet.inputs: no input named "timestep".');
  if (raw.components.text_encoder.optional || raw.components.unet.optional || raw.components.vae_decoder.optional) {
    throw new AppError('INVALID_MANIFEST', 'Model manifest is invalid. At components: the text encoder, UNet and VAE decoder cannot be optional.');
  }
  if (raw.capabilities.img2img && !raw.components.vae_encoder) {
    throw new AppError('INVALID_MANIFEST', 'Model manifest is invalid. At components.vae_encoder: img2img needs a VAE encoder.');
  }
  // Optional components are not part of the install, so not of its size.
  const totalBytes = Object.values(components).reduce((s, c) => s + (c && !c.optional ? c.files.reduce((t, f) => t + (f.bytes ?? f.approx_bytes ?? 0), 0) : 0), 0);
  return {
    id: raw.id,
    name: raw.name,
    raw,
    dtype: raw.dtype,
    padTokenId: raw.tokenizer.pad_token_id,
    maxLength: raw.tokenizer.max_length,
    vaeScalingFactor: raw.vae_scaling_factor,
    latentChannels: raw.latent_channels,
    vaeScale: raw.vae_scale,
    scheduler: raw.scheduler,
    components,
    timestepDtype: ts.dtype,
    totalBytes,
  };
}
