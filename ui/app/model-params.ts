/**
 * Model-dependent form logic (pure): which models can do a mode, defaults from the manifest, the Generate size
 * options and the working size a selection will be processed at.
 */
import type { Mode, SelectionInfo, WorkingSizeRequest } from '../../protocol/messages';
import type { ModelSummary } from '../contracts/engine';
import type { ControlType, ModelParams, Settings } from './settings';
import { LIMITS } from './settings';

/** Whether a model can run a mode, from its manifest capabilities. */
export function modelSupportsMode(model: Pick<ModelSummary, 'capabilities'>, mode: Mode): boolean {
  const c = model.capabilities;
  switch (mode) {
    case 'generate': return c.txt2img;
    case 'edit': return c.img2img;
    case 'inpaint': return c.inpaint !== 'none';
    case 'wireframe': return c.controlnet !== 'none';
    // Boost uses the bundled upscaler, not a diffusion model.
    case 'boost': return false;
  }
}

export function modelsForMode<M extends Pick<ModelSummary, 'capabilities'>>(models: readonly M[], mode: Mode): M[] {
  return models.filter((m) => modelSupportsMode(m, mode));
}

/** The model to use for a mode: the remembered one if it can do the mode, else the first ready one, else the first. */
export function pickModel<M extends Pick<ModelSummary, 'id' | 'capabilities'> & { status?: string }>(
  models: readonly M[], mode: Mode, preferredId: string | undefined,
): M | null {
  const capable = modelsForMode(models, mode);
  return capable.find((m) => m.id === preferredId) ?? capable.find((m) => m.status === 'ready') ?? capable[0] ?? null;
}

export interface EffectiveParams {
  readonly steps: number;
  readonly guidance: number;
  readonly strength: number;
  readonly controlScale: number;
}

/** Manifest defaults overlaid with the user's per-model overrides. */
export function effectiveParams(model: Pick<ModelSummary, 'defaults'> | null, overrides: ModelParams | undefined): EffectiveParams {
  const d = model?.defaults;
  return {
    steps: overrides?.steps ?? d?.steps ?? 20,
    guidance: overrides?.guidance ?? d?.guidance_scale ?? 7.5,
    strength: overrides?.strength ?? d?.strength ?? 0.6,
    controlScale: overrides?.controlScale ?? d?.control_scale ?? 1,
  };
}

/** The control type a model was trained for (null when it has none). */
export function modelControlType(model: Pick<ModelSummary, 'capabilities'> | null): ControlType | null {
  const c = model?.capabilities.controlnet;
  return c && c !== 'none' ? c : null;
}

/** Modes a selection allows, and why a mode is off (for the tab's tooltip). */
export function modeAvailability(selection: SelectionInfo | null, mode: Mode): { enabled: boolean; reason?: string } {
  if (mode === 'generate') return { enabled: selection ? selection.availableModes.includes('generate') : true };
  if (!selection) return { enabled: false, reason: 'Waiting for the selection…' };
  if (selection.availableModes.includes(mode)) return { enabled: true };
  const why: Record<Exclude<Mode, 'generate'>, string> = {
    edit: 'Select a frame, shape or image to edit.',
    inpaint: 'Select an image and a shape on top of it (the mask) that marks the area to change.',
    wireframe: 'Select a frame with a wireframe (shapes, text) to turn into a mockup.',
    boost: 'Select an image (or a frame) to boost to 2× or 4× its pixels.',
  };
  return { enabled: false, reason: selection.problem ?? why[mode] };
}

/**
 * The mode to show after the selection changed: the plugin's proposal when it can run, else the current mode when
 * it still can, else the first mode that can.
 */
export function chooseMode(selection: SelectionInfo, current: Mode | null): Mode {
  if (selection.availableModes.includes(selection.proposedMode)) return selection.proposedMode;
  if (current && selection.availableModes.includes(current)) return current;
  return selection.availableModes[0] ?? selection.proposedMode;
}

/**
 * The working-size request for prepare-job, from the model's manifest sizes. Static-shape models (manifest
 * `sizes.fixed`) also pass their fixed sizes (at most 32, as the protocol allows), so the plugin picks one of them.
 */
export function workingSizeRequest(model: Pick<ModelSummary, 'sizes'>): WorkingSizeRequest {
  const s = model.sizes;
  const req: WorkingSizeRequest = {
    maxSide: Math.max(64, Math.min(4096, s.max_side)),
    multiple: Math.max(8, Math.min(256, s.multiple)),
    targetArea: Math.max(4096, s.default_width * s.default_height),
  };
  const fixed = s.fixed?.slice(0, 32).map((f) => ({ width: f.width, height: f.height }));
  return fixed && fixed.length > 0 ? { ...req, fixed } : req;
}

/**
 * The size a w×h source is processed at: the same aspect ratio, about `targetArea` pixels, both sides multiples of
 * `multiple` and at most `maxSide`. (The plugin computes the authoritative size; this is for the hint line.)
 */
export function fitWorkingSize(w: number, h: number, req: WorkingSizeRequest, fixed?: readonly { width: number; height: number }[]): { width: number; height: number } {
  const aspect = w > 0 && h > 0 ? w / h : 1;
  if (fixed && fixed.length > 0) {
    let best = fixed[0] as { width: number; height: number };
    for (const f of fixed) {
      if (Math.abs(Math.log(f.width / f.height / aspect)) < Math.abs(Math.log(best.width / best.height / aspect))) best = f;
    }
    return { width: best.width, height: best.height };
  }
  const m = req.multiple;
  let width = Math.sqrt(req.targetArea * aspect);
  let height = width / aspect;
  const over = Math.max(width / req.maxSide, height / req.maxSide, 1);
  width /= over;
  height /= over;
  const snap = (x: number): number => Math.min(Math.floor(req.maxSide / m) * m, Math.max(m, Math.round(x / m) * m));
  return { width: snap(width), height: snap(height) };
}

export interface SizeOption {
  readonly label: string;
  readonly width: number;
  readonly height: number;
}

const ASPECTS: readonly [string, number, number][] = [
  ['Square', 1, 1], ['Landscape 4:3', 4, 3], ['Portrait 3:4', 3, 4], ['Landscape 3:2', 3, 2], ['Portrait 2:3', 2, 3],
  ['Wide 16:9', 16, 9], ['Tall 9:16', 9, 16],
];

/** Generate sizes a model offers: its fixed sizes, or common aspect ratios at its default area. */
export function sizeOptions(model: Pick<ModelSummary, 'sizes'> | null): SizeOption[] {
  if (!model) return [{ label: 'Square', width: 512, height: 512 }];
  const fixed = model.sizes.fixed;
  if (fixed && fixed.length > 0) return fixed.map((f) => ({ label: f.width === f.height ? 'Square' : f.width > f.height ? 'Landscape' : 'Portrait', width: f.width, height: f.height }));
  const req = workingSizeRequest(model);
  const out: SizeOption[] = [];
  for (const [label, aw, ah] of ASPECTS) {
    const s = fitWorkingSize(aw, ah, req);
    if (!out.some((o) => o.width === s.width && o.height === s.height)) out.push({ label, ...s });
  }
  return out;
}

/** The Generate size in effect: the saved one if the model allows it, else the model's default. */
export function effectiveSize(model: Pick<ModelSummary, 'sizes'> | null, saved: Settings['size']): { width: number; height: number } {
  const options = sizeOptions(model);
  if (saved && options.some((o) => o.width === saved.width && o.height === saved.height)) return saved;
  if (model) {
    const d = { width: model.sizes.default_width, height: model.sizes.default_height };
    if (options.some((o) => o.width === d.width && o.height === d.height)) return d;
  }
  const first = options[0] as SizeOption;
  return { width: first.width, height: first.height };
}

/** "Frame 'Hero' 1440×900 → will be edited at 768×512" */
export function selectionHintLine(selection: SelectionInfo | null, mode: Mode, model: Pick<ModelSummary, 'sizes'> | null, generateSize: { width: number; height: number }): string {
  if (!selection) return 'Reading the selection…';
  // The layer the job reads (the image under the mask shapes), so the size is the one that really runs.
  const first = selection.source ?? selection.nodes[0];
  const verb: Record<Mode, string> = { generate: 'generated', edit: 'edited', inpaint: 'inpainted', wireframe: 'rendered', boost: 'upscaled' };
  if (mode === 'generate') {
    const size = `${generateSize.width}×${generateSize.height}`;
    return selection.nodes.length === 0 ? `Nothing selected → a new ${size} image` : `${selection.hint} → will be ${verb.generate} at ${size}`;
  }
  if (!first || !model) return selection.hint;
  const ws = fitWorkingSize(first.width, first.height, workingSizeRequest(model), model.sizes.fixed);
  return `${selection.hint} → will be ${verb[mode]} at ${ws.width}×${ws.height}`;
}

/** Clamp helpers for form inputs (values outside the range are pulled in, never rejected silently). */
export const clampParam = {
  steps: (v: number) => Math.round(Math.min(LIMITS.steps.max, Math.max(LIMITS.steps.min, v))),
  guidance: (v: number) => Math.min(LIMITS.guidance.max, Math.max(LIMITS.guidance.min, v)),
  strength: (v: number) => Math.min(LIMITS.strength.max, Math.max(LIMITS.strength.min, v)),
  controlScale: (v: number) => Math.min(LIMITS.controlScale.max, Math.max(LIMITS.controlScale.min, v)),
  maskFeather: (v: number) => Math.min(LIMITS.maskFeather.max, Math.max(LIMITS.maskFeather.min, v)),
  batchCount: (v: number) => Math.round(Math.min(LIMITS.batchCount.max, Math.max(LIMITS.batchCount.min, v))),
};
