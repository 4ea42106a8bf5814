/**
 * The "Full resolution" control's plan (pure): for Generate / Edit with the current selection and model, the size the
 * image will have (the layer at 2×, ≤ 4096 px), how many tiles the refine pass runs and what that costs in time —
 * or why it is not available. The run itself uses the plugin's real placement (ui/app/job.ts); this predicts it the
 * way the plugin computes it, so what the control says is what runs.
 */
import type { Mode, SelectionInfo } from '../../protocol/messages';
import type { ModelSummary } from '../contracts/engine';
import {
  FULL_RESOLUTION_STRENGTH, fullResolutionCost, fullResolutionSize, refineTiling, type Rect, type Size,
} from '../core/upscale/full-resolution';
import { fitWorkingSize, workingSizeRequest } from './model-params';

/** Aspect difference under which a Generate canvas counts as the layer's own shape (the plugin's SAME_ASPECT). */
const SAME_ASPECT = 0.12;

export interface FullResolutionPlan {
  readonly available: boolean;
  /** Why it can't be used here, in plain words (when not available). */
  readonly reason?: string;
  /** The size the model runs at, and the size of the image that goes into the document. */
  readonly working?: Size;
  readonly target?: Size;
  /** Refine tiles, and the time of the whole run relative to a plain image. */
  readonly tiles?: number;
  readonly factor?: number;
  /** The share of the run the refine pass takes (for the progress bar). */
  readonly refineShare?: number;
}

/** The source fitted (contained, centred) into the canvas, in working px. */
function contain(src: Size, canvas: Size): Rect {
  const s = Math.min(canvas.width / src.width, canvas.height / src.height);
  const width = src.width * s;
  const height = src.height * s;
  return { x: (canvas.width - width) / 2, y: (canvas.height - height) / 2, width, height };
}

type PlanModel = Pick<ModelSummary, 'name' | 'sizes' | 'capabilities' | 'engine'>;

export function planFullResolution(p: {
  mode: Mode;
  selection: SelectionInfo | null;
  model: PlanModel | null;
  /** Generate: the size the run uses (match selection or the chosen one). */
  generateSize: Size;
  steps: number;
  strength?: number;
}): FullResolutionPlan | null {
  if (p.mode !== 'generate' && p.mode !== 'edit') return null;
  const m = p.model;
  if (!m) return { available: false, reason: 'Pick a model first.' };
  if ((m.engine ?? 'local') !== 'local') return { available: false, reason: 'Full resolution runs on this device; a server returns the model’s own size.' };
  if (!m.capabilities.img2img) return { available: false, reason: `${m.name} can’t refine an image (it has no image-to-image), so it can’t make full resolution.` };
  // The layer the job reads (Edit: else the first selected, as the hint line does; Generate: only a usable source).
  const src = p.selection?.source ?? (p.mode === 'edit' ? p.selection?.nodes[0] : undefined) ?? null;
  const frame = src && src.width > 0 && src.height > 0 ? { width: src.width, height: src.height } : null;
  let working: Size;
  let content: Rect;
  if (p.mode === 'edit') {
    if (!frame) return { available: false, reason: 'Select the layer to edit first.' };
    working = fitWorkingSize(frame.width, frame.height, workingSizeRequest(m), m.sizes.fixed);
    content = contain(frame, working);
  } else {
    working = p.generateSize;
    const same = frame && Math.abs(Math.log((working.width / working.height) / (frame.width / frame.height))) < SAME_ASPECT;
    content = frame && same ? contain(frame, working) : { x: 0, y: 0, ...working };
  }
  const target = fullResolutionSize(frame, content);
  if (target.width <= content.width && target.height <= content.height) {
    return { available: false, working, target, reason: `Not needed here: the model’s ${working.width}×${working.height} already gives this layer twice its pixels.` };
  }
  const cost = fullResolutionCost({ working, target, steps: p.steps, strength: p.strength ?? FULL_RESOLUTION_STRENGTH, tiling: refineTiling(m.sizes) });
  return { available: true, working, target, ...cost };
}

/** "about 3× the time" (one decimal below 10). */
export function formatFactor(factor: number): string {
  return factor < 10 ? `${(Math.round(factor * 10) / 10).toString()}×` : `${Math.round(factor)}×`;
}
