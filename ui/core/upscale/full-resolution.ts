/**
 * "Full resolution" for Generate and Edit, pure: the layer's own pixels at 2× (within Figma's 4096-px cap) from a
 * picture made at the model's size. The engine crops the picture to the part that shows in the layer (its content
 * box), resizes it to the target (Lanczos: at these factors it matches or beats the bundled ESRGAN-slim, see README
 * "Boost"), and refines it with low-strength img2img in model-sized tiles with blended seams (refine.ts), so the model
 * adds detail at the new size instead of the layer showing a stretched picture.
 */
import { FIGMA_MAX_IMAGE_SIDE } from '../../../protocol/messages';
import { planSpans } from './tiles';

/** Pixels per layer unit a full-resolution result has (2×: sharp on a retina screen and in a 2× export). */
export const FULL_RESOLUTION_SCALE = 2;
/** Default img2img strength of the refine pass: adds detail, keeps the picture. */
export const FULL_RESOLUTION_STRENGTH = 0.3;

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

/**
 * The full-resolution size for a result whose `content` (working px) shows in `frame` (layer units; null when the
 * result is not tied to a layer): the frame × `scale` when the content has the frame's shape, else the content's own
 * shape at the size it is shown inside the frame (fitted, never cropped) × `scale`; scaled down so no side passes
 * Figma's 4096 px.
 */
export function fullResolutionSize(frame: Size | null, content: Rect, scale = FULL_RESOLUTION_SCALE): Size {
  let w: number;
  let h: number;
  if (frame && frame.width > 0 && frame.height > 0) {
    const same = Math.abs(Math.log((content.width / content.height) / (frame.width / frame.height))) < 0.01;
    const k = same ? 0 : Math.min(frame.width / content.width, frame.height / content.height);
    w = same ? frame.width * scale : content.width * k * scale;
    h = same ? frame.height * scale : content.height * k * scale;
  } else {
    w = content.width * scale;
    h = content.height * scale;
  }
  const s = Math.min(1, FIGMA_MAX_IMAGE_SIDE / Math.max(w, h));
  return { width: Math.max(1, Math.round(w * s)), height: Math.max(1, Math.round(h * s)) };
}

/** The content box rounded to whole working pixels and kept inside the `canvas` (what the engine crops). */
export function cropRect(content: Rect, canvas: Size): Rect {
  const x0 = Math.min(canvas.width - 1, Math.max(0, Math.round(content.x)));
  const y0 = Math.min(canvas.height - 1, Math.max(0, Math.round(content.y)));
  const x1 = Math.max(x0 + 1, Math.min(canvas.width, Math.round(content.x + content.width)));
  const y1 = Math.max(y0 + 1, Math.min(canvas.height, Math.round(content.y + content.height)));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** The refine pass's tiles for a model's sizes: its native side (or fixed size), overlap ≈ 1/8 tile on its grid. */
export interface RefineTiling {
  readonly tile: number;
  readonly overlap: number;
  readonly multiple: number;
  /** A static-shape model (manifest sizes.fixed): every tile is fed at exactly tile×tile. */
  readonly exact: boolean;
}

export function refineTiling(sizes: { readonly default_width: number; readonly multiple: number; readonly fixed?: readonly Size[] | undefined }): RefineTiling {
  const multiple = Math.max(8, sizes.multiple);
  const tile = sizes.fixed && sizes.fixed.length > 0 ? sizes.fixed[0]!.width : Math.max(multiple, Math.floor(sizes.default_width / multiple) * multiple);
  return { tile, overlap: Math.max(multiple, Math.round(tile / 8 / multiple) * multiple), multiple, exact: !!sizes.fixed && sizes.fixed.length > 0 };
}

/** How many tiles the refine pass runs over a `size` image. */
export function refineTileCount(size: Size, t: RefineTiling): number {
  const o = { tile: t.tile, overlap: t.overlap, pad: 0 };
  return planSpans(size.width, o).length * planSpans(size.height, o).length;
}

/** Denoising steps img2img runs at `strength` (diffusers' get_timesteps; at least one when strength > 0). */
export function img2imgSteps(steps: number, strength: number): number {
  return strength <= 0 ? 0 : Math.max(1, Math.min(steps, Math.floor(steps * strength)));
}

/**
 * The work of a full-resolution run relative to the plain image: model passes × pixels, counting one pass for the
 * VAE per image/tile. `refineShare` is the part of the whole run the refine pass takes (for an honest progress bar).
 */
export function fullResolutionCost(p: { working: Size; target: Size; steps: number; strength: number; tiling: RefineTiling }): { tiles: number; factor: number; refineShare: number } {
  const tiles = refineTileCount(p.target, p.tiling);
  const base = (p.steps + 1) * p.working.width * p.working.height;
  const refine = tiles * (img2imgSteps(p.steps, p.strength) + 2) * p.tiling.tile * p.tiling.tile;
  return { tiles, factor: (base + refine) / base, refineShare: refine / (base + refine) };
}
