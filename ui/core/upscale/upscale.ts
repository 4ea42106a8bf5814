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

/** Defaults: 128-px tiles (64 K pixels per run), 16 px blended overlap, 12 px context (ESRGAN-slim's reach is 10). */
export const DEFAULT_TILE: TileOptions = { tile: 128, overlap: 16, pad: 12 };

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

const cancelled = (): AppError => new AppError('CANCELLED', 'Upscale cancelled.');

export async function upscaleImageAsync(image: RgbaImage, session: ModelSession, opts: UpscaleOptions): Promise<UpscaleResult> {
  const s = opts.scale;
  if (!(Number.isInteger(s) && s >= 1)) throw new Error(`upscale: scale ${s} must be a positive integer`);
  const t: TileOptions = {
    tile: opts.tile ?? DEFAULT_TILE.tile,
    overlap: opts.overlap ?? DEFAULT_TILE.overlap,
    pad: opts.pad ?? DEFAULT_TILE.pad,
  };
  const W = image.width * s;
  const H = image.height * s;
  const xs = planSpans(image.width, t);
  const ys = planSpans(image.height, t);
  const total = xs.length * ys.length;
  const out = new Uint8ClampedArray(W * H * 4);
  const result: RgbaImage = { width: W, height: H, data: out };
  const opaque = isOpaque(image);
  const inName = session.inputNames[0]!;
  const outName = session.outputNames[0]!;
  const k = opts.range / 255;

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
      if (opts.signal?.aborted) throw cancelled();
      const fw = sx.feedEnd - sx.feedStart;
      const fh = sy.feedEnd - sy.feedStart;
      const feed = tileTensor(image, sx, sy, k);
      const outputs = await session.runAsync({ [inName]: feed });
      const got = await toHostAsync(outputs[outName]!);
      for (const [name, other] of Object.entries(outputs)) if (name !== outName && other.kind === 'device') other.dispose();
      if (got.dims.length !== 4 || got.dims[1] !== 3 || got.dims[2] !== fh * s || got.dims[3] !== fw * s) {
        throw new AppError('BAD_MODEL_OUTPUT', `The upscaler returned [${got.dims.join(',')}] for a ${fw}×${fh} tile; expected [1,3,${fh * s},${fw * s}].`);
      }
      const alpha = opaque ? undefined : resizeImage(cropImage(image, sx.feedStart, sy.feedStart, fw, fh), fw * s, fh * s, 'bicubic');
      accumulate(band, bandTop, W, got.data as Float32Array, alpha, sx, sy, s, k);
      done++;
      opts.onProgress?.({ done, total, image: result });
    }
    const next = ys[yi + 1];
    finishRows(next ? next.start * s : H);
  }
  return { image: result, tiles: total };
}

function isOpaque(image: RgbaImage): boolean {
  for (let i = 3; i < image.data.length; i += 4) if (image.data[i] !== 255) return false;
  return true;
}

/** The fed window of the tile as [1,3,fh,fw] in the model's range. */
function tileTensor(image: RgbaImage, sx: Span, sy: Span, k: number): HostTensor {
  const fw = sx.feedEnd - sx.feedStart;
  const fh = sy.feedEnd - sy.feedStart;
  const plane = fw * fh;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < fh; y++) {
    const row = ((sy.feedStart + y) * image.width + sx.feedStart) * 4;
    for (let x = 0; x < fw; x++) {
      const p = row + x * 4;
      const q = y * fw + x;
      data[q] = image.data[p]! * k;
      data[plane + q] = image.data[p + 1]! * k;
      data[2 * plane + q] = image.data[p + 2]! * k;
    }
  }
  return { kind: 'host', dtype: 'float32', dims: [1, 3, fh, fw], data };
}

/** Adds the kept part of one tile's output, weighted, into the band. */
function accumulate(band: Float32Array, bandTop: number, W: number, sr: Float32Array, alpha: RgbaImage | undefined,
  sx: Span, sy: Span, s: number, k: number): void {
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
      band[b]! += w * Math.min(255, Math.max(0, sr[q]! / k || 0));
      band[b + 1]! += w * Math.min(255, Math.max(0, sr[plane + q]! / k || 0));
      band[b + 2]! += w * Math.min(255, Math.max(0, sr[2 * plane + q]! / k || 0));
      if (alpha) band[b + 3]! += w * alpha.data[q * 4 + 3]!;
      band[b + 4]! += w;
    }
  }
}
