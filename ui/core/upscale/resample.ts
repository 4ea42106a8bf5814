/**
 * Separable resampling of 8-bit RGBA, pure: bicubic (Keys, a = −0.5, as PIL's BICUBIC) and Lanczos-3 (PIL's LANCZOS),
 * with the kernel widened by the scale when shrinking (antialiasing, as PIL does). Used for the alpha channel of an
 * upscale, the bicubic/Lanczos baselines of the bench, and to make low-resolution inputs from real photos.
 * Pixel centres: source x = (dst + 0.5) / scale − 0.5 (half-pixel, like PIL and torch's align_corners=False).
 */
import type { RgbaImage } from '../image';

export type ResampleFilter = 'bicubic' | 'lanczos' | 'bilinear';

const SUPPORT: Record<ResampleFilter, number> = { bicubic: 2, lanczos: 3, bilinear: 1 };

const sinc = (x: number): number => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));

function kernel(filter: ResampleFilter, x: number): number {
  const t = Math.abs(x);
  switch (filter) {
    case 'bilinear':
      return t < 1 ? 1 - t : 0;
    case 'lanczos':
      return t < 3 ? sinc(t) * sinc(t / 3) : 0;
    case 'bicubic': {
      const a = -0.5;
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    }
  }
}

interface Taps { readonly start: Int32Array; readonly count: Int32Array; readonly weights: Float32Array; readonly width: number }

/** Per destination index: first source index, tap count, normalised weights (edge taps clamp into range). */
function taps(filter: ResampleFilter, src: number, dst: number): Taps {
  const scale = dst / src;
  const stretch = Math.max(1, 1 / scale);
  const support = SUPPORT[filter] * stretch;
  const width = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(dst);
  const count = new Int32Array(dst);
  const weights = new Float32Array(dst * width);
  for (let i = 0; i < dst; i++) {
    const centre = (i + 0.5) / scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(src, Math.ceil(centre + support));
    let sum = 0;
    for (let j = lo; j < hi; j++) {
      const w = kernel(filter, (j + 0.5 - centre) / stretch);
      weights[i * width + (j - lo)] = w;
      sum += w;
    }
    if (sum !== 0) for (let j = 0; j < hi - lo; j++) weights[i * width + j]! /= sum;
    start[i] = lo;
    count[i] = hi - lo;
  }
  return { start, count, weights, width };
}

/** Resamples all four channels to width × height. Rounds and clamps to 0..255. */
export function resizeImage(image: RgbaImage, width: number, height: number, filter: ResampleFilter): RgbaImage {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new Error(`resize to ${width}×${height}: size must be positive integers`);
  const { width: sw, height: sh, data } = image;
  const tx = taps(filter, sw, width);
  const ty = taps(filter, sh, height);
  // Horizontal pass into floats (sh × width × 4), then vertical into bytes.
  const mid = new Float32Array(sh * width * 4);
  for (let y = 0; y < sh; y++) {
    const row = y * sw * 4;
    for (let x = 0; x < width; x++) {
      const s = tx.start[x]!, n = tx.count[x]!, wo = x * tx.width;
      let r = 0, g = 0, b = 0, a = 0;
      for (let k = 0; k < n; k++) {
        const w = tx.weights[wo + k]!;
        const p = row + (s + k) * 4;
        r += data[p]! * w; g += data[p + 1]! * w; b += data[p + 2]! * w; a += data[p + 3]! * w;
      }
      const o = (y * width + x) * 4;
      mid[o] = r; mid[o + 1] = g; mid[o + 2] = b; mid[o + 3] = a;
    }
  }
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const s = ty.start[y]!, n = ty.count[y]!, wo = y * ty.width;
    for (let x = 0; x < width; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let k = 0; k < n; k++) {
        const w = ty.weights[wo + k]!;
        const p = ((s + k) * width + x) * 4;
        r += mid[p]! * w; g += mid[p + 1]! * w; b += mid[p + 2]! * w; a += mid[p + 3]! * w;
      }
      const o = (y * width + x) * 4;
      out[o] = Math.round(r); out[o + 1] = Math.round(g); out[o + 2] = Math.round(b); out[o + 3] = Math.round(a);
    }
  }
  return { width, height, data: out };
}

/** Crops a rectangle (clamped to the image). */
export function cropImage(image: RgbaImage, x: number, y: number, w: number, h: number): RgbaImage {
  const x0 = Math.max(0, x), y0 = Math.max(0, y);
  const x1 = Math.min(image.width, x + w), y1 = Math.min(image.height, y + h);
  const cw = x1 - x0, ch = y1 - y0;
  const out = new Uint8ClampedArray(cw * ch * 4);
  for (let r = 0; r < ch; r++) out.set(image.data.subarray(((y0 + r) * image.width + x0) * 4, ((y0 + r) * image.width + x1) * 4), r * cw * 4);
  return { width: cw, height: ch, data: out };
}
