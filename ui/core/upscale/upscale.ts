/**
 * Tiled super-resolution of an RGBA image with any image-to-image model session ([1,3,h,w] → [1,3,s·h,s·w]), in
 * bounded memory: the model only ever sees one tile (≤ (tile + 2·pad)² pixels), and blending happens in a float band
 * one tile-row high (output width × tile·scale rows), finished rows going straight into the 8-bit result. Pure core:
 * no DOM, no onnxruntime (the session comes from the runtime, or a test fake).
 *
 * RGB goes through the model; alpha is resampled bicubically per tile (a super-resolution model has no alpha), with
 * the same blend. Progress after every tile, with the partly finished image as a preview; cancel between tiles.
 */
import { AppError } from '../../../protocol/errors';
import type { RgbaImage } from '../image';
import type { ModelSession } from '../session';
import type { HostTensor, Tensor } from '../tensor';
import { cropImage, resizeImage } from './resample';
import { planSpans, spanWeight, type Span, type TileOptions } from './tiles';

export interface UpscaleOptions extends Partial<TileOptions> {
  /** The model's integer factor. */
  readonly scale: number;
  /** The model's pixel range: input and output are 0..range (255 for ESRGAN-slim, 1 for most PyTorch exports). */
  readonly range: number;
  readonly signal?: AbortSignal;
  /** After each tile: tiles done, of total; `image` is the result so far (rows not yet final are still empty). */
  readonly onProgress?: (p: { done: number; total: number; image: RgbaImage }) => void;
}

/** Defaults: 192-px tiles (≤ 216² = 47 K pixels per run with the pad), 16 px blended overlap, 12 px context (ESRGAN-slim's reach is 10). */
export const DEFAULT_TILE: TileOptions = { tile: 192, overlap: 16, pad: 12 };

export interface UpscaleResult {
  readonly image: RgbaImage;
  readonly tiles: number;
}

const toHostAsync = async (t: Tensor): Promise<HostTensor> => {
  if (t.kind === 'host') return t;
  try {
    return await t.downloadAsync();
  } finally {
    t.dispose();
  }
};


/** One tile's result: planar RGB [3, s·fh, s·fw] in 0..255 (values outside are clamped) for the fed window. */
export type TileFn = (window: RgbaImage, sx: Span, sy: Span) => Promise<Float32Array>;

export interface TiledOptions {
  readonly scale: number;
  readonly tiles: TileOptions;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { done: number; total: number; image: RgbaImage }) => void;
  /** Message of the CANCELLED error. */
  readonly cancelMessage?: string;
}

/**
 * The tiler itself, model-agnostic: cuts `image` into spans (tile + overlap, + pad of context), runs `runTile` on each
 * fed window, and blends the kept parts (linear ramps across overlaps) into a `scale`× image through a float band one
 * tile-row high. Alpha is resampled bicubically per window with the same blend (1× when scale is 1).
 */
export async function tiledImageAsync(image: RgbaImage, runTile: TileFn, opts: TiledOptions): Promise<UpscaleResult> {
  const s = opts.scale;
  if (!(Number.isInteger(s) && s >= 1)) throw new Error(`tiled: scale ${s} must be a positive integer`);
  const t = opts.tiles;
  const W = image.width * s;
  const H = image.height * s;
  const xs = planSpans(image.width, t);
  const ys = planSpans(image.height, t);
  const total = xs.length * ys.length;
  const out = new Uint8ClampedArray(W * H * 4);
  const result: RgbaImage = { width: W, height: H, data: out };
  const opaque = isOpaque(image);

  // Band: r,g,b,a,weight per output pixel, rows [bandTop, bandTop + bandRows).
  const bandRows = Math.min(H, t.tile * s);
  const band = new Float32Array(W * bandRows * 5);
  let bandTop = 0;
  let done = 0;

  const finishRows = (upTo: number): void => {
    // Writes rows [bandTop, upTo) to the output and shifts the band up.
    const n = upTo - bandTop;
    for (let r = 0; r < n; r++) {
      for (let x = 0; x < W; x++) {
        const b = (r * W + x) * 5;
        const w = band[b + 4]!;
        const o = ((bandTop + r) * W + x) * 4;
        out[o] = Math.round(band[b]! / w);
        out[o + 1] = Math.round(band[b + 1]! / w);
        out[o + 2] = Math.round(band[b + 2]! / w);
        out[o + 3] = opaque ? 255 : Math.round(band[b + 3]! / w);
      }
    }
    band.copyWithin(0, n * W * 5);
    band.fill(0, (bandRows - n) * W * 5);
    bandTop = upTo;
  };

  for (let yi = 0; yi < ys.length; yi++) {
    const sy = ys[yi]!;
    for (const sx of xs) {
      if (opts.signal?.aborted) throw new AppError('CANCELLED', opts.cancelMessage ?? 'Cancelled.');
      const fw = sx.feedEnd - sx.feedStart;
      const fh = sy.feedEnd - sy.feedStart;
      const window = cropImage(image, sx.feedStart, sy.feedStart, fw, fh);
      const rgb = await runTile(window, sx, sy);
      if (rgb.length !== 3 * fw * s * fh * s) {
        throw new AppError('BAD_MODEL_OUTPUT', `A ${fw}×${fh} tile came back with ${rgb.length} values; expected 3×${fw * s}×${fh * s}.`);
      }
      const alpha = opaque ? undefined : s === 1 ? window : resizeImage(window, fw * s, fh * s, 'bicubic');
      accumulate(band, bandTop, W, rgb, alpha, sx, sy, s);
      done++;
      opts.onProgress?.({ done, total, image: result });
    }
    const next = ys[yi + 1];
    finishRows(next ? next.start * s : H);
  }
  return { image: result, tiles: total };
}

/** Super-resolution with an image-to-image model session ([1,3,h,w] → [1,3,s·h,s·w]), tiled. */
export async function upscaleImageAsync(image: RgbaImage, session: ModelSession, opts: UpscaleOptions): Promise<UpscaleResult> {
  const s = opts.scale;
  const inName = session.inputNames[0]!;
  const outName = session.outputNames[0]!;
  const k = opts.range / 255;
  const runTile: TileFn = async (window) => {
    const outputs = await session.runAsync({ [inName]: windowTensor(window, k) });
    const got = await toHostAsync(outputs[outName]!);
    for (const [name, other] of Object.entries(outputs)) if (name !== outName && other.kind === 'device') other.dispose();
    if (got.dims.length !== 4 || got.dims[1] !== 3 || got.dims[2] !== window.height * s || got.dims[3] !== window.width * s) {
      throw new AppError('BAD_MODEL_OUTPUT', `The upscaler returned [${got.dims.join(',')}] for a ${window.width}×${window.height} tile; expected [1,3,${window.height * s},${window.width * s}].`);
    }
    const data = got.data as Float32Array;
    return k === 1 ? data : data.map((v) => v / k);
  };
  return tiledImageAsync(image, runTile, {
    scale: s,
    tiles: { tile: opts.tile ?? DEFAULT_TILE.tile, overlap: opts.overlap ?? DEFAULT_TILE.overlap, pad: opts.pad ?? DEFAULT_TILE.pad },
    cancelMessage: 'Upscale cancelled.',
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
}

function isOpaque(image: RgbaImage): boolean {
  for (let i = 3; i < image.data.length; i += 4) if (image.data[i] !== 255) return false;
  return true;
}

/** A window as [1,3,h,w] in the model's range. */
function windowTensor(window: RgbaImage, k: number): HostTensor {
  const plane = window.width * window.height;
  const data = new Float32Array(3 * plane);
  for (let q = 0; q < plane; q++) {
    data[q] = window.data[q * 4]! * k;
    data[plane + q] = window.data[q * 4 + 1]! * k;
    data[2 * plane + q] = window.data[q * 4 + 2]! * k;
  }
  return { kind: 'host', dtype: 'float32', dims: [1, 3, window.height, window.width], data };
}

/** Adds the kept part of one tile's output, weighted, into the band. */
function accumulate(band: Float32Array, bandTop: number, W: number, sr: Float32Array, alpha: RgbaImage | undefined,
  sx: Span, sy: Span, s: number): void {
  const ow = (sx.feedEnd - sx.feedStart) * s;
  const oh = (sy.feedEnd - sy.feedStart) * s;
  const plane = ow * oh;
  const x0 = sx.start * s, x1 = sx.end * s;
  const y0 = sy.start * s, y1 = sy.end * s;
  const wx = new Float32Array(x1 - x0);
  for (let x = x0; x < x1; x++) wx[x - x0] = spanWeight(sx, s, x);
  for (let y = y0; y < y1; y++) {
    const wy = spanWeight(sy, s, y);
    const ty = y - sy.feedStart * s;
    const br = (y - bandTop) * W;
    for (let x = x0; x < x1; x++) {
      const w = wy * wx[x - x0]!;
      const q = ty * ow + (x - sx.feedStart * s);
      const b = (br + x) * 5;
      // Clamp to the pixel range before blending (what a viewer would show of each tile).
      band[b]! += w * Math.min(255, Math.max(0, sr[q]! || 0));
      band[b + 1]! += w * Math.min(255, Math.max(0, sr[plane + q]! || 0));
      band[b + 2]! += w * Math.min(255, Math.max(0, sr[2 * plane + q]! || 0));
      if (alpha) band[b + 3]! += w * alpha.data[q * 4 + 3]!;
      band[b + 4]! += w;
    }
  }
}
