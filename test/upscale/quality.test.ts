/** The bench's image-quality metrics and the core resampler, on cases with known answers. */
import { describe, expect, it } from 'vitest';
import { psnrY, ssimY } from '../../bench/common/image-quality';
import { createImage, type RgbaImage } from '../../ui/core/image';
import { resizeImage } from '../../ui/core/upscale';
import { seededRandom } from '../helpers/seeded-random';

const noise = (w: number, h: number, seed: number): RgbaImage => {
  const r = seededRandom(seed);
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i & 3) === 3 ? 255 : 40 + Math.floor(r() * 170);
  return { width: w, height: h, data };
};

describe('PSNR / SSIM (luma)', () => {
  it('identical images: PSNR ∞, SSIM 1', () => {
    const a = noise(40, 30, 1);
    expect(psnrY(a, a)).toBe(Infinity);
    expect(ssimY(a, a)).toBeCloseTo(1, 12);
  });
  it('a +1 step on R, G and B is a luma step of 219/255: PSNR = 20·log10(255·255/219)', () => {
    const a = noise(40, 30, 2);
    const b = { ...a, data: a.data.map((v, i) => ((i & 3) === 3 ? v : v + 1)) };
    expect(psnrY(a, b)).toBeCloseTo(20 * Math.log10((255 * 255) / 219), 6);
    expect(ssimY(a, b)).toBeGreaterThan(0.999);
  });
  it('unrelated noise scores low SSIM', () => {
    expect(ssimY(noise(40, 30, 3), noise(40, 30, 4))).toBeLessThan(0.2);
  });
});

describe('resampler', () => {
  it('keeps a flat image flat, any filter, up or down', () => {
    const flat = createImage(13, 7, [10, 200, 99, 255]);
    for (const f of ['bicubic', 'lanczos', 'bilinear'] as const) {
      for (const [w, h] of [[26, 14], [52, 28], [5, 3]] as const) {
        const out = resizeImage(flat, w, h, f);
        expect(new Set(out.data)).toEqual(new Set([10, 200, 99, 255]));
      }
    }
  });
  it('shrinking a 1-px checkerboard by 2 averages it (antialiased kernel)', () => {
    const c = createImage(16, 16);
    for (let i = 0; i < 256; i++) c.data.fill(((i % 16) + Math.floor(i / 16)) % 2 ? 255 : 0, i * 4, i * 4 + 3);
    const out = resizeImage(c, 8, 8, 'bicubic');
    for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) expect(Math.abs(out.data[(y * 8 + x) * 4]! - 128)).toBeLessThanOrEqual(1);
  });
  it('bicubic ×2 interpolates between known samples (half-pixel centres)', () => {
    const ramp = createImage(8, 1);
    for (let x = 0; x < 8; x++) ramp.data.fill(x * 30, x * 4, x * 4 + 3);
    const out = resizeImage(ramp, 16, 1, 'bicubic');
    // Output pixel 5 sits at source x = 2.25: a linear ramp stays linear under Keys' cubic → 67.5.
    expect(Math.abs(out.data[5 * 4]! - 67.5)).toBeLessThanOrEqual(0.5);
  });
});
