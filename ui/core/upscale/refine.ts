/**
 * Upscale + refine (as Krita AI Diffusion does): after super-resolution, a low-strength img2img pass over the large
 * image in model-sized tiles, so the diffusion model adds detail at the new resolution. Pure: the img2img call is
 * injected (the runtime passes the loaded model's pipeline). Tiles overlap and are blended with linear ramps; each
 * tile is padded by edge repetition to the model's size multiple and cropped back.
 */
import type { RgbaImage } from '../image';
import { tiledImageAsync, type UpscaleResult } from './upscale';

export interface RefineOptions {
  /** Tile side in pixels (the model's native size, e.g. 512), a multiple of `multiple`. */
  readonly tile: number;
  /** Blended overlap between tiles, pixels. */
  readonly overlap: number;
  /** Sizes the model accepts are multiples of this (8 for an SD VAE, 64 for our working sizes). */
  readonly multiple: number;
  /** A static-shape model: every tile is fed at exactly `tile`×`tile` (smaller windows padded, then cropped back). */
  readonly exact?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { done: number; total: number; image: RgbaImage }) => void;
}

/** Edge-repeats `image` to width × height (≥ its own size). */
export function padToSize(image: RgbaImage, width: number, height: number): RgbaImage {
  if (width === image.width && height === image.height) return image;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(y, image.height - 1);
    for (let x = 0; x < width; x++) {
      const sx = Math.min(x, image.width - 1);
      const s = (sy * image.width + sx) * 4;
      data.set(image.data.subarray(s, s + 4), (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

/** Runs `img2img` (same size in, same size out) over `image` in blended tiles. */
export async function refineTiledAsync(image: RgbaImage, img2img: (tile: RgbaImage, index: number) => Promise<RgbaImage>, opts: RefineOptions): Promise<UpscaleResult> {
  if (opts.tile % opts.multiple !== 0) throw new Error(`refine: tile ${opts.tile} must be a multiple of ${opts.multiple}`);
  let index = 0;
  return tiledImageAsync(image, async (window) => {
    const w = opts.exact ? opts.tile : Math.ceil(window.width / opts.multiple) * opts.multiple;
    const h = opts.exact ? opts.tile : Math.ceil(window.height / opts.multiple) * opts.multiple;
    const out = await img2img(padToSize(window, w, h), index++);
    if (out.width !== w || out.height !== h) throw new Error(`refine: a ${w}×${h} tile came back ${out.width}×${out.height}`);
    const plane = window.width * window.height;
    const rgb = new Float32Array(3 * plane);
    for (let y = 0; y < window.height; y++) for (let x = 0; x < window.width; x++) {
      const p = (y * w + x) * 4;
      const q = y * window.width + x;
      rgb[q] = out.data[p]!;
      rgb[plane + q] = out.data[p + 1]!;
      rgb[2 * plane + q] = out.data[p + 2]!;
    }
    return rgb;
  }, {
    scale: 1,
    tiles: { tile: opts.tile, overlap: opts.overlap, pad: 0 },
    cancelMessage: 'Refine cancelled.',
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
}
