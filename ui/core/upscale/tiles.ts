/**
 * Tile layout for image-to-image models that must run in bounded memory (super-resolution, tiled img2img refine).
 * Pure. Along each axis the image is cut into tiles of at most `tile` pixels whose neighbours overlap by at least
 * `overlap` pixels; each tile is fed with up to `pad` extra pixels of context on every side (cut off again after the
 * model, so a convolutional model with receptive radius ≤ pad sees exactly what it would see untiled). Overlaps are
 * blended with linear ramps (normalised by the summed weight), so models that do differ per tile (diffusion) get no
 * hard seam.
 */

export interface TileOptions {
  /** Kept tile size along each axis, input pixels (≥ 2·overlap + 1). */
  readonly tile: number;
  /** Minimum overlap between neighbouring tiles, input pixels (blended). */
  readonly overlap: number;
  /** Extra context fed on each side and discarded, input pixels. */
  readonly pad: number;
}

/** One tile along one axis, in input pixels: kept [start, end), fed [feedStart, feedEnd), blend ramps on each side. */
export interface Span {
  readonly start: number;
  readonly end: number;
  readonly feedStart: number;
  readonly feedEnd: number;
  /** Overlap with the previous tile (0 for the first). */
  readonly rampBefore: number;
  /** Overlap with the next tile (0 for the last). */
  readonly rampAfter: number;
}

/** Tiles along one axis of `length` pixels. */
export function planSpans(length: number, o: TileOptions): Span[] {
  if (!(Number.isInteger(length) && length > 0)) throw new Error(`tile plan: length ${length} must be a positive integer`);
  if (!(Number.isInteger(o.tile) && Number.isInteger(o.overlap) && Number.isInteger(o.pad))) throw new Error('tile plan: tile, overlap and pad must be integers');
  if (o.overlap < 0 || o.pad < 0 || o.tile < 2 * o.overlap + 1) throw new Error(`tile plan: tile ${o.tile} must exceed twice the overlap ${o.overlap}`);
  if (length <= o.tile) return [{ start: 0, end: length, feedStart: 0, feedEnd: length, rampBefore: 0, rampAfter: 0 }];
  const n = Math.ceil((length - o.overlap) / (o.tile - o.overlap));
  const starts = Array.from({ length: n }, (_, i) => Math.round((i * (length - o.tile)) / (n - 1)));
  return starts.map((start, i) => {
    const end = start + o.tile;
    return {
      start,
      end,
      feedStart: Math.max(0, start - o.pad),
      feedEnd: Math.min(length, end + o.pad),
      rampBefore: i > 0 ? starts[i - 1]! + o.tile - start : 0,
      rampAfter: i < n - 1 ? end - starts[i + 1]! : 0,
    };
  });
}

/**
 * Blend weight of output pixel `p` (output coordinates, scale `s`) inside span `sp`: a linear ramp across each
 * overlap, 1 elsewhere, always > 0 inside the span.
 */
export function spanWeight(sp: Span, s: number, p: number): number {
  const c = p + 0.5;
  let w = 1;
  if (sp.rampBefore > 0) w = Math.min(w, (c - sp.start * s) / (sp.rampBefore * s));
  if (sp.rampAfter > 0) w = Math.min(w, (sp.end * s - c) / (sp.rampAfter * s));
  return w;
}
