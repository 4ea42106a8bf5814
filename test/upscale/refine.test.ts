/** Tiled refine (upscale + refine): tiles at the model's size multiple, blended seams, exact when the model is exact. */
import { describe, expect, it } from 'vitest';
import type { RgbaImage } from '../../ui/core/image';
import { padToSize, planSpans, refineTiledAsync } from '../../ui/core/upscale';
import { seededRandom } from '../helpers/seeded-random';

function photoLike(w: number, h: number): RgbaImage {
  const r = seededRandom(5);
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const p = (y * w + x) * 4;
    data[p] = 80 + 60 * Math.sin(x / 17) + 20 * r(); data[p + 1] = 120 + 50 * Math.cos(y / 23); data[p + 2] = (x + y) % 256; data[p + 3] = 255;
  }
  return { width: w, height: h, data };
}

describe('refineTiledAsync', () => {
  it('feeds model-multiple tiles and reproduces the image exactly through an identity model', async () => {
    const img = photoLike(300, 200);
    const sizes: string[] = [];
    const { image, tiles } = await refineTiledAsync(img, async (t) => { sizes.push(`${t.width}×${t.height}`); return t; }, { tile: 128, overlap: 32, multiple: 64 });
    expect(tiles).toBe(planSpans(300, { tile: 128, overlap: 32, pad: 0 }).length * planSpans(200, { tile: 128, overlap: 32, pad: 0 }).length);
    expect(new Set(sizes)).toEqual(new Set(['128×128']));
    expect(Buffer.compare(Buffer.from(image.data), Buffer.from(img.data))).toBe(0);
  });

  it('blends tiles that disagree: no step at a seam larger than the ramp allows', async () => {
    const img = photoLike(256, 128);
    // Each tile shifts brightness by 8·index: a hard seam would be an 8-level step; blended, steps stay ≤ 8/overlap·k.
    const { image } = await refineTiledAsync(img, async (t, i) => ({ ...t, data: t.data.map((v, j) => ((j & 3) === 3 ? v : v + 8 * i)) }), { tile: 128, overlap: 32, multiple: 64 });
    let maxStep = 0;
    for (let y = 0; y < 128; y++) for (let x = 1; x < 256; x++) {
      const d = (image.data[(y * 256 + x) * 4 + 1]! - img.data[(y * 256 + x) * 4 + 1]!) - (image.data[(y * 256 + x - 1) * 4 + 1]! - img.data[(y * 256 + x - 1) * 4 + 1]!);
      maxStep = Math.max(maxStep, Math.abs(d));
    }
    expect(maxStep).toBeLessThanOrEqual(2); // 8 levels spread over a 32-px ramp, plus rounding
  });

  it('a static-shape model gets every tile at exactly its size (a thin strip is padded to it and cropped back)', async () => {
    const img = photoLike(300, 100);
    const sizes: string[] = [];
    const { image } = await refineTiledAsync(img, async (t) => { sizes.push(`${t.width}×${t.height}`); return t; }, { tile: 128, overlap: 32, multiple: 64, exact: true });
    expect(new Set(sizes)).toEqual(new Set(['128×128']));
    expect(Buffer.compare(Buffer.from(image.data), Buffer.from(img.data))).toBe(0);
  });

  it('pads odd tiles by edge repetition to the multiple and crops them back', async () => {
    const img = photoLike(100, 70);
    const seen: string[] = [];
    const { image } = await refineTiledAsync(img, async (t) => { seen.push(`${t.width}×${t.height}`); return t; }, { tile: 128, overlap: 16, multiple: 64 });
    expect(seen).toEqual(['128×128']);
    expect(Buffer.compare(Buffer.from(image.data), Buffer.from(img.data))).toBe(0);
    const p = padToSize({ width: 1, height: 1, data: new Uint8ClampedArray([1, 2, 3, 4]) }, 2, 2);
    expect([...p.data]).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
  });
});
