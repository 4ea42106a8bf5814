/**
 * API-format ComfyUI workflows built in code, one per mode, from the same GenerateRequest the local engine gets.
 * Only core ComfyUI nodes, except the optional IP-Adapter pack (ComfyUI_IPAdapter_plus) for Style reference. Pure: image inputs are referred
 * to by the names /upload/image gave them; `requiredFor` lists what each workflow needs so the health check can say
 * what a server lacks before anything is queued.
 */
import type { GenerateRequest, ServerModeReadiness } from '../../contracts/engine';
import type { Mode } from '../../../protocol/messages';
import type { ApiPrompt, Link } from './comfy-protocol';

export type ModelFamily = 'sd15' | 'sdxl' | 'flux';

/** What a family defaults to (flow-matching Flux: cfg 1 with a FluxGuidance node, few steps, simple schedule). */
export const FAMILY_DEFAULTS: Readonly<Record<ModelFamily, { steps: number; guidance: number; sampler: string; scheduler: string; size: number; maxSide: number }>> = {
  sd15: { steps: 20, guidance: 7, sampler: 'euler_ancestral', scheduler: 'normal', size: 512, maxSide: 1024 },
  sdxl: { steps: 25, guidance: 6, sampler: 'dpmpp_2m', scheduler: 'karras', size: 1024, maxSide: 2048 },
  flux: { steps: 4, guidance: 3.5, sampler: 'euler', scheduler: 'simple', size: 1024, maxSide: 2048 },
};

/** A checkpoint's family from its file name (what Krita and SwarmUI also key on when no metadata is at hand). */
export function guessFamily(modelName: string): ModelFamily {
  const n = modelName.toLowerCase();
  if (/flux|schnell|chroma/.test(n)) return 'flux';
  if (/xl|pony|illustrious|noob/.test(n)) return 'sdxl';
  return 'sd15';
}

/** The server-side names of the uploaded inputs. */
export interface UploadedInputs {
  readonly image?: string;
  readonly mask?: string;
  readonly control?: string;
  readonly style?: string;
}

export interface WorkflowModels {
  readonly checkpoint: string;
  readonly family: ModelFamily;
  readonly controlnet?: string;
  /** Core style model route (StyleModelApply) or the IP-Adapter pack's model loader + IPAdapterAdvanced. */
  readonly style?: StyleRoute;
}

/**
 * How a style reference is applied. `ipadapter`: the pack's IPAdapterModelLoader (a file the server lists, so nothing
 * is guessed by name at run time as IPAdapterUnifiedLoader would) + CLIPVisionLoader + IPAdapterAdvanced with weight
 * type "style transfer" on the MODEL. `style-model`: core CLIPVisionEncode + StyleModelApply on the positive
 * conditioning (Flux Redux; SD 1.5's T2I style adapter).
 */
export type StyleRoute =
  | { readonly kind: 'style-model'; readonly styleModel: string; readonly clipVision: string }
  | { readonly kind: 'ipadapter'; readonly ipadapter: string; readonly clipVision: string };

export interface BuiltWorkflow {
  readonly prompt: ApiPrompt;
  /** The PreviewImage node whose `images` are the result. */
  readonly outputNode: string;
  /** Server model files used, checkpoint first. */
  readonly models: readonly string[];
}

class Graph {
  readonly nodes: ApiPrompt = {};
  private next = 1;
  add(class_type: string, inputs: Record<string, unknown>, title?: string): string {
    const id = String(this.next++);
    this.nodes[id] = title ? { class_type, inputs, _meta: { title } } : { class_type, inputs };
    return id;
  }
}
const out = (id: string, index = 0): Link => [id, index];

const MAX_SEED = 0xffffffffffffffff;

/**
 * Builds the workflow for `request`. Generate: EmptyLatentImage; Edit: VAEEncode with denoise = strength; Inpaint:
 * VAEEncode + SetLatentNoiseMask(GrowMask(mask)) and an ImageCompositeMasked so pixels outside the mask come back
 * unchanged; Wireframe: ControlNetApplyAdvanced on the outline image; Style reference (any mode, see StyleRoute):
 * StyleModelApply on a CLIP vision encoding, or the IP-Adapter pack's "style transfer". Flux: cfg 1 and FluxGuidance(guidance) on the positive conditioning.
 */
export function buildWorkflow(request: GenerateRequest, models: WorkflowModels, uploads: UploadedInputs): BuiltWorkflow {
  const g = new Graph();
  const used = [models.checkpoint];
  const d = FAMILY_DEFAULTS[models.family];
  const ckpt = g.add('CheckpointLoaderSimple', { ckpt_name: models.checkpoint }, 'Model');
  let model: Link = out(ckpt, 0);
  const clip: Link = out(ckpt, 1);
  const vae: Link = out(ckpt, 2);
  let positive: Link = out(g.add('CLIPTextEncode', { text: request.prompt, clip }, 'Prompt'));
  let negative: Link = out(g.add('CLIPTextEncode', { text: request.negativePrompt, clip }, 'Negative prompt'));
  const flux = models.family === 'flux';
  if (flux) positive = out(g.add('FluxGuidance', { conditioning: positive, guidance: request.guidanceScale }));

  let latent: Link;
  let denoise = 1;
  let sourceImage: Link | null = null;
  let compositeMask: Link | null = null;
  const needsImage = request.mode === 'edit' || request.mode === 'inpaint';
  if (needsImage) {
    if (!uploads.image) throw new Error(`${request.mode} needs the source image uploaded`);
    sourceImage = out(g.add('LoadImage', { image: uploads.image }, 'Source'));
    latent = out(g.add('VAEEncode', { pixels: sourceImage, vae }));
    denoise = request.strength ?? 1;
    if (request.mode === 'inpaint') {
      if (!uploads.mask) throw new Error('inpaint needs the mask uploaded');
      const loaded = out(g.add('LoadImageMask', { image: uploads.mask, channel: 'red' }, 'Mask'));
      compositeMask = loaded;
      const grown = request.maskGrow && request.maskGrow > 0
        ? out(g.add('GrowMask', { mask: loaded, expand: Math.round(request.maskGrow), tapered_corners: true }))
        : loaded;
      latent = out(g.add('SetLatentNoiseMask', { samples: latent, mask: grown }));
    }
  } else {
    latent = out(g.add('EmptyLatentImage', { width: request.width, height: request.height, batch_size: 1 }));
  }

  if (request.mode === 'wireframe') {
    if (!uploads.control || !models.controlnet) throw new Error('wireframe needs the outline image and a ControlNet model');
    used.push(models.controlnet);
    const cn = g.add('ControlNetLoader', { control_net_name: models.controlnet });
    const hint = out(g.add('LoadImage', { image: uploads.control }, 'Outlines'));
    const applied = g.add('ControlNetApplyAdvanced', {
      positive, negative, control_net: out(cn), image: hint, strength: request.controlScale ?? 1, start_percent: 0, end_percent: 1, vae,
    });
    positive = out(applied, 0);
    negative = out(applied, 1);
  }

  if (uploads.style && models.style) {
    const ref = out(g.add('LoadImage', { image: uploads.style }, 'Style reference'));
    const strength = request.styleStrength ?? 0.8;
    const vision = g.add('CLIPVisionLoader', { clip_name: models.style.clipVision });
    if (models.style.kind === 'style-model') {
      used.push(models.style.styleModel, models.style.clipVision);
      const encoded = g.add('CLIPVisionEncode', { clip_vision: out(vision), image: ref, crop: 'center' });
      const sm = g.add('StyleModelLoader', { style_model_name: models.style.styleModel });
      positive = out(g.add('StyleModelApply', {
        conditioning: positive, style_model: out(sm), clip_vision_output: out(encoded), strength, strength_type: 'multiply',
      }));
    } else {
      used.push(models.style.ipadapter, models.style.clipVision);
      const loader = g.add('IPAdapterModelLoader', { ipadapter_file: models.style.ipadapter });
      model = out(g.add('IPAdapterAdvanced', {
        model, ipadapter: out(loader), image: ref, weight: strength, weight_type: 'style transfer', combine_embeds: 'concat',
        start_at: 0, end_at: 1, embeds_scaling: 'V only', clip_vision: out(vision),
      }));
    }
  }

  const sampled = g.add('KSampler', {
    model, seed: Math.min(Math.max(0, Math.floor(request.seed)), MAX_SEED), steps: request.steps,
    cfg: flux ? 1 : request.guidanceScale, sampler_name: d.sampler, scheduler: d.scheduler,
    positive, negative, latent_image: latent, denoise,
  }, 'Sampler');
  let image: Link = out(g.add('VAEDecode', { samples: out(sampled), vae }));
  if (sourceImage && compositeMask) {
    image = out(g.add('ImageCompositeMasked', { destination: sourceImage, source: image, x: 0, y: 0, resize_source: false, mask: compositeMask }));
  }
  const output = g.add('PreviewImage', { images: image }, 'Result');
  return { prompt: g.nodes, outputNode: output, models: used };
}

/** Nodes each mode's workflow uses (core ComfyUI). */
export const NODES_FOR: Readonly<Record<Mode | 'style', readonly string[]>> = {
  generate: ['CheckpointLoaderSimple', 'CLIPTextEncode', 'EmptyLatentImage', 'KSampler', 'VAEDecode', 'PreviewImage'],
  edit: ['CheckpointLoaderSimple', 'CLIPTextEncode', 'LoadImage', 'VAEEncode', 'KSampler', 'VAEDecode', 'PreviewImage'],
  inpaint: ['CheckpointLoaderSimple', 'CLIPTextEncode', 'LoadImage', 'LoadImageMask', 'GrowMask', 'VAEEncode', 'SetLatentNoiseMask', 'KSampler', 'VAEDecode', 'ImageCompositeMasked', 'PreviewImage'],
  wireframe: ['CheckpointLoaderSimple', 'CLIPTextEncode', 'EmptyLatentImage', 'LoadImage', 'ControlNetLoader', 'ControlNetApplyAdvanced', 'KSampler', 'VAEDecode', 'PreviewImage'],
  // Boost runs on the plugin's own engine (a bundled upscaler); no server workflow.
  boost: [],
  style: ['CLIPVisionLoader', 'CLIPVisionEncode', 'StyleModelLoader', 'StyleModelApply', 'LoadImage'],
};

/** The lists of model files a server's /object_info offers. */
export interface ServerInventory {
  readonly nodes: ReadonlySet<string>;
  readonly checkpoints: readonly string[];
  readonly controlnets: readonly string[];
  readonly styleModels: readonly string[];
  readonly clipVision: readonly string[];
  /** IPAdapterModelLoader's files (models/ipadapter) when the IP-Adapter pack is installed. */
  readonly ipadapters: readonly string[];
}

/** The IP-Adapter pack's nodes the style workflow uses (with core CLIPVisionLoader and LoadImage). */
export const IPADAPTER_NODES = ['IPAdapterModelLoader', 'IPAdapterAdvanced'] as const;
const IPADAPTER_PACK = 'the IP-Adapter nodes (ComfyUI_IPAdapter_plus)';

/** What each style route lacks on this server, in plain words (empty = that route can run). */
export function styleRoutesMissing(inv: ServerInventory): { ipadapter: string[]; styleModel: string[] } {
  const clip = inv.clipVision.length === 0 ? [CLIP_VISION_MISSING] : [];
  const core = (names: readonly string[]): string[] => names.filter((n) => !inv.nodes.has(n)).map((n) => `the node ${n}`);
  return {
    ipadapter: [
      ...(IPADAPTER_NODES.some((n) => !inv.nodes.has(n)) ? [IPADAPTER_PACK] : []),
      ...core(['CLIPVisionLoader', 'LoadImage']),
      ...(inv.ipadapters.length === 0 ? ['an IP-Adapter model in models/ipadapter'] : []),
      ...clip,
    ],
    styleModel: [
      ...core(NODES_FOR.style),
      ...(inv.styleModels.length === 0 ? ['a style model in models/style_models'] : []),
      ...clip,
    ],
  };
}

const CLIP_VISION_MISSING = 'a CLIP vision model in models/clip_vision';

/**
 * What a server lacks for a style reference, both routes in one list: the IP-Adapter route first (SD 1.5 / SDXL),
 * "or else" the core style-model route (Flux Redux), and the CLIP vision model both need said once. When one route
 * lacks only that model, that model is all it needs.
 */
function styleMissing(routes: { ipadapter: string[]; styleModel: string[] }): string[] {
  const clip = routes.ipadapter.includes(CLIP_VISION_MISSING);
  const ip = routes.ipadapter.filter((m) => m !== CLIP_VISION_MISSING);
  const core = routes.styleModel.filter((m) => m !== CLIP_VISION_MISSING);
  if (ip.length === 0 || core.length === 0) return [CLIP_VISION_MISSING];
  return [...ip, `or else ${core.join(' and ')}`, ...(clip ? [`plus ${CLIP_VISION_MISSING}`] : [])];
}

/** Per mode: ready, or the nodes and models it needs that the server lacks, in plain words. */
export function readiness(inv: ServerInventory): Record<Mode | 'style', ServerModeReadiness> {
  const check = (mode: Mode, extra: string[]): ServerModeReadiness => {
    const missing = NODES_FOR[mode].filter((n) => !inv.nodes.has(n)).map((n) => `the node ${n}`);
    if (inv.checkpoints.length === 0) missing.push('a checkpoint in models/checkpoints');
    missing.push(...extra);
    return { ready: missing.length === 0, missing };
  };
  const routes = styleRoutesMissing(inv);
  const styleReady = routes.ipadapter.length === 0 || routes.styleModel.length === 0;
  return {
    generate: check('generate', []),
    edit: check('edit', []),
    inpaint: check('inpaint', []),
    wireframe: check('wireframe', inv.controlnets.length === 0 ? ['a ControlNet model in models/controlnet'] : []),
    boost: { ready: false, missing: ['Boost runs on this device (the plugin\'s own upscaler), not on a server'] },
    style: styleReady ? { ready: true, missing: [] } : { ready: false, missing: styleMissing(routes) },
  };
}

const isSdxlName = (n: string): boolean => /sdxl|[_-]xl[_.-]/i.test(n);
const prefer = (names: readonly string[], ...tests: RegExp[]): string | undefined => {
  for (const t of tests) { const hit = names.find((n) => t.test(n)); if (hit) return hit; }
  return names[0];
};

/**
 * The style route and files for a checkpoint of `family`, or what is missing for it in plain words. Flux: a style
 * model (Redux) with its CLIP vision model (SigLIP). SD 1.5 / SDXL: the IP-Adapter pack with an IP-Adapter file for
 * that family (a "plus" one first, never a FaceID one) and the CLIP vision model it was trained with (ViT-bigG for SDXL
 * files not named "vit-h", else ViT-H) — else the core style-model route.
 */
export function pickStyleRoute(inv: ServerInventory, family: ModelFamily): { route: StyleRoute } | { missing: string } {
  const routes = styleRoutesMissing(inv);
  const styleModel = (): { route: StyleRoute } => ({
    route: {
      kind: 'style-model',
      styleModel: prefer(inv.styleModels, family === 'flux' ? /redux/i : /style/i) as string,
      clipVision: prefer(inv.clipVision, family === 'flux' ? /sig.?lip|sigclip/i : /vit.?h|h.?14/i) as string,
    },
  });
  if (family === 'flux') {
    return routes.styleModel.length === 0 ? styleModel() : { missing: `a Flux style reference needs ${routes.styleModel.join(' and ')} (Flux Redux and its SigLIP vision model)` };
  }
  if (routes.ipadapter.length === 0) {
    const fits = inv.ipadapters.filter((n) => !/face/i.test(n) && isSdxlName(n) === (family === 'sdxl'));
    if (fits.length > 0) {
      const ipadapter = prefer(fits, /plus/i) as string;
      const bigG = family === 'sdxl' && !/vit.?h/i.test(ipadapter);
      const clipVision = prefer(inv.clipVision, bigG ? /bigg|vit.?g|g.?14/i : /vit.?h|h.?14/i) as string;
      return { route: { kind: 'ipadapter', ipadapter, clipVision } };
    }
    if (routes.styleModel.length === 0) return styleModel();
    return { missing: `an IP-Adapter model for ${family === 'sdxl' ? 'SDXL' : 'SD 1.5'} in models/ipadapter (the server has ${inv.ipadapters.join(', ')})` };
  }
  if (routes.styleModel.length === 0) return styleModel();
  return { missing: styleMissing(routes).join(', ') };
}

/** The ControlNet to use for a control type: a name that mentions it, else the first one. */
export function pickControlnet(names: readonly string[], controlType: string | undefined): string | undefined {
  const t = (controlType ?? 'lineart').toLowerCase();
  return names.find((n) => n.toLowerCase().includes(t)) ?? names[0];
}
