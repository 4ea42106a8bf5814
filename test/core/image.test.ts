/**
 * ui/core/image.ts: PNG decode/encode of every colour type (and the real reference images), tensor conversions,
 * masks, compositing, resizing and the latent preview.
 */
import fs from 'node:fs';
import path from 'node:path';
import { encode as encodePngRaw } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../protocol/errors';
import {
  compositeWithMask, createImage, decodePng, downsampleMask, encodePng, imageToTensor, imageToUnitTensor, isRgbaImage,
  latentPreview, LATENT_RGB_FACTORS, maskImageTensor, maskToBinary, maskToWeights, resizeBilinear, tensorToImage, type RgbaImage,
} from '../../ui/core/image';
import { fromHalf, toHalf } from '../../ui/core/tensor-math';
import { ASSETS } from '../helpers/paths';

const px = (img: RgbaImage, x: number, y: number): number[] => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));

describe('PNG', () => {
  it('round-trips RGBA8 exactly', () => {
    const img: RgbaImage = { width: 3, height: 2, data: Uint8ClampedArray.from([1, 2, 3, 4, 250, 251, 252, 0, 9, 8, 7, 128, 0, 0, 0, 255, 255, 255, 255, 255, 10, 20, 30, 40]) };
    const back = decodePng(encodePng(img));
    expect([back.width, back.height]).toEqual([3, 2]);
    expect(Array.from(back.data)).toEqual(Array.from(img.data));
  });

  it('converts gray, gray+alpha, RGB, 16-bit RGBA, 1-bit gray and indexed (with alpha) to RGBA8', () => {
    const gray = decodePng(encodePngRaw({ width: 2, height: 1, channels: 1, depth: 8, data: Uint8Array.from([10, 200]) }));
    expect(Array.from(gray.data)).toEqual([10, 10, 10, 255, 200, 200, 200, 255]);
    const ga = decodePng(encodePngRaw({ width: 1, height: 1, channels: 2, depth: 8, data: Uint8Array.from([90, 30]) }));
    expect(Array.from(ga.data)).toEqual([90, 90, 90, 30]);
    const rgb = decodePng(encodePngRaw({ width: 1, height: 1, channels: 3, depth: 8, data: Uint8Array.from([1, 2, 3]) }));
    expect(Array.from(rgb.data)).toEqual([1, 2, 3, 255]);
    const deep = decodePng(encodePngRaw({ width: 1, height: 1, channels: 4, depth: 16, data: Uint16Array.from([0xffff, 0x8000, 0x01ff, 0x7f00]) }));
    expect(Array.from(deep.data)).toEqual([255, 128, 1, 127]);
    const bits = decodePng(encodePngRaw({ width: 10, height: 2, channels: 1, depth: 1, data: Uint8Array.from([0b10100000, 0b01000000, 0b01000000, 0b10000000]) }));
    expect([0, 1, 2, 3, 9].map((x) => px(bits, x, 0)[0])).toEqual([255, 0, 255, 0, 255]);
    expect([0, 1, 8].map((x) => px(bits, x, 1)[0])).toEqual([0, 255, 255]);
    const indexed = decodePng(encodePngRaw({ width: 2, height: 1, channels: 1, depth: 8, data: Uint8Array.from([1, 0]), palette: [[40, 50, 60, 0], [10, 20, 30, 255]] }));
    expect(Array.from(indexed.data)).toEqual([10, 20, 30, 255, 40, 50, 60, 0]);
  });

  it('decodes the real reference images (RGB, RGBA, 8-bit gray)', () => {
    const dir = path.join(ASSETS, 'images');
    const photo = decodePng(new Uint8Array(fs.readFileSync(path.join(dir, 'overture-creations-5sI6fQgYIuo.png'))));
    expect([photo.width, photo.height]).toEqual([512, 512]);
    expect(isRgbaImage(photo)).toBe(true);
    const binary = decodePng(new Uint8Array(fs.readFileSync(path.join(dir, 'overture-creations-5sI6fQgYIuo_mask_binary.png'))));
    const values = new Set<number>();
    for (let p = 0; p < 512 * 512; p++) values.add(binary.data[p * 4]!);
    expect([...values].sort((a, b) => a - b)).toEqual([0, 255]);
    const room = decodePng(new Uint8Array(fs.readFileSync(path.join(dir, 'controlnet_room.png'))));
    expect([room.width, room.height]).toEqual([564, 752]);
  });

  it('throws IMAGE_DECODE_FAILED for bytes that are not a PNG, and for a truncated PNG', () => {
    for (const bytes of [new Uint8Array([1, 2, 3]), encodePng(createImage(8, 8)).slice(0, 40)]) {
      let err: unknown;
      try {
        decodePng(bytes);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('IMAGE_DECODE_FAILED');
    }
  });
});

describe('tensors', () => {
  it('image → [-1,1] tensor → image is exact for opaque images; alpha is composited over white', () => {
    const img: RgbaImage = { width: 2, height: 1, data: Uint8ClampedArray.from([0, 128, 255, 255, 17, 99, 201, 255]) };
    const t = imageToTensor(img);
    expect(t[0]).toBe(-1); // R plane first (NCHW)
    expect(t[1]).toBeCloseTo(17 / 127.5 - 1, 6);
    expect(Array.from(tensorToImage(t, 2, 1).data)).toEqual(Array.from(img.data));
    const clear = imageToTensor({ width: 1, height: 1, data: Uint8ClampedArray.from([0, 0, 0, 0]) });
    expect(Array.from(clear)).toEqual([1, 1, 1]);
  });

  it('tensor → image clamps to [0,255] and maps NaN to black; the wrong length throws', () => {
    const img = tensorToImage(Float32Array.from([-3, 3, Number.NaN]), 1, 1);
    expect(Array.from(img.data)).toEqual([0, 255, 0, 255]);
    expect(() => tensorToImage(new Float32Array(5), 1, 1)).toThrow(/needs 3 values/);
  });

  it('control images go to [0,1] with transparency as black', () => {
    const t = imageToUnitTensor({ width: 1, height: 1, data: Uint8ClampedArray.from([255, 51, 0, 255]) });
    expect(Array.from(t)).toEqual([1, Math.fround(0.2), 0]);
    expect(Array.from(imageToUnitTensor({ width: 1, height: 1, data: Uint8ClampedArray.from([255, 255, 255, 0]) }))).toEqual([0, 0, 0]);
  });

  it('float16 conversion round-trips representable values and rounds to nearest even', () => {
    for (const v of [0, 1, -2.5, 999, 65504, 6.103515625e-5, 5.960464477539063e-8]) expect(fromHalf(toHalf(v))).toBe(v);
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // halfway → even
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(fromHalf(toHalf(1e6))).toBe(Infinity);
    expect(Number.isNaN(fromHalf(toHalf(Number.NaN)))).toBe(true);
  });
});

describe('masks and compositing', () => {
  const mask: RgbaImage = { width: 16, height: 8, data: new Uint8ClampedArray(16 * 8 * 4) };
  // White opaque at (9,1) only, grey 100 at (0,0), white but transparent at (3,3).
  mask.data.set([255, 255, 255, 255], (1 * 16 + 9) * 4);
  mask.data.set([100, 100, 100, 255], 0);
  mask.data.set([255, 255, 255, 0], (3 * 16 + 3) * 4);

  it('weights = luminance × alpha; binary at 0.5', () => {
    const w = maskToWeights(mask);
    expect(w[0]).toBeCloseTo(100 / 255, 6);
    expect(w[1 * 16 + 9]).toBeCloseTo(1, 6);
    expect(w[3 * 16 + 3]).toBe(0);
    const b = maskToBinary(mask);
    expect(b.reduce((s, v) => s + v, 0)).toBe(1);
  });

  it('downsamples nearest (top-left pixel, as torch F.interpolate) or max (any pixel)', () => {
    const b = maskToBinary(mask);
    expect(Array.from(downsampleMask(b, 16, 8, 8, 'nearest'))).toEqual([0, 0]);
    expect(Array.from(downsampleMask(b, 16, 8, 8, 'max'))).toEqual([0, 1]);
    const full = new Float32Array(16 * 8);
    full[8] = 1;
    expect(Array.from(downsampleMask(full, 16, 8, 8, 'nearest'))).toEqual([0, 1]);
  });

  it('masked image tensor zeroes masked pixels in every channel', () => {
    const t = maskImageTensor(Float32Array.from([0.5, 0.7, -0.5, 0.2, 0.1, 0.3]), Float32Array.from([1, 0]));
    expect(Array.from(t)).toEqual([0, 0.7, 0, 0.2, 0, 0.3].map((v) => Math.fround(v)));
  });

  it('composite keeps weight-0 pixels byte-identical (alpha too), takes weight-1 pixels, blends between', () => {
    const original: RgbaImage = { width: 3, height: 1, data: Uint8ClampedArray.from([10, 20, 30, 40, 10, 20, 30, 40, 100, 100, 100, 255]) };
    const generated = createImage(3, 1, [200, 200, 200, 255]);
    const out = compositeWithMask(original, generated, Float32Array.from([0, 1, 0.5]));
    expect(Array.from(out.data)).toEqual([10, 20, 30, 40, 200, 200, 200, 255, 150, 150, 150, 255]);
    expect(() => compositeWithMask(original, createImage(2, 1), Float32Array.from([0, 0, 0]))).toThrow(/sizes differ/);
  });
});

describe('resize and preview', () => {
  it('bilinear resize: same size returns the input; a constant stays constant; 2× down averages pairs', () => {
    const img = createImage(4, 2, [10, 20, 30, 255]);
    expect(resizeBilinear(img, 4, 2)).toBe(img);
    const big = resizeBilinear(img, 13, 7);
    expect(new Set(Array.from(big.data)).size).toBeLessThanOrEqual(4);
    const ramp: RgbaImage = { width: 4, height: 1, data: Uint8ClampedArray.from([0, 0, 0, 255, 100, 0, 0, 255, 200, 0, 0, 255, 250, 0, 0, 255]) };
    expect(Array.from(resizeBilinear(ramp, 2, 1).data)).toEqual([50, 0, 0, 255, 225, 0, 0, 255]);
  });

  it('latent preview maps channels with the factors at latent resolution', () => {
    const latents = Float32Array.from([1, 0, 0, 0]); // 4 channels × 1 pixel: channel 0 = 1
    const img = latentPreview(latents, 4, 1, 1);
    expect(px(img, 0, 0)).toEqual(LATENT_RGB_FACTORS[0]!.map((v) => Math.round((v / 2 + 0.5) * 255)).concat(255));
    const custom = latentPreview(Float32Array.from([0.5, 0, 0, 0]), 4, 1, 1, [[1, -1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    expect(px(custom, 0, 0)).toEqual([191, 64, 128, 255]);
  });
});
