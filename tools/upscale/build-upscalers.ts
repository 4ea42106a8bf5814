/**
 * Build step (called by esbuild.config.mjs): ESRGAN-slim ×2 and ×4 converted to ONNX from the npm package, with what
 * the runtime needs to know about them and the package's MIT licence (which travels with the bytes).
 */
import type { UpscalerInfo } from '../../ui/runtime/upscaler';
import { convertEsrganSlim } from './esrgan-slim';

export interface BuiltUpscaler extends UpscalerInfo {
  readonly onnx: Uint8Array;
}

export function buildUpscalers(scales: readonly (2 | 4)[] = [2, 4]): BuiltUpscaler[] {
  return scales.map((scale) => {
    const m = convertEsrganSlim(scale);
    return {
      id: `esrgan-slim-x${scale}`,
      name: `ESRGAN-slim ×${scale} (UpscalerJS ${m.version}, MIT)`,
      scale: m.scale,
      range: 255,
      receptiveRadius: m.receptiveRadius,
      licence: m.license,
      onnx: m.onnx,
    };
  });
}
