/**
 * Boost resolution on this device: a bundled super-resolution model (ESRGAN-slim ×2/×4, converted at build time from
 * the MIT npm package by tools/upscale) run through the core's tiled upscaler on WebGPU or wasm. No download, no
 * catalogue entry: the bytes come with the app (see esbuild.config.mjs, `virtual:upscalers`).
 */
import { AppError } from '../../protocol/errors';
import type { RgbaImage } from '../core/image';
import type { ModelSession } from '../core/session';
import type { HostTensor } from '../core/tensor';
import { DEFAULT_TILE, upscaleImageAsync } from '../core/upscale';
import type { OrtLike, OrtSessionLike } from './ort-session';
import type { Provider } from './provider-choice';

/** What the app and the tiler need to know about a built-in upscaler (shared by the build, the worker protocol and here). */
export interface UpscalerInfo {
  readonly id: string;
  readonly name: string;
  readonly scale: number;
  /** Pixel range of the model's input and output (255 for ESRGAN-slim). */
  readonly range: number;
  /** Receptive radius in input pixels (the tiles' context pad covers it, so tiling is exact). */
  readonly receptiveRadius: number;
  readonly licence: string;
}

/** A built-in upscaler: what the tiler needs to know about it, and its model bytes. */
export interface UpscalerModel extends UpscalerInfo {
  loadAsync(): Promise<Uint8Array>;
}

export const upscalerId = (scale: number): string => `esrgan-slim-x${scale}`;

function wrap(ort: OrtLike, s: OrtSessionLike): ModelSession {
  return {
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    async runAsync(feeds) {
      const f: Record<string, ReturnType<typeof tensor>> = {};
      const tensor = (t: HostTensor) => new ort.Tensor('float32', t.data, [...t.dims]);
      for (const [k, v] of Object.entries(feeds)) {
        if (v.kind !== 'host') throw new AppError('INTERNAL', 'The upscaler takes host tensors only.');
        f[k] = tensor(v);
      }
      const out = await s.run(f);
      const r: Record<string, HostTensor> = {};
      for (const [k, v] of Object.entries(out)) {
        const data = (v.data ?? (await v.getData?.())) as Float32Array;
        r[k] = { kind: 'host', dtype: 'float32', dims: [...v.dims], data };
        v.dispose?.();
      }
      return r;
    },
    releaseAsync: () => s.release(),
  };
}

export interface BoostOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { done: number; total: number; image: RgbaImage }) => void;
}

/** Keeps one upscaler session warm (the last one used); `boostAsync` runs a whole image. */
export function createUpscalerRunner(ort: OrtLike, models: readonly UpscalerModel[]) {
  let warm: { id: string; provider: Provider; session: ModelSession } | null = null;

  const sessionForAsync = async (m: UpscalerModel, provider: Provider): Promise<ModelSession> => {
    if (warm && warm.id === m.id && warm.provider === provider) return warm.session;
    if (warm) await warm.session.releaseAsync().catch(() => undefined);
    warm = null;
    const bytes = await m.loadAsync();
    const s = await ort.InferenceSession.create(bytes, { executionProviders: [provider], graphOptimizationLevel: 'all' });
    warm = { id: m.id, provider, session: wrap(ort, s) };
    return warm.session;
  };

  return {
    models,
    find: (scale: number): UpscalerModel | undefined => models.find((m) => m.scale === scale),
    async boostAsync(image: RgbaImage, scale: number, provider: Provider, opts: BoostOptions = {}): Promise<RgbaImage> {
      const m = models.find((x) => x.scale === scale);
      if (!m) {
        throw new AppError('INVALID_INPUT', `There is no ×${scale} upscaler in this build (available: ${models.map((x) => `×${x.scale}`).join(', ') || 'none'}).`, {
          hint: 'Pick ×2 or ×4.',
        });
      }
      if (opts.signal?.aborted) throw new AppError('CANCELLED', 'Upscale cancelled.');
      const session = await sessionForAsync(m, provider);
      const pad = Math.max(DEFAULT_TILE.pad, m.receptiveRadius);
      const { image: out } = await upscaleImageAsync(image, session, {
        scale: m.scale, range: m.range, tile: DEFAULT_TILE.tile, overlap: DEFAULT_TILE.overlap, pad,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
      return out;
    },
    async closeAsync(): Promise<void> {
      if (warm) await warm.session.releaseAsync().catch(() => undefined);
      warm = null;
    },
  };
}
export type UpscalerRunner = ReturnType<typeof createUpscalerRunner>;

/** A nearest-neighbour thumbnail (≤ `maxSide`) of a large, partly finished result, for progress previews. */
export function boostThumbnail(image: RgbaImage, maxSide: number): RgbaImage {
  const k = Math.min(1, maxSide / Math.max(image.width, image.height));
  const w = Math.max(1, Math.round(image.width * k));
  const h = Math.max(1, Math.round(image.height * k));
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(image.height - 1, Math.floor((y + 0.5) / k));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(image.width - 1, Math.floor((x + 0.5) / k));
      const s = (sy * image.width + sx) * 4;
      data.set(image.data.subarray(s, s + 4), (y * w + x) * 4);
    }
  }
  return { width: w, height: h, data };
}
