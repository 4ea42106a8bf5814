/**
 * Pixels ↔ tensors, pure (no DOM). `RgbaImage` is 8-bit RGBA, row-major, straight (not premultiplied) alpha.
 * Model images are NCHW float32: [1,3,H,W] in [-1,1] (VAE) or [0,1] (ControlNet conditioning).
 * PNG encode/decode with fast-png (pure JS) so the same code runs in Node tests, the worker and the UI.
 */
import { convertIndexedToRgb, decode as decodePngRaw, encode as encodePngRaw } from 'fast-png';
import { AppError } from '../../protocol/errors';

export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** width × height × 4 bytes, RGBA. */
  readonly data: Uint8ClampedArray;
}

/** A solid image. */
export function createImage(width: number, height: number, fill: readonly [number, number, number, number] = [0, 0, 0, 255]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set(fill, i);
  return { width, height, data };
}

/** True when `image` is a well-formed RgbaImage (positive integer size, data length = w·h·4). */
export function isRgbaImage(image: unknown): image is RgbaImage {
  if (!image || typeof image !== 'object') return false;
  const { width, height, data } = image as Partial<RgbaImage>;
  return Number.isInteger(width) && Number.isInteger(height) && width! > 0 && height! > 0
    && data instanceof Uint8ClampedArray && data.length === width! * height! * 4;
}

const decodeFailed = (detail: string, cause?: unknown): AppError =>
  new AppError('IMAGE_DECODE_FAILED', `The image could not be decoded as PNG (${detail}).`, {
    hint: 'Select a layer that exports as an image, or export it again.',
    ...(cause === undefined ? {} : { cause }),
  });

/**
 * Decodes PNG bytes to RGBA8. Handles gray (1/2/4/8/16-bit), gray+alpha, RGB, RGBA, indexed (with tRNS) and 16-bit
 * (high byte kept); a tRNS colour key on gray/RGB images becomes alpha 0.
 * Throws AppError IMAGE_DECODE_FAILED for anything that is not a decodable PNG.
 */
export function decodePng(bytes: Uint8Array): RgbaImage {
  let png: ReturnType<typeof decodePngRaw>;
  let src: ArrayLike<number>;
  try {
    png = decodePngRaw(bytes);
    src = png.palette ? convertIndexedToRgb(png) : png.data;
  } catch (err) {
    throw decodeFailed(err instanceof Error ? err.message : String(err), err);
  }
  const { width, height } = png;
  if (!(width > 0 && height > 0)) throw decodeFailed(`size ${width}×${height}`);
  let channels = png.channels;
  let depth: number = png.depth;
  if (png.palette) {
    channels = png.palette[0]?.length ?? 3;
    depth = 8;
  }
  const plane = width * height;
  const out = new Uint8ClampedArray(plane * 4);
  // Sample reader → 0…255, for packed low-bit gray, 8-bit and 16-bit rows.
  let at: (pixel: number, k: number) => number;
  if (depth < 8) {
    const rowBytes = Math.ceil((width * depth) / 8);
    const max = (1 << depth) - 1;
    at = (p) => {
      const y = Math.floor(p / width);
      const bit = (p % width) * depth;
      const byte = src[y * rowBytes + (bit >> 3)]!;
      return Math.round((((byte >> (8 - depth - (bit & 7))) & max) * 255) / max);
    };
  } else if (depth === 16) {
    at = (p, k) => src[p * channels + k]! >> 8;
  } else {
    at = (p, k) => src[p * channels + k]!;
  }
  const key = !png.palette && png.transparency && png.transparency.length > 0 ? png.transparency : null;
  const raw = (p: number, k: number): number => (depth < 8 ? 0 : src[p * channels + k]!);
  for (let p = 0; p < plane; p++) {
    const o = p * 4;
    if (channels <= 2) {
      const g = at(p, 0);
      out[o] = g; out[o + 1] = g; out[o + 2] = g;
      out[o + 3] = channels === 2 ? at(p, 1) : 255;
      if (key && channels === 1 && (depth < 8 ? at(p, 0) === Math.round((key[0]! * 255) / ((1 << depth) - 1)) : raw(p, 0) === key[0])) out[o + 3] = 0;
    } else {
      out[o] = at(p, 0); out[o + 1] = at(p, 1); out[o + 2] = at(p, 2);
      out[o + 3] = channels === 4 ? at(p, 3) : 255;
      if (key && channels === 3 && raw(p, 0) === key[0] && raw(p, 1) === key[1] && raw(p, 2) === key[2]) out[o + 3] = 0;
    }
  }
  return { width, height, data: out };
}

/** Encodes RGBA8 as PNG bytes (fast-png, pure JS: Node, tests, and images with transparency). */
export function encodePng(image: RgbaImage): Uint8Array {
  return encodePngRaw({ width: image.width, height: image.height, data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.length), channels: 4, depth: 8 });
}

/**
 * Encodes RGBA8 as PNG with the browser's own (native) encoder when there is one — `OffscreenCanvas.convertToBlob`,
 * in windows and workers — else `encodePng`. The same pixels either way (decode → identical RGBA): only opaque images
 * take the canvas path, because a canvas stores premultiplied alpha and could round translucent colours.
 * Feature-detected, so this pure module still needs no DOM.
 */
export async function encodePngAsync(image: RgbaImage): Promise<Uint8Array> {
  const Canvas = (globalThis as { OffscreenCanvas?: new (w: number, h: number) => OffscreenCanvasLike }).OffscreenCanvas;
  const ImageDataCtor = (globalThis as { ImageData?: new (d: Uint8ClampedArray, w: number, h: number) => unknown }).ImageData;
  if (!Canvas || !ImageDataCtor || !isOpaque(image)) return encodePng(image);
  try {
    const canvas = new Canvas(image.width, image.height);
    const ctx = canvas.getContext('2d');
    if (!ctx) return encodePng(image);
    ctx.putImageData(new ImageDataCtor(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height), 0, 0);
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    return new Uint8Array(await blob.arrayBuffer());
  } catch {
    return encodePng(image);
  }
}

interface OffscreenCanvasLike {
  getContext(type: '2d'): { putImageData(data: unknown, x: number, y: number): void } | null;
  convertToBlob(options: { type: string }): Promise<{ arrayBuffer(): Promise<ArrayBuffer> }>;
}

function isOpaque(image: RgbaImage): boolean {
  const d = image.data;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 255) return false;
  return true;
}

/**
 * RGBA → [1,3,H,W] float32 in [-1,1] (c/127.5 − 1), the VAE encoder's input. Alpha is composited over white first
 * (what a designer sees on a canvas).
 */
export function imageToTensor(image: RgbaImage): Float32Array {
  const { width: w, height: h, data } = image;
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    const a = data[p * 4 + 3]! / 255;
    for (let c = 0; c < 3; c++) {
      const v = a === 1 ? data[p * 4 + c]! : data[p * 4 + c]! * a + 255 * (1 - a);
      out[c * plane + p] = v / 127.5 - 1;
    }
  }
  return out;
}

/**
 * RGBA → [1,3,H,W] float32 in [0,1] (ControlNet conditioning, diffusers' control_image_processor with
 * do_normalize=False). Alpha is composited over black (transparent = no line).
 */
export function imageToUnitTensor(image: RgbaImage): Float32Array {
  const { width: w, height: h, data } = image;
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    const a = data[p * 4 + 3]! / 255;
    for (let c = 0; c < 3; c++) out[c * plane + p] = (data[p * 4 + c]! / 255) * a;
  }
  return out;
}

/** [1,3,H,W] float32 in [-1,1] → opaque RGBA: x/2 + 0.5, clamped to [0,1], ×255 rounded (diffusers numpy_to_pil). */
export function tensorToImage(t: ArrayLike<number>, width: number, height: number): RgbaImage {
  const plane = width * height;
  if (t.length !== 3 * plane) throw new Error(`image tensor [1,3,${height},${width}] needs ${3 * plane} values, got ${t.length}`);
  const data = new Uint8ClampedArray(plane * 4);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const x = t[c * plane + p]!;
      // NaN becomes 0 rather than poisoning the PNG; the pipeline reports non-finite output separately.
      const v = Number.isNaN(x) ? 0 : Math.min(1, Math.max(0, x / 2 + 0.5));
      data[p * 4 + c] = Math.round(v * 255);
    }
    data[p * 4 + 3] = 255;
  }
  return { width, height, data };
}

/** Mask luminance (ITU-R 601, PIL "L") × alpha, in [0,1] per pixel. White opaque = 1 = change. */
export function maskToWeights(mask: RgbaImage): Float32Array {
  const plane = mask.width * mask.height;
  const d = mask.data;
  const out = new Float32Array(plane);
  for (let p = 0; p < plane; p++) {
    out[p] = ((0.299 * d[p * 4]! + 0.587 * d[p * 4 + 1]! + 0.114 * d[p * 4 + 2]!) / 255) * (d[p * 4 + 3]! / 255);
  }
  return out;
}

/** Binary pixel mask [H*W] in {0,1}: weight ≥ 0.5 → 1, as diffusers' mask processor (do_binarize). */
export function maskToBinary(mask: RgbaImage): Float32Array {
  return maskToWeights(mask).map((w) => (w >= 0.5 ? 1 : 0));
}

/**
 * Pixel mask [H*W] → latent mask [(H/f)*(W/f)].
 * - 'nearest': torch F.interpolate(mode='nearest') as diffusers' prepare_mask_latents: cell (y,x) takes pixel
 *   (y·f, x·f), the top-left pixel of its block.
 * - 'max': a cell is 1 when any pixel of its f×f block is (what the pipelines use: a thin stroke that misses every
 *   block's top-left pixel still gets repainted; the pixel-space composite keeps everything outside the mask).
 */
export function downsampleMask(mask: Float32Array, width: number, height: number, factor: number, mode: 'nearest' | 'max'): Float32Array {
  const w = Math.floor(width / factor);
  const h = Math.floor(height / factor);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (mode === 'nearest') {
        out[y * w + x] = mask[y * factor * width + x * factor]!;
        continue;
      }
      let m = 0;
      for (let dy = 0; dy < factor; dy++) for (let dx = 0; dx < factor; dx++) m = Math.max(m, mask[(y * factor + dy) * width + x * factor + dx]!);
      out[y * w + x] = m;
    }
  }
  return out;
}

/** diffusers' `masked_image = image · (mask < 0.5)` on a [1,3,H,W] tensor in [-1,1]: masked pixels become 0. */
export function maskImageTensor(pixels: Float32Array, binaryMask: Float32Array): Float32Array {
  const plane = binaryMask.length;
  const out = pixels.slice();
  for (let i = 0; i < out.length; i++) if (binaryMask[i % plane]! >= 0.5) out[i] = 0;
  return out;
}

/**
 * Composites `generated` over `original` with per-pixel weights in [0,1]: weight 0 → the original's bytes exactly
 * (alpha included), weight 1 → the generated pixel, blends in between (feathered mask edges).
 */
export function compositeWithMask(original: RgbaImage, generated: RgbaImage, weights: Float32Array): RgbaImage {
  if (original.width !== generated.width || original.height !== generated.height || weights.length !== original.width * original.height) {
    throw new Error(`composite: sizes differ (${original.width}×${original.height}, ${generated.width}×${generated.height}, ${weights.length} weights)`);
  }
  const data = new Uint8ClampedArray(original.data);
  for (let p = 0; p < weights.length; p++) {
    const m = weights[p]!;
    if (m <= 0) continue;
    for (let c = 0; c < 4; c++) {
      data[p * 4 + c] = m >= 1 ? generated.data[p * 4 + c]! : Math.round(original.data[p * 4 + c]! * (1 - m) + generated.data[p * 4 + c]! * m);
    }
  }
  return { width: original.width, height: original.height, data };
}

/** Bilinear resize with half-pixel centres (as PIL/cv2 bilinear without antialiasing); same size → same object. */
export function resizeBilinear(image: RgbaImage, width: number, height: number): RgbaImage {
  if (image.width === width && image.height === height) return image;
  const out = new Uint8ClampedArray(width * height * 4);
  const sx = image.width / width;
  const sy = image.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(image.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(image.height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(image.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(image.width - 1, x0 + 1);
      const wx = fx - x0;
      for (let c = 0; c < 4; c++) {
        const a = image.data[(y0 * image.width + x0) * 4 + c]!;
        const b = image.data[(y0 * image.width + x1) * 4 + c]!;
        const d = image.data[(y1 * image.width + x0) * 4 + c]!;
        const e = image.data[(y1 * image.width + x1) * 4 + c]!;
        out[(y * width + x) * 4 + c] = Math.round((a * (1 - wx) + b * wx) * (1 - wy) + (d * (1 - wx) + e * wx) * wy);
      }
    }
  }
  return { width, height, data: out };
}

/**
 * Puts `image` onto a `width`×`height` canvas with its top-left at (`left`, `top`) (negative = cropped), filling the
 * padding by repeating the nearest edge pixel (so a model sees no hard border it would try to continue). This is how a
 * source exported by the plugin at its own shape becomes the job's working canvas (the plugin only moves the bytes).
 */
export function placeOnCanvas(image: RgbaImage, width: number, height: number, left: number, top: number): RgbaImage {
  if (image.width === width && image.height === height && left === 0 && top === 0) return image;
  const data = new Uint8ClampedArray(width * height * 4);
  const src = image.data;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(image.height - 1, Math.max(0, y - top));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(image.width - 1, Math.max(0, x - left));
      const s = (sy * image.width + sx) * 4;
      const d = (y * width + x) * 4;
      data[d] = src[s]!; data[d + 1] = src[s + 1]!; data[d + 2] = src[s + 2]!; data[d + 3] = src[s + 3]!;
    }
  }
  return { width, height, data };
}

/**
 * Default latent → RGB preview factors for SD 1.x/2.x latents (rows = latent channels 0…3, columns = R, G, B), applied
 * to scaled latents and read as RGB in [-1,1]: AUTOMATIC1111's "Approx cheap" preview (sd_samplers_common.py).
 * A manifest may override them with `latent_rgb_factors` (e.g. for SDXL latents).
 */
export const LATENT_RGB_FACTORS: readonly (readonly number[])[] = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
];

/**
 * Cheap preview of latents [1,C,h,w] (no model): RGB in [-1,1] = Σ_c latent_c · factors[c], mapped like
 * tensorToImage, at latent resolution (h × w); the UI scales it up.
 */
export function latentPreview(latents: Float32Array, channels: number, h: number, w: number, factors: readonly (readonly number[])[] = LATENT_RGB_FACTORS): RgbaImage {
  const plane = h * w;
  const data = new Uint8ClampedArray(plane * 4);
  const rows = Math.min(channels, factors.length);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let k = 0; k < rows; k++) v += latents[k * plane + p]! * factors[k]![c]!;
      data[p * 4 + c] = Math.round(Math.min(1, Math.max(0, v / 2 + 0.5)) * 255);
    }
    data[p * 4 + 3] = 255;
  }
  return { width: w, height: h, data };
}
