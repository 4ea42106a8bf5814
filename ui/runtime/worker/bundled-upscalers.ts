/**
 * The upscalers bundled into the engine worker. This file is the unbundled default (none); esbuild.config.mjs
 * replaces its contents at build time with ESRGAN-slim ×2/×4 converted from the `@upscalerjs/esrgan-slim` npm package
 * (tools/upscale/build-upscalers.ts), base64-encoded, with the package's MIT licence text.
 */
export interface BundledUpscaler {
  readonly id: string;
  readonly name: string;
  readonly scale: number;
  readonly range: number;
  readonly receptiveRadius: number;
  readonly licence: string;
  readonly base64: string;
}

export const BUNDLED_UPSCALERS: readonly BundledUpscaler[] = [];
