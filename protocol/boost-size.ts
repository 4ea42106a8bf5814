/**
 * Boost (super-resolution) sizes, shared by the plugin (which exports the source) and the UI (which shows the result
 * size): the source is read at 1× its bounds, shrunk only when the result would pass Figma's 4096-px image cap.
 */
import { FIGMA_MAX_IMAGE_SIDE } from './messages';

export const BOOST_SCALES = [2, 4] as const;
export type BoostScale = (typeof BOOST_SCALES)[number];

/** The source pixels a w×h (canvas units) node is read at for a ×scale boost, and the result size. */
export function boostSizes(width: number, height: number, scale: number): { source: { width: number; height: number }; result: { width: number; height: number }; capped: boolean } {
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  const maxSource = Math.floor(FIGMA_MAX_IMAGE_SIDE / scale);
  const k = Math.min(1, maxSource / Math.max(w, h));
  const source = { width: Math.max(1, Math.min(maxSource, Math.round(w * k))), height: Math.max(1, Math.min(maxSource, Math.round(h * k))) };
  return { source, result: { width: source.width * scale, height: source.height * scale }, capped: k < 1 };
}
