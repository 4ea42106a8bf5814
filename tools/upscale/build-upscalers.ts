/**
 * Build step (called by esbuild.config.mjs): the module source that replaces ui/runtime/worker/bundled-upscalers.ts
 * in the worker bundle — ESRGAN-slim ×2 and ×4 converted to ONNX from the npm package, base64, with its licence.
 */
import { convertEsrganSlim } from './esrgan-slim';

export function bundledUpscalersSource(scales: readonly (2 | 4)[] = [2, 4]): { source: string; bytes: number } {
  let bytes = 0;
  const list = scales.map((scale) => {
    const m = convertEsrganSlim(scale);
    bytes += m.onnx.byteLength;
    return {
      id: `esrgan-slim-x${scale}`,
      name: `ESRGAN-slim ×${scale} (UpscalerJS ${m.version}, MIT)`,
      scale: m.scale,
      range: 255,
      receptiveRadius: m.receptiveRadius,
      licence: m.license,
      base64: Buffer.from(m.onnx).toString('base64'),
    };
  });
  return { source: `export const BUNDLED_UPSCALERS = ${JSON.stringify(list)};\n`, bytes };
}
