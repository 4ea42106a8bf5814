/**
 * The bench's model set: every generated component for one config, plus the two manifests that describe it
 * (a base SD-Turbo-like model for txt2img / img2img / inpaint, and a ControlNet variant whose UNet takes the 13
 * residuals). Manifests go through the real `parseManifest`, so they are what the pipelines would see.
 */
import { SD_TURBO_SCHEDULER } from '../../test/models/proof-model';
import { parseManifest, type ModelManifest, type RawManifest } from '../../ui/core/manifest';
import { clipTokenizerEntries } from '../../test/helpers/clip-tokenizer-files';
import type { ModelRole } from '../../ui/core/session';
import {
  buildControlNet, buildTextEncoder, buildUnet, buildVaeDecoder, buildVaeEncoder, type GeneratedModel, type SdBenchConfig,
} from './sd-models';

/** File names of the generated models (the `unet_cn` UNet takes ControlNet residuals). */
export type BenchModelFile = 'text_encoder' | 'unet' | 'unet_cn' | 'vae_decoder' | 'vae_encoder' | 'controlnet';

export interface BenchModelSet {
  readonly config: SdBenchConfig;
  readonly models: Readonly<Record<BenchModelFile, GeneratedModel>>;
  /** txt2img / img2img / inpaint (blend) model: roles → files. */
  readonly base: { manifest: ModelManifest; files: Readonly<Partial<Record<ModelRole, BenchModelFile>>> };
  /** ControlNet model (UNet with residual inputs + a controlnet component). */
  readonly control: { manifest: ModelManifest; files: Readonly<Partial<Record<ModelRole, BenchModelFile>>> };
}

function component(file: string, m: GeneratedModel): RawManifest['components']['unet'] {
  return {
    files: [{ path: `${file}/model.onnx`, url: `./${file}.onnx`, bytes: m.bytes.length }],
    model: `${file}/model.onnx`,
    inputs: m.inputs.map((i) => ({ name: i.name, dtype: i.dtype, dims: [...i.dims] })),
    outputs: m.outputs.map((o) => ({ name: o.name, dtype: o.dtype, dims: [...o.dims] })),
  };
}

function rawManifest(id: string, cfg: SdBenchConfig, comps: RawManifest['components'], controlnet: boolean): RawManifest {
  const side = cfg.latentSize * 8;
  return {
    id,
    name: `Bench ${id}`,
    description: 'Generated SD-shaped graph with reduced channel widths (bench only).',
    source: 'bench/graphs',
    licence: { name: 'MIT', commercial_use: true, url: 'https://opensource.org/licenses/MIT' },
    dtype: 'float32',
    capabilities: { txt2img: true, img2img: true, inpaint: 'blend', controlnet: controlnet ? 'scribble' : 'none' },
    tokenizer: { ...clipTokenizerEntries('.'), pad_token_id: 0, max_length: cfg.textLength },
    vae_scaling_factor: 0.18215,
    latent_channels: 4,
    vae_scale: 8,
    sizes: { default_width: side, default_height: side, max_side: Math.max(1024, side), multiple: 8 },
    defaults: { steps: 1, guidance_scale: 0, strength: 0.5, ...(controlnet ? { control_scale: 1 } : {}) },
    // SD-Turbo's scheduler_config.json (EulerDiscreteScheduler, trailing spacing).
    scheduler: SD_TURBO_SCHEDULER,
    components: comps,
  };
}

/** Builds every model for `cfg` (a few seconds at BENCH_CONFIG) and both manifests. */
export function buildBenchModelSet(cfg: SdBenchConfig, idSuffix = ''): BenchModelSet {
  const models: Record<BenchModelFile, GeneratedModel> = {
    text_encoder: buildTextEncoder(cfg),
    unet: buildUnet(cfg),
    unet_cn: buildUnet(cfg, { controlnetResiduals: true }),
    vae_decoder: buildVaeDecoder(cfg),
    vae_encoder: buildVaeEncoder(cfg),
    controlnet: buildControlNet(cfg),
  };
  const baseFiles = { text_encoder: 'text_encoder', unet: 'unet', vae_decoder: 'vae_decoder', vae_encoder: 'vae_encoder' } as const;
  const controlFiles = { ...baseFiles, unet: 'unet_cn', controlnet: 'controlnet' } as const;
  const comps = (files: Partial<Record<ModelRole, BenchModelFile>>) => {
    const out: Record<string, RawManifest['components']['unet']> = {};
    for (const [role, file] of Object.entries(files)) out[role] = component(file, models[file]);
    return out as RawManifest['components'];
  };
  return {
    config: cfg,
    models,
    base: { manifest: parseManifest(rawManifest(`bench-base${idSuffix}`, cfg, comps(baseFiles), false)), files: baseFiles },
    control: { manifest: parseManifest(rawManifest(`bench-controlnet${idSuffix}`, cfg, comps(controlFiles), true)), files: controlFiles },
  };
}
