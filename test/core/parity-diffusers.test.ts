/**
 * Parity with diffusers (issue #11): tiny random-weight models in the real diffusers / transformers classes, exported
 * to ONNX by tools/parity/make_fixtures.py, and the images diffusers' own pipelines made from them with
 * torch.Generator('cpu').manual_seed(seed). Our pipelines run the same ONNX files through the production session
 * wrapper (ui/runtime/ort-session.ts, wasm in Node) and must give the same 8-bit image (≤ 1/255 per channel) and the
 * same tensors at every stage (prompt embeddings, first and last UNet input, decoder input).
 * Regenerate the fixtures with `python3 tools/parity/make_fixtures.py` (tools/parity/README.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import type { RgbaImage } from '../../ui/core/image';
import { parseManifest, type ModelManifest } from '../../ui/core/manifest';
import { controlNetAsync, diffusersReproduction, imageToImageAsync, inpaintAsync, textToImageAsync, type PipelineContext } from '../../ui/core/pipelines';
import { recipe as recipeValidator } from '../../protocol/messages';
import type { ModelRole, ModelSession, SessionSource } from '../../ui/core/session';
import type { HostTensor } from '../../ui/core/tensor';
import { toFloat32 } from '../../ui/core/tensor-math';
import { createOrtSessionAsync, type OrtLike } from '../../ui/runtime/ort-session';
import { loadClipTokenizer } from '../models/proof-fixture';
import { ROOT } from '../helpers/paths';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

const DIR = path.join(ROOT, 'test/fixtures/parity');
const MODELS = path.join(DIR, 'models');

interface F32 { dims: number[]; data: string }
interface Case {
  id: string;
  kind: 'txt2img' | 'lcm' | 'img2img' | 'lcm-img2img' | 'inpaint' | 'controlnet';
  model: string;
  /** The diffusers pipeline class that made the expected image. */
  pipeline: string;
  /** The config of the scheduler diffusers ran (its `scheduler.config`, our manifest keys). */
  scheduler: Record<string, unknown>;
  options: Record<string, unknown> & { seed: string; width: number; height: number };
  inputs: Record<string, { width: number; height: number; rgba: string }>;
  expected: { image: { width: number; height: number; rgb: string }; unetRuns: number; cond: F32; uncond: F32 | null; firstSample: F32; lastSample: F32; decoderInput: F32 };
}

const cases = JSON.parse(fs.readFileSync(path.join(DIR, 'cases.json'), 'utf8')).cases as Case[];
const manifests = JSON.parse(fs.readFileSync(path.join(DIR, 'manifests.json'), 'utf8')) as Record<string, unknown>;
export const tokenizer = loadClipTokenizer();

const bytes = (b64: string): Buffer => Buffer.from(b64, 'base64');
const f32 = (t: F32): Float32Array => {
  const b = bytes(t.data);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const rgba = (i: { width: number; height: number; rgba: string }): RgbaImage => ({ width: i.width, height: i.height, data: new Uint8ClampedArray(bytes(i.rgba)) });

const modelBytes = new Map<string, Uint8Array>();
const load = (file: string): Uint8Array => {
  let b = modelBytes.get(file);
  if (!b) modelBytes.set(file, (b = new Uint8Array(fs.readFileSync(path.join(MODELS, file)))));
  return b;
};

/** A SessionSource over the production wrapper (createOrtSessionAsync, wasm) that records every feed. */
function recordingSource(manifest: ModelManifest): SessionSource & { feeds: Partial<Record<ModelRole, Record<string, HostTensor>[]>>; closeAsync(): Promise<void> } {
  const sessions = new Map<ModelRole, Promise<ModelSession>>();
  const feeds: Partial<Record<ModelRole, Record<string, HostTensor>[]>> = {};
  return {
    feeds,
    async acquireAsync(role) {
      let s = sessions.get(role);
      if (!s) {
        const spec = manifest.components[role]!;
        s = createOrtSessionAsync({ ort: ort as unknown as OrtLike, role, modelName: manifest.name, spec, model: load(spec.model), provider: 'wasm', allowZeroOutput: true });
        sessions.set(role, s);
      }
      const inner = await s;
      return {
        inputNames: inner.inputNames,
        outputNames: inner.outputNames,
        async runAsync(input) {
          const rec: Record<string, HostTensor> = {};
          for (const [k, t] of Object.entries(input)) if (t.kind === 'host') rec[k] = { ...t, data: t.data.slice() as HostTensor['data'] };
          (feeds[role] ??= []).push(rec);
          return inner.runAsync(input);
        },
        releaseAsync: () => inner.releaseAsync(),
      };
    },
    async doneWithAsync() {},
    async closeAsync() {
      for (const s of sessions.values()) await (await s).releaseAsync();
    },
  };
}

const open: { closeAsync(): Promise<void> }[] = [];
const sources = new Map<string, ReturnType<typeof recordingSource>>();
afterAll(async () => {
  for (const s of open) await s.closeAsync();
});

/** Largest |a − b| and the largest |b| (for a relative bar). */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { diff, scale };
}

/** Stage tensors agree to float32 rounding of a different op order (relative 2e-3 of the tensor's range). */
function expectClose(name: string, ours: HostTensor | undefined, want: F32): number {
  expect(ours, name).toBeDefined();
  const { diff, scale } = maxDiff(toFloat32(ours!), f32(want));
  expect(diff, `${name}: max |Δ| ${diff} (range ${scale})`).toBeLessThanOrEqual(2e-3 * Math.max(1, scale));
  return diff;
}

export async function runCase(c: Case, overrides: Record<string, unknown> = {}, model = c.model) {
  const manifest = parseManifest({ ...(manifests[model] as object), scheduler: c.scheduler });
  // One source (sessions created once) per model; the recorded feeds start empty for every case.
  let src = sources.get(model);
  if (!src) {
    sources.set(model, (src = recordingSource(manifest)));
    open.push(src);
  }
  for (const k of Object.keys(src.feeds)) delete src.feeds[k as ModelRole];
  const ctx: PipelineContext = { manifest, sessions: src, tokenizer };
  const seedBig = BigInt(c.options.seed);
  const seed = seedBig <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seedBig) : seedBig;
  const o = { ...c.options, seed, ...overrides } as never as Parameters<typeof textToImageAsync>[1];
  const input = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, rgba(v)]));
  let result;
  switch (c.kind) {
    case 'txt2img': case 'lcm': result = await textToImageAsync(ctx, o); break;
    case 'img2img': case 'lcm-img2img': result = await imageToImageAsync(ctx, { ...o, image: input.image!, strength: c.options.strength as number }); break;
    case 'inpaint': result = await inpaintAsync(ctx, { ...o, image: input.image!, mask: input.mask!, strength: c.options.strength as number }); break;
    case 'controlnet': result = await controlNetAsync(ctx, {
      ...o, control: input.control!, controlScale: c.options.controlScale as number,
      ...(input.image ? { image: input.image, strength: c.options.strength as number } : {}),
    }); break;
  }
  const reproduce = diffusersReproduction(ctx, {
    mode: ({ txt2img: 'txt2img', lcm: 'txt2img', img2img: 'img2img', 'lcm-img2img': 'img2img', inpaint: 'inpaint', controlnet: 'controlnet' } as const)[c.kind],
    seed, steps: c.options.steps as number, ...(typeof c.options.strength === 'number' ? { strength: c.options.strength } : {}),
    withImage: c.kind === 'controlnet' && !!c.inputs.image,
    ...(overrides.latentMask ? { latentMask: overrides.latentMask as 'max' } : {}),
  });
  return { image: result.image, src, reproduce };
}

/** Max per-channel byte difference to diffusers' image; inpaint compares the masked pixels (outside: the source). */
export function imageDiff(c: Case, image: RgbaImage): { max: number; mean: number; outside: number } {
  const want = bytes(c.expected.image.rgb);
  const mask = c.inputs.mask ? bytes(c.inputs.mask.rgba) : null;
  const source = c.inputs.image ? bytes(c.inputs.image.rgba) : null;
  let max = 0;
  let sum = 0;
  let n = 0;
  let outside = 0;
  for (let p = 0; p < image.width * image.height; p++) {
    const inMask = !mask || mask[p * 4]! >= 128;
    for (let ch = 0; ch < 3; ch++) {
      const ours = image.data[p * 4 + ch]!;
      if (!inMask) {
        outside = Math.max(outside, Math.abs(ours - source![p * 4 + ch]!));
        continue;
      }
      const d = Math.abs(ours - want[p * 3 + ch]!);
      max = Math.max(max, d);
      sum += d;
      n++;
    }
  }
  return { max, mean: sum / n, outside };
}

describe('diffusers parity: same image for the same seed (tiny real-class models, production session wrapper)', () => {
  it('the fixtures cover every mode', () => {
    const kinds = new Set(cases.map((c) => c.kind));
    expect([...kinds].sort()).toEqual(['controlnet', 'img2img', 'inpaint', 'lcm', 'lcm-img2img', 'txt2img']);
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  const only = process.env.PARITY_DEBUG;
  if (only) {
    it('debug', async () => {
      for (const c of cases.filter((x) => x.id.includes(only))) {
        const { image, src } = await runCase(c);
        const unet = src.feeds.unet!;
        const cfg = c.expected.uncond !== null;
        if (process.env.PARITY_STEPS) for (const f of unet) console.log('step', Array.from(toFloat32(f.sample!).slice(0, 3)), toFloat32(f.timestep!)[0]);
        const stage = (t: HostTensor | undefined, w: F32) => { const m = maxDiff(toFloat32(t!), f32(w)); return `${m.diff.toExponential(2)}/${m.scale.toFixed(2)}`; };
        console.log(c.id, JSON.stringify(imageDiff(c, image)), 'runs', unet.length, c.expected.unetRuns, 'cond', stage(unet[0]!.encoder_hidden_states, c.expected.cond),
          'first', stage(unet[0]!.sample, c.expected.firstSample), 'last', stage(unet[unet.length - (cfg ? 2 : 1)]!.sample, c.expected.lastSample),
          'dec', stage(src.feeds.vae_decoder![0]!.latent_sample, c.expected.decoderInput));
      }
    });
    return;
  }
  for (const c of cases) {
    it(`${c.id}: image within 1/255 of diffusers, stages match`, async () => {
      const { image, src, reproduce } = await runCase(c);
      const d = imageDiff(c, image);
      expect(d.max, `${c.id}: max byte Δ ${d.max}, mean ${d.mean.toFixed(3)}`).toBeLessThanOrEqual(1);
      expect(d.outside).toBe(0);
      const unet = src.feeds.unet!;
      const cfg = c.expected.uncond !== null;
      expect(unet.length).toBe(c.expected.unetRuns * (cfg ? 2 : 1));
      expectClose('cond embeddings', unet[0]!.encoder_hidden_states, c.expected.cond);
      if (cfg) expectClose('uncond embeddings', unet[1]!.encoder_hidden_states, c.expected.uncond!);
      expectClose('first UNet sample', unet[0]!.sample, c.expected.firstSample);
      // Pure-noise starts: the initial latents are torch's randn bit for bit (AVX2 kernel, as the fixtures were made).
      if (c.kind === 'txt2img' || c.kind === 'lcm' || (c.kind === 'controlnet' && !c.inputs.image)) {
        expect(maxDiff(toFloat32(unet[0]!.sample!), f32(c.expected.firstSample)).diff, 'initial noise is torch’s, bit for bit').toBe(0);
      }
      expectClose('last UNet sample', unet[unet.length - (cfg ? 2 : 1)]!.sample, c.expected.lastSample);
      expectClose('decoder input', src.feeds.vae_decoder![0]!.latent_sample, c.expected.decoderInput);
      // The recipe stored on the layer names exactly the diffusers run that made the expected image.
      expect(reproduce).toMatchObject({ pipeline: c.pipeline, scheduler: c.scheduler, seed: c.options.seed, generator: 'cpu', exact: true });
      const stored = recipeValidator.validate({
        version: 1, mode: 'generate', prompt: '', negativePrompt: '', seed: 0, steps: 1, guidance: 0, width: 64, height: 64, modelId: 'm',
        sourceNodeIds: [], pluginVersion: '0', createdAt: 'now', diffusers: reproduce,
      });
      expect(stored.diffusers).toEqual(reproduce);
    });
  }
});

describe('named departures from diffusers, and what they cost (README, parity section)', () => {
  const byId = (id: string): Case => cases.find((c) => c.id === id)!;

  it('a VAE encoder that returns only the posterior mean: not exact, and the recipe says so', async () => {
    const costs: string[] = [];
    for (const id of ['sd1-img2img-euler-0.3', 'sd1-img2img-euler-0.6', 'sd1-inpaint-blend-0.7']) {
      const c = byId(id);
      const { image, reproduce } = await runCase(c, {}, 'sd1-mean');
      const d = imageDiff(c, image);
      costs.push(`${id}: max ${d.max}, mean ${d.mean.toFixed(2)}`);
      expect(d.max).toBeGreaterThan(1);
      expect(reproduce.exact).toBe(false);
      expect(reproduce.encoder).toBe('posterior-mean');
    }
    console.log(`posterior mean instead of a posterior sample (byte Δ to diffusers): ${costs.join('; ')}`);
  });

  it('latentMask "max" (thin strokes always repaint): not exact, and the recipe says so', async () => {
    const costs: string[] = [];
    for (const id of ['sd1-inpaint-blend-0.7', 'inpaint9-1.0']) {
      const c = byId(id);
      const { image, reproduce } = await runCase(c, { latentMask: 'max' });
      const d = imageDiff(c, image);
      costs.push(`${id}: max ${d.max}, mean ${d.mean.toFixed(2)}`);
      expect(d.max).toBeGreaterThan(1);
      expect(d.outside).toBe(0);
      expect(reproduce).toMatchObject({ exact: false, latentMask: 'max' });
    }
    console.log(`latent mask max-pooled instead of nearest (byte Δ to diffusers inside the mask): ${costs.join('; ')}`);
  });
});
