/**
 * Glue between the plugin's `job-inputs` and the engine: decode the source PNG and pad it onto the canvas,
 * rasterise the mask / outlines at
 * working size, build one GenerateRequest per batch image, and the Recipe stored on each result layer.
 * Pure apart from the injected rasteriser (so Node tests run it with a fake).
 */
import { AppError } from '../../protocol/errors';
import type { DiffusersRecipe, Mode, PathData, PluginToUi, Recipe } from '../../protocol/messages';
import { decodePng, placeOnCanvas, resizeBilinear } from '../core/image';
import { drawLineMap, rasterizeMask } from '../core/raster';
import { cropRect, fullResolutionSize } from '../core/upscale/full-resolution';
import type { GenerateRequest, ResultProvenance, RgbaImage } from '../contracts/engine';
import type { ControlType } from './settings';

export type JobInputs = Extract<PluginToUi, { type: 'job-inputs' }>;

/** Path rasterisation (default: ui/core/raster; tests inject a recording one). White = shape, black = empty. */
export interface Rasterizer {
  /** Inpaint mask: paths filled white on black, edges feathered by `feather` working px. */
  rasterizeMask(paths: readonly PathData[], width: number, height: number, opts: { feather: number }): RgbaImage;
  /** ControlNet line map: white outlines `lineWidth` px wide on black. */
  drawLineMap(paths: readonly PathData[], width: number, height: number, opts: { lineWidth: number }): RgbaImage;
}

/** The pure-JS rasteriser of ui/core/raster (the same one the fake Figma uses to export), deterministic everywhere. */
export const coreRasterizer: Rasterizer = {
  rasterizeMask: (paths, width, height, opts) => ({ width, height, data: rasterizeMask(paths, width, height, opts) }),
  drawLineMap: (paths, width, height, opts) => drawLineMap(paths, width, height, opts),
};

/** The form values a job is built from (already clamped, preset already applied to the prompts). */
export interface JobForm {
  readonly mode: Mode;
  readonly modelId: string;
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly steps: number;
  readonly guidance: number;
  readonly strength: number;
  readonly maskFeather: number;
  readonly controlType: ControlType;
  readonly controlScale: number;
  /** Boost: the upscale factor. */
  readonly upscale?: number;
  /** Boost: refine with this diffusion model after upscaling. */
  readonly refineModelId?: string;
  /** Generate / Edit: make the layer's pixels at 2× (upscale + tiled refine at this strength). */
  readonly fullResolution?: { readonly strength: number };
  /** Style reference (server engines): the layer whose look to apply, and how strongly (0..1). */
  readonly styleNodeId?: string;
  readonly styleStrength?: number;
}

/** Line width per control type at a 512 px working side (scaled with the working size). */
export const CONTROL_LINE_WIDTH: Readonly<Record<ControlType, number>> = { canny: 1, lineart: 2, mlsd: 2, scribble: 5 };

export interface PreparedJob {
  /** Everything but the seed. */
  readonly request: Omit<GenerateRequest, 'seed'>;
  readonly inputs: JobInputs;
}

/**
 * job-inputs + form → the engine request (without seed). Throws AppError INVALID_SELECTION when the plugin sent
 * less than the mode needs (e.g. Inpaint without a mask).
 */
export function prepareJob(inputs: JobInputs, form: JobForm, raster: Rasterizer): PreparedJob {
  const { width, height } = inputs;
  if (inputs.mode !== form.mode) {
    throw new AppError('INVALID_MESSAGE', `The plugin prepared a "${inputs.mode}" job, but "${form.mode}" was asked for.`, { hint: 'Try again.' });
  }
  let image: RgbaImage | undefined;
  if (inputs.image) {
    // The plugin sends the source at its own shape (content box); padding it onto the canvas is pixel work, done here.
    const decoded = decodePng(inputs.image.png);
    const c = inputs.placement.content;
    const cw = Math.max(1, Math.round(c.width));
    const ch = Math.max(1, Math.round(c.height));
    if (decoded.width === width && decoded.height === height) image = decoded;
    else image = placeOnCanvas(resizeBilinear(decoded, cw, ch), width, height, Math.round(c.x), Math.round(c.y));
  }
  const base: { -readonly [K in keyof GenerateRequest]?: GenerateRequest[K] } = {
    modelId: form.modelId,
    mode: form.mode,
    prompt: form.prompt,
    negativePrompt: form.negativePrompt,
    width,
    height,
    steps: form.steps,
    guidanceScale: form.guidance,
  };
  if (form.fullResolution && (form.mode === 'generate' || form.mode === 'edit')) {
    // Only when it adds pixels: a layer smaller than the model's size at 2× already gets enough.
    const p = inputs.placement;
    const target = fullResolutionSize(p.sourceNodeId ? { width: p.width, height: p.height } : null, p.content);
    if (target.width > p.content.width || target.height > p.content.height) {
      base.fullResolution = { ...target, crop: cropRect(p.content, { width, height }), strength: form.fullResolution.strength };
    }
  }
  switch (form.mode) {
    case 'generate':
      break;
    case 'edit':
      if (!image) throw new AppError('INVALID_SELECTION', 'Edit needs an image of the selection, and none came back.', { hint: 'Select a visible frame, shape or image and try again.' });
      base.image = image;
      base.strength = form.strength;
      break;
    case 'inpaint':
      if (!image) throw new AppError('INVALID_SELECTION', 'Inpaint needs the image under the mask, and none came back.', { hint: 'Select an image and a shape on top of it.' });
      if (!inputs.mask || inputs.mask.paths.length === 0) throw new AppError('INVALID_SELECTION', 'Inpaint needs a mask shape, and none was found in the selection.', { hint: 'Draw a shape over the area to change and select it together with the image.' });
      base.image = image;
      base.mask = raster.rasterizeMask(inputs.mask.paths, width, height, { feather: form.maskFeather });
      base.strength = form.strength;
      break;
    case 'boost':
      if (!image) throw new AppError('INVALID_SELECTION', 'Boost needs an image of the selection, and none came back.', { hint: 'Select a visible image, frame or shape and try again.' });
      base.image = image;
      base.upscale = form.upscale ?? 2;
      if (form.refineModelId) {
        base.refineModelId = form.refineModelId;
        base.strength = form.strength;
      }
      break;
    case 'wireframe': {
      if (!inputs.outlines || inputs.outlines.paths.length === 0) throw new AppError('INVALID_SELECTION', 'Wireframe needs shapes or text in the selected frame, and it has none.', { hint: 'Select a frame that contains the wireframe.' });
      const lineWidth = Math.max(1, Math.round(CONTROL_LINE_WIDTH[form.controlType] * Math.max(width, height) / 512));
      base.control = raster.drawLineMap(inputs.outlines.paths, width, height, { lineWidth });
      base.controlScale = form.controlScale;
      base.controlType = form.controlType;
      break;
    }
  }
  if (form.styleNodeId && form.mode !== 'boost') {
    if (!inputs.style || inputs.style.nodeId !== form.styleNodeId) {
      throw new AppError('INVALID_MESSAGE', 'The plugin did not send the style reference image.', { hint: 'Press “Use selection” under Style reference again, then Generate.' });
    }
    base.styleImage = decodePng(inputs.style.png);
    base.styleStrength = form.styleStrength ?? 0.8;
  }
  return { request: base as Omit<GenerateRequest, 'seed'>, inputs };
}

/** The recipe stored on one result layer (re-runnable: prompt, seed, model, sources). */
export function makeRecipe(
  job: PreparedJob,
  form: JobForm,
  opts: { seed: number; batchIndex: number; batchCount: number; pluginVersion: string; createdAt: string; provenance?: ResultProvenance; reproduce?: DiffusersRecipe },
): Recipe {
  const { inputs } = job;
  const recipe: { -readonly [K in keyof Recipe]: Recipe[K] } = {
    version: 1,
    mode: form.mode,
    prompt: form.prompt.slice(0, 4000),
    negativePrompt: form.negativePrompt.slice(0, 4000),
    seed: opts.seed,
    steps: form.steps,
    guidance: form.guidance,
    width: inputs.width,
    height: inputs.height,
    modelId: form.modelId,
    sourceNodeIds: inputs.sourceNodeIds.slice(0, 500),
    batchIndex: opts.batchIndex,
    batchCount: opts.batchCount,
    pluginVersion: opts.pluginVersion.slice(0, 40),
    createdAt: opts.createdAt,
  };
  const prov = opts.provenance;
  if (prov && prov.engine !== 'local') {
    recipe.engine = prov.engine;
    recipe.serverModels = prov.models.slice(0, 8).map((m) => m.slice(0, 300));
    if (prov.modelHashes && Object.keys(prov.modelHashes).length > 0) recipe.serverModelHashes = { ...prov.modelHashes };
    if (prov.backend) recipe.backend = prov.backend.slice(0, 200);
  }
  if (opts.reproduce && (!prov || prov.engine === 'local')) recipe.diffusers = opts.reproduce;
  if (form.mode === 'edit' || form.mode === 'inpaint') recipe.strength = form.strength;
  const full = job.request.fullResolution;
  if (full) recipe.fullResolution = { width: full.width, height: full.height, strength: full.strength };
  if (form.styleNodeId && inputs.style) {
    recipe.styleNodeId = form.styleNodeId;
    recipe.styleStrength = form.styleStrength ?? 0.8;
  }
  if (form.mode === 'boost') {
    recipe.upscale = form.upscale ?? 2;
    recipe.width = inputs.width * recipe.upscale;
    recipe.height = inputs.height * recipe.upscale;
    if (form.refineModelId) recipe.strength = form.strength;
  }
  if (form.mode === 'inpaint') {
    recipe.maskFeather = form.maskFeather;
    if (inputs.mask) recipe.maskNodeIds = inputs.mask.nodeIds.slice(0, 500);
  }
  if (form.mode === 'wireframe') {
    recipe.controlType = form.controlType;
    recipe.controlScale = form.controlScale;
    if (inputs.outlines) recipe.outlineNodeIds = inputs.outlines.nodeIds.slice(0, 5000);
  }
  return recipe;
}
