/**
 * What diffusers needs to reproduce a local image (issue #11), stored with the recipe on the layer: the model repo and
 * revision, the scheduler config, the exact seed for `torch.Generator('cpu').manual_seed(seed)`, the diffusers pipeline
 * class, and the draw conventions. `exact` says whether that diffusers run gives our image (≤ 1/255 per channel;
 * inpaint: inside the mask) — verified on tiny real-class models in test/core/parity-diffusers.test.ts; `departures`
 * names every known difference.
 */
import type { ModelManifest, SchedulerConfig } from '../manifest';
import type { Seed } from '../rng/torch-generator';
import { getImg2ImgStartIndex } from '../schedulers';
import type { PipelineContext } from './types';
import { encodeConvention, type EncodeConvention } from './common';

export interface DiffusersReproduction {
  /** diffusers pipeline class, e.g. "StableDiffusionImg2ImgPipeline". */
  readonly pipeline: string;
  /** The model's upstream repo (manifest `source`). */
  readonly source: string;
  /** The commit the model files were pinned to (from their `resolve/<sha>/` URLs), when pinned. */
  readonly revision?: string;
  /** The scheduler config (diffusers' `scheduler_config.json` keys). */
  readonly scheduler: SchedulerConfig;
  /** Exact seed, decimal (0…2^64−1), for torch.Generator('cpu').manual_seed. */
  readonly seed: string;
  readonly generator: 'cpu';
  /** Image modes: how the VAE posterior was drawn (see EncodeConvention). */
  readonly encoder?: EncodeConvention;
  /** Inpaint: how the pixel mask became the latent mask. */
  readonly latentMask?: 'nearest' | 'max';
  readonly exact: boolean;
  readonly departures: string[];
}

export interface ReproductionArgs {
  readonly mode: 'txt2img' | 'img2img' | 'inpaint' | 'controlnet';
  readonly seed: Seed;
  readonly steps: number;
  readonly strength?: number;
  /** ControlNet: whether a source image was refined (strength < 1). */
  readonly withImage?: boolean;
  readonly latentMask?: 'nearest' | 'max';
}

/** The commit in a Hugging Face `…/resolve/<40 hex>/…` URL, if any. */
export function pinnedRevision(manifest: ModelManifest): string | undefined {
  const url = manifest.components.unet?.files[0]?.url ?? '';
  return /\/resolve\/([0-9a-f]{40})\//.exec(url)?.[1];
}

export function diffusersReproduction(ctx: Pick<PipelineContext, 'manifest'>, a: ReproductionArgs): DiffusersReproduction {
  const m = ctx.manifest;
  const lcm = m.scheduler._class_name === 'LCMScheduler';
  const departures: string[] = [];
  let exact = true;
  const encodes = a.mode === 'img2img' || a.mode === 'inpaint' || (a.mode === 'controlnet' && a.withImage === true);
  let pipeline: string;
  switch (a.mode) {
    case 'txt2img': pipeline = lcm ? 'LatentConsistencyModelPipeline' : 'StableDiffusionPipeline'; break;
    case 'img2img': pipeline = lcm ? 'LatentConsistencyModelImg2ImgPipeline' : 'StableDiffusionImg2ImgPipeline'; break;
    case 'inpaint': pipeline = 'StableDiffusionInpaintPipeline'; break;
    case 'controlnet': pipeline = a.withImage ? 'StableDiffusionControlNetImg2ImgPipeline' : 'StableDiffusionControlNetPipeline'; break;
  }
  const out: { -readonly [K in keyof DiffusersReproduction]: DiffusersReproduction[K] } = {
    pipeline, source: m.raw.source, scheduler: m.scheduler, seed: String(a.seed), generator: 'cpu', exact, departures,
  };
  const revision = pinnedRevision(m);
  if (revision) out.revision = revision;
  if (encodes) {
    out.encoder = encodeConvention(ctx);
    if (out.encoder === 'posterior-mean') departures.push('VAE encoder returns the posterior mean: the image latents lack diffusers\' std·ε term (noise draws still match)');
    if (out.encoder === 'in-graph-sample') departures.push('VAE encoder samples inside its graph: its posterior draw cannot be reproduced from the seed');
    if (out.encoder !== 'diffusers') exact = false;
    const strength = a.strength ?? 1;
    if (!lcm && strength > 0 && getImg2ImgStartIndex(a.steps, strength) >= a.steps) {
      departures.push('steps × strength < 1: one step is run where diffusers refuses');
      exact = false;
    }
  }
  if (a.mode === 'inpaint') {
    out.latentMask = a.latentMask ?? 'nearest';
    if (out.latentMask === 'max') {
      departures.push('latent mask max-pooled (any masked pixel marks its 8×8 cell); diffusers uses nearest');
      exact = false;
    }
    departures.push('outside the mask the original pixels are kept (soft-mask composite); compare inside the mask');
  }
  if (m.dtype === 'float16') departures.push('float16 weights: diffusers must load the same float16 weights (torch_dtype=torch.float16)');
  out.exact = exact;
  return out;
}
