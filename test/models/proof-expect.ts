/**
 * Known answers for proof-model runs: what image a latent decodes to, solid colours, and image comparison.
 * Pure (no Node APIs).
 */
import type { RgbaImage } from '../../ui/core/image';
import { byteToUnit, latentToRgb, rgbToLatent, unitToByte } from './proof-model';

/** The image the proof VAE decoder makes from scaled latents [1,4,h,w] (each cell → an 8×8 block). */
export function imageFromLatents(latents: ArrayLike<number>, h: number, w: number): RgbaImage {
  const plane = h * w;
  const width = w * 8;
  const height = h * 8;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const cell = (y >> 3) * w + (x >> 3);
      const rgb = latentToRgb([0, 1, 2, 3].map((k) => latents[k * plane + cell]!));
      const o = (y * width + x) * 4;
      rgb.forEach((v, c) => (data[o + c] = unitToByte(v)));
      data[o + 3] = 255;
    }
  }
  return { width, height, data };
}

/** The 8-bit colour a [-1,1] colour becomes. */
export const bytesOf = (unit: readonly number[]): number[] => unit.map(unitToByte);

/** [-1,1] colour of 8-bit RGB. */
export const unitOf = (rgb: readonly number[]): number[] => rgb.map(byteToUnit);

/** Scaled latent (least norm) of an 8-bit colour. */
export const latentOfColour = (rgb: readonly number[]): number[] => rgbToLatent(unitOf(rgb));

/** Largest per-channel difference (RGBA) between two same-size images; Infinity when sizes differ. */
export function maxDiff(a: RgbaImage, b: RgbaImage): number {
  if (a.width !== b.width || a.height !== b.height) return Infinity;
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

/** Largest difference of the pixels selected by `where` from the colour `rgb` (RGB only). */
export function maxDiffFromColour(img: RgbaImage, rgb: readonly number[], where: (x: number, y: number) => boolean = () => true): number {
  let m = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (!where(x, y)) continue;
      const o = (y * img.width + x) * 4;
      for (let c = 0; c < 3; c++) m = Math.max(m, Math.abs(img.data[o + c]! - rgb[c]!));
    }
  }
  return m;
}

/** A deterministic, non-constant test picture (every pixel differs from its neighbours), opaque. */
export function patternImage(width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      data[o] = (x * 7 + y * 3) % 256;
      data[o + 1] = (x * 5 + y * 11 + 60) % 256;
      data[o + 2] = (x * 13 + y * 2 + 120) % 256;
      data[o + 3] = 255;
    }
  }
  return { width, height, data };
}

/** An image filled by `colour(x, y)` (RGBA). */
export function paintImage(width: number, height: number, colour: (x: number, y: number) => readonly number[]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(colour(x, y), (y * width + x) * 4);
  return { width, height, data };
}
