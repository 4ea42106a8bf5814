/**
 * Full-reference image quality, as super-resolution papers report it: PSNR and SSIM on the luma channel (ITU-R 601
 * Y, 16..235 as in MATLAB's rgb2ycbcr), with `border` pixels cropped on every side (the scale, by convention).
 * SSIM: Wang et al. 2004, 11×11 Gaussian window σ = 1.5, K1 = 0.01, K2 = 0.03, L = 255, mean over valid windows.
 */
import type { RgbaImage } from '../../ui/core/image';

export function lumaY(image: RgbaImage, border = 0): { w: number; h: number; y: Float64Array } {
  const w = image.width - 2 * border, h = image.height - 2 * border;
  const y = new Float64Array(w * h);
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) {
    const p = ((r + border) * image.width + c + border) * 4;
    y[r * w + c] = 16 + (65.481 * image.data[p]! + 128.553 * image.data[p + 1]! + 24.966 * image.data[p + 2]!) / 255;
  }
  return { w, h, y };
}

function sameSize(a: RgbaImage, b: RgbaImage): void {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`quality: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
}

export function psnrY(a: RgbaImage, b: RgbaImage, border = 0): number {
  sameSize(a, b);
  const ya = lumaY(a, border).y, yb = lumaY(b, border).y;
  let se = 0;
  for (let i = 0; i < ya.length; i++) se += (ya[i]! - yb[i]!) ** 2;
  const mse = se / ya.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

export function ssimY(a: RgbaImage, b: RgbaImage, border = 0): number {
  sameSize(a, b);
  const A = lumaY(a, border), B = lumaY(b, border);
  const { w, h } = A;
  const R = 5;
  const g: number[] = [];
  let gs = 0;
  for (let i = -R; i <= R; i++) { const v = Math.exp(-(i * i) / (2 * 1.5 * 1.5)); g.push(v); gs += v; }
  for (let i = 0; i < g.length; i++) g[i]! /= gs;
  // Separable Gaussian filtering of x, y, x², y², xy ("valid" region only).
  const blur = (f: (i: number) => number): Float64Array => {
    const tmp = new Float64Array((w - 2 * R) * h);
    const tw = w - 2 * R;
    for (let r = 0; r < h; r++) for (let c = 0; c < tw; c++) {
      let s = 0;
      for (let k = 0; k < g.length; k++) s += g[k]! * f(r * w + c + k);
      tmp[r * tw + c] = s;
    }
    const out = new Float64Array(tw * (h - 2 * R));
    for (let r = 0; r < h - 2 * R; r++) for (let c = 0; c < tw; c++) {
      let s = 0;
      for (let k = 0; k < g.length; k++) s += g[k]! * tmp[(r + k) * tw + c]!;
      out[r * tw + c] = s;
    }
    return out;
  };
  const x = A.y, y = B.y;
  const mx = blur((i) => x[i]!), my = blur((i) => y[i]!);
  const sxx = blur((i) => x[i]! * x[i]!), syy = blur((i) => y[i]! * y[i]!), sxy = blur((i) => x[i]! * y[i]!);
  const C1 = (0.01 * 255) ** 2, C2 = (0.03 * 255) ** 2;
  let sum = 0;
  for (let i = 0; i < mx.length; i++) {
    const ux = mx[i]!, uy = my[i]!;
    const vx = sxx[i]! - ux * ux, vy = syy[i]! - uy * uy, cxy = sxy[i]! - ux * uy;
    sum += ((2 * ux * uy + C1) * (2 * cxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
  }
  return sum / mx.length;
}
