/**
 * `npm run bench -- --only upscale`: super-resolution quality on real photos (../shared/assets/images). Each photo is
 * cropped to a multiple of the scale, shrunk with antialiased bicubic (the usual SR benchmark degradation), then
 * restored three ways — bicubic, Lanczos-3, and ESRGAN-slim (converted from the npm package, run tiled through the
 * app's own core on onnxruntime-web wasm) — and compared with the original: PSNR and SSIM on luma, border = scale.
 * Writes side-by-side crops to test-results/upscale/ (original | bicubic | Lanczos | ESRGAN, each ×2 nearest).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import { decodePng, encodePng, type RgbaImage } from '../../ui/core/image';
import { float32SessionAsync } from '../../test/helpers/ort-float32-session';
import { cropImage, resizeImage, upscaleImageAsync } from '../../ui/core/upscale';
import { convertEsrganSlim } from '../../tools/upscale/esrgan-slim';
import { psnrY, ssimY } from '../common/image-quality';
import { figure, type Figure } from '../common/report';
import type { BenchPaths, SectionResult } from './node-bench';

/** Photographs only (the two ControlNet line drawings are not photos). */
export const UPSCALE_PHOTOS = ['controlnet_house.png', 'controlnet_room.png', 'overture-creations-5sI6fQgYIuo.png'] as const;

/** Images side by side with a 4-px gap, each enlarged ×z (nearest) so pixels are visible. */
function sideBySide(images: readonly RgbaImage[], z: number): RgbaImage {
  const gap = 4;
  const w = images.reduce((n, im) => n + im.width * z, 0) + gap * (images.length - 1);
  const h = Math.max(...images.map((im) => im.height * z));
  const data = new Uint8ClampedArray(w * h * 4).fill(255);
  let x0 = 0;
  for (const im of images) {
    for (let y = 0; y < im.height * z; y++) for (let x = 0; x < im.width * z; x++) {
      const s = (Math.floor(y / z) * im.width + Math.floor(x / z)) * 4;
      data.set(im.data.subarray(s, s + 4), (y * w + x0 + x) * 4);
    }
    x0 += im.width * z + gap;
  }
  return { width: w, height: h, data };
}

export interface UpscaleRow {
  readonly photo: string;
  readonly scale: number;
  readonly method: 'bicubic' | 'lanczos' | 'esrgan-slim';
  readonly psnr: number;
  readonly ssim: number;
  readonly ms: number;
}

export async function upscaleQualityAsync(paths: BenchPaths, log: (s: string) => void): Promise<SectionResult & { rows: UpscaleRow[] }> {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const crops = path.join(paths.root, 'test-results', 'upscale');
  fs.mkdirSync(crops, { recursive: true });
  const rows: UpscaleRow[] = [];
  for (const scale of [2, 4] as const) {
    const model = convertEsrganSlim(scale);
    const session = await float32SessionAsync(model.onnx);
    for (const name of UPSCALE_PHOTOS) {
      const full = decodePng(new Uint8Array(fs.readFileSync(path.join(paths.assets, 'images', name))));
      const hr = cropImage(full, 0, 0, full.width - (full.width % scale), full.height - (full.height % scale));
      const lr = resizeImage(hr, hr.width / scale, hr.height / scale, 'bicubic');
      const out: Partial<Record<UpscaleRow['method'], RgbaImage>> = {};
      for (const method of ['bicubic', 'lanczos', 'esrgan-slim'] as const) {
        const t0 = performance.now();
        out[method] = method === 'esrgan-slim'
          ? (await upscaleImageAsync(lr, session, { scale, range: 255 })).image
          : resizeImage(lr, hr.width, hr.height, method);
        const ms = performance.now() - t0;
        rows.push({ photo: name, scale, method, psnr: psnrY(hr, out[method]!, scale), ssim: ssimY(hr, out[method]!, scale), ms });
        log(`upscale ×${scale} ${name} ${method}: PSNR ${rows.at(-1)!.psnr.toFixed(2)} dB, SSIM ${rows.at(-1)!.ssim.toFixed(4)}, ${Math.round(ms)} ms`);
      }
      // A detailed 96² region from the middle of the photo, original | bicubic | Lanczos | ESRGAN.
      const cx = Math.floor(hr.width / 2 - 48), cy = Math.floor(hr.height / 2 - 48);
      const region = (im: RgbaImage) => cropImage(im, cx, cy, 96, 96);
      const strip = sideBySide([hr, out.bicubic!, out.lanczos!, out['esrgan-slim']!].map(region), 3);
      fs.writeFileSync(path.join(crops, `x${scale}-${name.replace(/\.png$/, '')}.png`), encodePng(strip));
      if (name === UPSCALE_PHOTOS[0]) fs.writeFileSync(path.join(crops, `x${scale}-input-lr.png`), encodePng(lr));
    }
    await session.releaseAsync();
  }
  const mean = (scale: number, method: UpscaleRow['method'], k: 'psnr' | 'ssim' | 'ms') => {
    const r = rows.filter((x) => x.scale === scale && x.method === method);
    return r.reduce((n, x) => n + x[k], 0) / r.length;
  };
  const figures: Figure[] = [];
  const S = 'Upscale quality (3 real photos, bicubic-shrunk then restored; luma)';
  for (const scale of [2, 4]) {
    for (const method of ['bicubic', 'lanczos', 'esrgan-slim'] as const) {
      figures.push(figure(S, `×${scale} ${method}: mean PSNR`, mean(scale, method, 'psnr'), { unit: 'dB', digits: 2 }));
      figures.push(figure(S, `×${scale} ${method}: mean SSIM`, mean(scale, method, 'ssim'), { digits: 4 }));
    }
    figures.push(figure(S, `×${scale} ESRGAN − bicubic PSNR`, mean(scale, 'esrgan-slim', 'psnr') - mean(scale, 'bicubic', 'psnr'),
      { unit: 'dB', digits: 2, target: '> 0', pass: (v) => v > 0 }));
    figures.push(figure(S, `×${scale} ESRGAN − bicubic SSIM`, mean(scale, 'esrgan-slim', 'ssim') - mean(scale, 'bicubic', 'ssim'),
      { digits: 4, target: '> 0', pass: (v) => v > 0 }));
    const lrPixels = rows.filter((x) => x.scale === scale && x.method === 'esrgan-slim').length;
    void lrPixels;
    figures.push(figure(S, `×${scale} ESRGAN tiled wasm time per photo (Node, 1 thread)`, mean(scale, 'esrgan-slim', 'ms'), { unit: 'ms', digits: 0 }));
  }
  return { figures, details: { rows }, rows };
}
