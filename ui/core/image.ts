/**
 * Pixels ↔ tensors, pure. RgbaImage is 8-bit RGBA, row-major. Model images are NCHW float32 in [-1, 1].
 * PNG encode/decode with fast-png (pure JS) so the same code runs in Node tests, the worker and the UI.
 */
import { decode as decodePngRaw, encode as encodePngRaw, convertIndexedToRgb } from 'fast-png';
import { AppError } from '../../protocol/errors';

export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

export function createImage(width: number, height: number, fill: readonly [number, number, number, number] = [0, 0, 0, 255]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set(fill, i);
  return { width, height, data };
}

/** Decodes PNG bytes into RGBA8 (gray, gray+alpha, RGB, indexed and 16-bit inputs are converted). */
export function decodePng(bytes: Uint8Array): RgbaImage {
  let png;
  try {
    png = decodePngRaw(bytes);
  } catch (err) {
    throw new AppError('IMAGE_DECODE_FAILED', `The image could not be decoded as PNG (${err instanceof Error ? err.message : String(err)}).`, {
      hint: 'Select a layer that exports as an image, or try exporting it again.',
      cause: err,
    });
  }
  const { width, height } = png;
  let src: ArrayLike<number> = png.data;
  let channels = png.channels;
  if (png.palette) {
    src = convertIndexedToRgb(png);
    channels = png.palette[0]?.length ?? 3;
  }
  const shift = png.depth === 16 ? 8 : 0;
  const out = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const o = p * 4;
    const i = p * channels;
    const at = (k: number) => (src[i + k]! >> shift);
    if (channels === 1 || channels === 2) {
      const g = at(0);
      out[o] = g; out[o + 1] = g; out[o + 2] = g; out[o + 3] = channels === 2 ? at(1) : 255;
    } else {
      out[o] = at(0); out[o + 1] = at(1); out[o + 2] = at(2); out[o + 3] = channels === 4 ? at(3) : 255;
    }
  }
  return { width, height, data: out };
}

export function encodePng(image: RgbaImage): Uint8Array {
  return encodePngRaw({ width: image.width, height: image.height, data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.length), channels: 4, depth: 8 });
}

/** RGBA → [1,3,H,W] float32 in [-1, 1] (alpha is composited over white, as a designer sees it). */
export function imageToTensor(image: RgbaImage): Float32Array {
  const { width: w, height: h, data } = image;
  const out = new Float32Array(3 * w * h);
  const plane = w * h;
  for (let p = 0; p < plane; p++) {
    const a = data[p * 4 + 3]! / 255;
    for (let c = 0; c < 3; c++) {
      const v = (data[p * 4 + c]! * a + 255 * (1 - a)) / 255;
      out[c * plane + p] = v * 2 - 1;
    }
  }
  return out;
}

/** RGBA → [1,3,H,W] float32 in [0, 1] (ControlNet conditioning images). */
export function imageToUnitTensor(image: RgbaImage): Float32Array {
  const { width: w, height: h, data } = image;
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = data[p * 4 + c]! / 255;
  return out;
}

/** [1,3,H,W] float32 in [-1, 1] → RGBA (x/2 + 0.5, clamped, rounded as diffusers' numpy_to_pil). */
export function tensorToImage(t: Float32Array, width: number, height: number): RgbaImage {
  const plane = width * height;
  if (t.length < 3 * plane) throw new Error(`image tensor needs ${3 * plane} values, got ${t.length}`);
  const data = new Uint8ClampedArray(plane * 4);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = Math.min(1, Math.max(0, t[c * plane + p]! / 2 + 0.5));
      data[p * 4 + c] = Math.round(v * 255);
    }
    data[p * 4 + 3] = 255;
  }
  return { width, height, data };
}

/** Mask image (white = change) → binary [H*W] in {0, 1} (luminance ≥ 0.5, as diffusers' mask processor binarises). */
export function maskToBinary(mask: RgbaImage): Float32Array {
  const plane = mask.width * mask.height;
  const out = new Float32Array(plane);
  for (let p = 0; p < plane; p++) {
    const d = mask.data;
    const lum = (0.299 * d[p * 4]! + 0.587 * d[p * 4 + 1]! + 0.114 * d[p * 4 + 2]!) * (d[p * 4 + 3]! / 255);
    out[p] = lum >= 127.5 ? 1 : 0;
  }
  return out;
}

/** Soft mask weights in [0, 1] (keeps feathered edges for the final composite). */
export function maskToWeights(mask: RgbaImage): Float32Array {
  const plane = mask.width * mask.height;
  const out = new Float32Array(plane);
  for (let p = 0; p < plane; p++) {
    const d = mask.data;
    out[p] = ((0.299 * d[p * 4]! + 0.587 * d[p * 4 + 1]! + 0.114 * d[p * 4 + 2]!) / 255) * (d[p * 4 + 3]! / 255);
  }
  return out;
}

/**
 * Binary pixel mask [H*W] → latent mask [h*w] with F.interpolate's default 'nearest' (src = floor(dst * scale)),
 * as diffusers' prepare_mask_latents.
 */
export function downsampleMaskNearest(mask: Float32Array, width: number, height: number, factor: number): Float32Array {
  const w = Math.floor(width / factor);
  const h = Math.floor(height / factor);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = mask[y * factor * width + x * factor]!;
  return out;
}

/** Pixels where weight = 0 come back exactly from `original`; weight 1 from `generated`; blends in between. */
export function compositeWithMask(original: RgbaImage, generated: RgbaImage, weights: Float32Array): RgbaImage {
  if (original.width !== generated.width || original.height !== generated.height) {
    throw new Error('composite: images differ in size');
  }
  const data = new Uint8ClampedArray(original.data);
  for (let p = 0; p < weights.length; p++) {
    const m = weights[p]!;
    if (m <= 0) continue;
    for (let c = 0; c < 4; c++) {
      data[p * 4 + c] = Math.round(original.data[p * 4 + c]! * (1 - m) + generated.data[p * 4 + c]! * m);
    }
  }
  return { width: original.width, height: original.height, data };
}

/** Bilinear resize (used when an input image is not at the working size). */
export function resizeBilinear(image: RgbaImage, width: number, height: number): RgbaImage {
  if (image.width === width && image.height === height) return image;
  const out = new Uint8ClampedArray(width * height * 4);
  const sx = image.width / width;
  const sy = image.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(image.height - 1, Math.floor(fy));
    const y1 = Math.min(image.height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(image.width - 1, Math.floor(fx));
      const x1 = Math.min(image.width - 1, x0 + 1);
      const wx = fx - x0;
      for (let c = 0; c < 4; c++) {
        const a = image.data[(y0 * image.width + x0) * 4 + c]!;
        const b = image.data[(y0 * image.width + x1) * 4 + c]!;
        const d = image.data[(y1 * image.width + x0) * 4 + c]!;
        const e = image.data[(y1 * image.width + x1) * 4 + c]!;
        out[(y * width + x) * 4 + c] = (a * (1 - wx) + b * wx) * (1 - wy) + (d * (1 - wx) + e * wx) * wy;
      }
    }
  }
  return { width, height, data: out };
}

/**
 * Cheap latent → RGB preview (no model): a linear map of the 4 SD latent channels, upsampled ×factor nearest.
 * Coefficients: the widely used SD 1.x/2.x approximation (rows = latent channels, columns = R, G, B).
 */
export const LATENT_RGB_FACTORS: readonly (readonly [number, number, number])[] = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
];

export function latentPreview(latents: Float32Array, channels: number, h: number, w: number, factor = 1): RgbaImage {
  const out = new Uint8ClampedArray(w * factor * h * factor * 4);
  const plane = h * w;
  for (let y = 0; y < h * factor; y++) {
    for (let x = 0; x < w * factor; x++) {
      const p = Math.floor(y / factor) * w + Math.floor(x / factor);
      const o = (y * w * factor + x) * 4;
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let k = 0; k < Math.min(4, channels); k++) v += latents[k * plane + p]! * LATENT_RGB_FACTORS[k]![c]!;
        out[o + c] = Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);
      }
      out[o + 3] = 255;
    }
  }
  return { width: w * factor, height: h * factor, data: out };
}
