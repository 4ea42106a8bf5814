/**
 * Runs one model set (manifest JSON + in-memory files) through the REAL runtime path — createOrtSessionAsync (binding,
 * dtype/rank conversion, session hints) under createSessionManager — and a real pipeline. Pure (the `ort` module is a
 * parameter), so the Node tests pass 'onnxruntime-web' and the Chromium page passes 'onnxruntime-web/webgpu'.
 */
import { parseManifest } from '../../ui/core/manifest';
import type { RgbaImage } from '../../ui/core/image';
import { controlNetAsync, inpaintAsync, textToImageAsync } from '../../ui/core/pipelines';
import type { ModelRole } from '../../ui/core/session';
import type { ClipTokenizer } from '../../ui/core/tokenizer/clip-tokenizer';
import { createOrtSessionAsync, sessionHintsFor, type OrtLike } from '../../ui/runtime/ort-session';
import { createSessionManager } from '../../ui/runtime/session-manager';

export type ConventionMode = 'generate' | 'inpaint' | 'controlnet';

export interface ModelFiles {
  readonly model: Uint8Array;
  readonly externalData?: readonly { path: string; data: Uint8Array }[];
}

export interface RunArgs {
  readonly ort: OrtLike;
  readonly provider: 'webgpu' | 'wasm';
  readonly manifestJson: unknown;
  readonly files: Partial<Record<ModelRole, ModelFiles>>;
  readonly tokenizer: ClipTokenizer;
  readonly mode: ConventionMode;
  readonly size?: number;
  readonly steps?: number;
  readonly guidance?: number;
}

export interface RunResult {
  readonly pixels: Uint8ClampedArray;
  /** What session creation had to do (graph optimisation fallback, float64 retyping), per role. */
  readonly notes: Record<string, readonly string[]>;
}

const solid = (w: number, h: number, rgb: readonly number[], where: (x: number, y: number) => boolean = () => true): RgbaImage => {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 4;
    const on = where(x, y);
    data[i] = on ? rgb[0]! : 0; data[i + 1] = on ? rgb[1]! : 0; data[i + 2] = on ? rgb[2]! : 0; data[i + 3] = 255;
  }
  return { width: w, height: h, data };
};

export async function runModelSetAsync(a: RunArgs): Promise<RunResult> {
  const manifest = parseManifest(a.manifestJson);
  const notes: Record<string, string[]> = {};
  const sessions = createSessionManager({
    policy: 'fast',
    createSessionAsync: async (role) => {
      const f = a.files[role];
      const spec = manifest.components[role];
      if (!f || !spec) throw new Error(`no ${role} in this model set`);
      // Sessions copy the bytes they are given; retyping a float64 input edits them in place, so pass a copy.
      const s = await createOrtSessionAsync({
        ort: a.ort, role, modelName: manifest.name, spec, model: f.model.slice(), provider: a.provider,
        ...(f.externalData ? { externalData: f.externalData } : {}),
        ...sessionHintsFor(manifest, role),
        gpuOutputs: role === 'text_encoder' || role === 'controlnet' ? spec.outputs.map((o) => o.name) : [],
      });
      if (s.notes.length) notes[role] = [...s.notes];
      return s;
    },
  });
  const size = a.size ?? 64;
  const base = {
    prompt: 'a red cat', negativePrompt: '', width: size, height: size,
    steps: a.steps ?? manifest.raw.defaults.steps, guidanceScale: a.guidance ?? manifest.raw.defaults.guidance_scale, seed: 42,
  };
  const ctx = { manifest, sessions, tokenizer: a.tokenizer };
  try {
    const result = a.mode === 'generate' ? await textToImageAsync(ctx, base)
      : a.mode === 'inpaint' ? await inpaintAsync(ctx, {
        ...base, strength: 1,
        image: solid(size, size, [30, 60, 220]),
        mask: solid(size, size, [255, 255, 255], (x) => x < size / 2),
      })
      : await controlNetAsync(ctx, {
        ...base, controlScale: 1,
        control: solid(size, size, [255, 255, 255], (x, y) => (x >> 3) === (y >> 3)),
      });
    return { pixels: result.image.data, notes };
  } finally {
    await sessions.releaseAllAsync();
  }
}

/** Largest per-channel difference of two RGBA images, in 0…255 units. */
export function maxPixelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
