/**
 * The Node half of `npm run bench` (bundled by bench/run.mjs into bench-results/node-bench.mjs):
 * model generation, pipeline overhead on wasm, session creation, first preview, op-mix scaling at full width,
 * image I/O, peak memory per policy (in child processes, one per policy), download throughput and resume cost.
 * Every section returns figures; bench/run.mjs prints and saves them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import { createClipTokenizer, type ClipTokenizer } from '../../ui/core/tokenizer/clip-tokenizer';
import { decodePng, encodePng, imageToTensor, resizeBilinear, tensorToImage } from '../../ui/core/image';
import type { ModelRole } from '../../ui/core/session';
import { buildBenchModelSet, type BenchModelSet } from '../graphs/bench-model-set';
import { createGraphBuilder } from '../graphs/graph-builder';
import { parseManifest } from '../../ui/core/manifest';
import { BENCH_CONFIG, TINY_CONFIG, buildUnetBlock, type GeneratedModel } from '../graphs/sd-models';
import { figure, type Figure } from '../common/report';
import { runTaskAsync, TASKS, type TaskImages, type TaskTiming } from '../common/pipeline-tasks';
import { createTaskImages, IMAGE_FILES } from '../common/task-images';
import { createTimedSource, hookOrtRuns, sum } from '../common/timed-source';
import { trackWasmMemory } from '../common/wasm-memory';
import { configureOrt, createNodeSource } from './node-sources';

export interface BenchPaths {
  readonly root: string;
  readonly assets: string;
  /** bench-results/ */
  readonly out: string;
}

export interface SectionResult {
  readonly figures: Figure[];
  readonly details: Record<string, unknown>;
}

const OVERHEAD_TARGET = 1.02;
const ms = (t: number) => Math.round(t * 10) / 10;

export function machineInfo(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadavg1m: Math.round(os.loadavg()[0]! * 100) / 100,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    onnxruntimeWeb: ort.env.versions.web ?? 'unknown',
    ortThreads: 1,
  };
}

export function loadTokenizer(assets: string): ClipTokenizer {
  const dir = path.join(assets, 'clip/hf');
  return createClipTokenizer(JSON.parse(fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8')), fs.readFileSync(path.join(dir, 'merges.txt'), 'utf8'));
}

export function loadImages(assets: string, side: number): TaskImages {
  const read = (f: string) => new Uint8Array(fs.readFileSync(path.join(assets, 'images', f)));
  return createTaskImages({ photo: read(IMAGE_FILES.photo), mask: read(IMAGE_FILES.mask), control: read(IMAGE_FILES.control) }, side);
}

/** Builds the bench and tiny model sets and writes them to bench-results/models/{bench,tiny}/<file>.onnx. */
export function generateModels(paths: BenchPaths): { bench: BenchModelSet; tiny: BenchModelSet; figures: Figure[]; details: Record<string, unknown> } {
  const t0 = performance.now();
  const bench = buildBenchModelSet(BENCH_CONFIG);
  const tiny = buildBenchModelSet(TINY_CONFIG, '-tiny');
  const genMs = performance.now() - t0;
  const describe = (set: BenchModelSet) => Object.fromEntries(Object.entries(set.models).map(([k, m]: [string, GeneratedModel]) =>
    [k, { MB: Math.round(m.bytes.length / 1e5) / 10, params: m.params, GMAC: Math.round(m.macs / 1e7) / 100, nodes: sum(Object.values(m.opCounts)) }]));
  for (const [name, set] of [['bench', bench], ['tiny', tiny]] as const) {
    const dir = path.join(paths.out, 'models', name);
    fs.mkdirSync(dir, { recursive: true });
    for (const [file, m] of Object.entries(set.models)) fs.writeFileSync(path.join(dir, `${file}.onnx`), m.bytes);
    fs.writeFileSync(path.join(dir, 'manifest-base.json'), JSON.stringify(set.base.manifest.raw, null, 1));
    fs.writeFileSync(path.join(dir, 'manifest-controlnet.json'), JSON.stringify(set.control.manifest.raw, null, 1));
  }
  return {
    bench,
    tiny,
    figures: [figure('Setup', 'Generate all bench models (bench + tiny sets)', genMs, { unit: 'ms', digits: 0 })],
    details: { generateMs: ms(genMs), bench: describe(bench), tiny: describe(tiny), benchConfig: BENCH_CONFIG, tinyConfig: TINY_CONFIG },
  };
}

const rolesOf = (set: BenchModelSet['base']) => Object.keys(set.files) as ModelRole[];

/**
 * Session creation cold vs cached: ORT wasm start-up (a 1-node model), then each role's first acquire (cold:
 * bytes → InferenceSession) and second acquire under the "fast" policy (cached).
 */
export async function sessionCreationAsync(paths: BenchPaths, set: BenchModelSet): Promise<SectionResult> {
  configureOrt();
  const dir = path.join(paths.out, 'models', 'bench');
  const t0 = performance.now();
  const warm = await ort.InferenceSession.create(identityModelBytes());
  const initMs = performance.now() - t0;
  await warm.release();
  const src = createNodeSource(dir, set.control.manifest, set.control.files, 'fast');
  const cold: Record<string, number> = {};
  const cached: Record<string, number> = {};
  try {
    for (const role of rolesOf(set.control)) {
      let t = performance.now();
      await src.source.acquireAsync(role);
      cold[role] = performance.now() - t;
      await src.source.doneWithAsync(role);
      t = performance.now();
      await src.source.acquireAsync(role);
      cached[role] = performance.now() - t;
      await src.source.doneWithAsync(role);
    }
  } finally {
    await src.releaseAllAsync();
  }
  const coldSum = sum(Object.values(cold));
  const cachedSum = sum(Object.values(cached));
  const S = 'Session creation (wasm, Node)';
  return {
    figures: [
      figure(S, 'ORT wasm start-up (first session, 1-node model)', initMs, { unit: 'ms', digits: 0 }),
      figure(S, `Cold: all ${Object.keys(cold).length} sessions (bytes → session)`, coldSum, { unit: 'ms', digits: 0, note: `per role: ${Object.entries(cold).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ')}` }),
      figure(S, 'Cached: same sessions again ("fast" policy)', cachedSum, { unit: 'ms', digits: 1 }),
      figure(S, 'Cached ÷ cold', cachedSum / coldSum, { digits: 4, target: '≤ 0.05', pass: (v) => v <= 0.05 }),
    ],
    details: { ortInitMs: ms(initMs), coldMs: cold, cachedMs: cached, source: src.kind },
  };
}

/** A 1-node Identity model, to time ORT's own start-up apart from any real model. */
function identityModelBytes(): Uint8Array {
  const g = createGraphBuilder();
  g.input('x', 'float32', [1]);
  g.output(g.op('Identity', ['x']), 'y', 'float32', [1]);
  return g.toBytes('identity');
}

/**
 * Pipeline overhead on wasm: each task twice with warm ("fast") sessions; the better run of each counts
 * (the machine is shared, so the min filters other people's load). Also time to first preview.
 */
export async function pipelineOverheadAsync(paths: BenchPaths, set: BenchModelSet, tokenizer: ClipTokenizer, opts: { repeats: number }): Promise<SectionResult & { txt2imgWallMs: number }> {
  configureOrt();
  const dir = path.join(paths.out, 'models', 'bench');
  const images = loadImages(paths.assets, set.config.latentSize * 8);
  const base = createNodeSource(dir, set.base.manifest, set.base.files, 'fast');
  const control = createNodeSource(dir, set.control.manifest, set.control.files, 'fast');
  const hook = hookOrtRuns(ort);
  const timings: TaskTiming[] = [];
  try {
    // Warm every session first: creation is its own figure, not pipeline overhead.
    for (const role of rolesOf(set.base)) { await base.source.acquireAsync(role); await base.source.doneWithAsync(role); }
    for (const role of rolesOf(set.control)) { await control.source.acquireAsync(role); await control.source.doneWithAsync(role); }
    const tc = {
      tokenizer,
      base: { manifest: set.base.manifest, timed: createTimedSource(base.source) },
      control: { manifest: set.control.manifest, timed: createTimedSource(control.source) },
      ortHook: hook,
    };
    for (let r = 0; r < opts.repeats; r++) {
      for (const task of TASKS) timings.push(await runTaskAsync(task, tc, images));
    }
  } finally {
    hook.restore();
    await base.releaseAllAsync();
    await control.releaseAllAsync();
  }
  const best = (task: string) => timings.filter((t) => t.task === task).sort((a, b) => a.wallMs / a.modelInnerMs! - b.wallMs / b.modelInnerMs!)[0]!;
  const S = 'Pipeline overhead (wasm, Node, 512², 77×1024)';
  const figures: Figure[] = [];
  for (const task of TASKS) {
    const t = best(task);
    const ratio = t.wallMs / t.modelInnerMs!;
    figures.push(figure(S, `${task} (${t.steps} step${t.steps > 1 ? 's' : ''}): wall ÷ Σ model runs`, ratio, {
      digits: 3, suffix: ` (+${(t.wallMs - t.modelInnerMs!).toFixed(0)} ms)`, target: `≤ ${OVERHEAD_TARGET}`, pass: (v) => v <= OVERHEAD_TARGET,
      note: `wall ${t.wallMs.toFixed(0)} ms, Σ ORT run ${t.modelInnerMs!.toFixed(0)} ms, Σ session runAsync ${t.modelOuterMs.toFixed(0)} ms (wall ÷ runAsync ${(t.wallMs / t.modelOuterMs).toFixed(3)}), ms by model ${JSON.stringify(t.msByRole)}`,
    }));
  }
  const t2i = best('text-to-image');
  const P = 'First preview (wasm, Node)';
  figures.push(
    figure(P, 'Generate → first onProgress', t2i.firstCallbackMs, { unit: 'ms', digits: 1, target: '≤ 50 ms', pass: (v) => v <= 50 }),
    figure(P, 'Generate → first preview (txt2img, 1 step)', t2i.firstPreviewMs, { unit: 'ms', digits: 0 }),
    figure(P, 'First preview ÷ model runs before it', t2i.firstPreviewMs !== null && t2i.modelMsBeforePreview ? t2i.firstPreviewMs / t2i.modelMsBeforePreview : null, {
      digits: 3, target: `≤ ${OVERHEAD_TARGET}`, pass: (v) => v <= OVERHEAD_TARGET,
    }),
  );
  return {
    figures,
    txt2imgWallMs: t2i.wallMs,
    details: {
      source: base.kind,
      runs: timings.map((t) => ({
        task: t.task, steps: t.steps, wallMs: ms(t.wallMs), ortRunMs: ms(t.modelInnerMs ?? NaN), runAsyncMs: ms(t.modelOuterMs),
        firstCallbackMs: t.firstCallbackMs, firstPreviewMs: t.firstPreviewMs, runsByRole: t.runsByRole, msByRole: t.msByRole,
      })),
    },
  };
}

/**
 * Op mix at full width: one SD CrossAttnDownBlock2D at 320 channels, 64×64, heads of 64 (the real first UNet
 * level) against the same block at the bench width. Effective GMAC/s should not fall at full width; if it does,
 * the reduced models understate model time and overstate pipeline overhead less than they seem to.
 */
export async function opMixAsync(): Promise<SectionResult> {
  configureOrt();
  const cfg = BENCH_CONFIG;
  const full = buildUnetBlock({ channels: 320, side: 64, headDim: 64, groups: 32, contextDim: 1024, textLength: 77, timeDim: 1280 });
  const reduced = buildUnetBlock({ channels: cfg.unetChannels[0], side: 64, headDim: cfg.headDim, groups: cfg.groups, contextDim: cfg.contextDim, textLength: 77, timeDim: 4 * cfg.unetChannels[0] });
  const timeAsync = async (m: GeneratedModel, repeats: number) => {
    const s = await ort.InferenceSession.create(m.bytes);
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const io of m.inputs) {
        const dims = io.dims.map(Number);
        const n = dims.reduce((a, b) => a * b, 1);
        feeds[io.name] = new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)), dims);
      }
      const times: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const t = performance.now();
        await s.run(feeds);
        times.push(performance.now() - t);
      }
      return Math.min(...times);
    } finally {
      await s.release();
    }
  };
  const fullMs = await timeAsync(full, 1);
  const redMs = await timeAsync(reduced, 3);
  const fullRate = full.macs / fullMs / 1e6;
  const redRate = reduced.macs / redMs / 1e6;
  const S = 'Op mix at full width (wasm, Node)';
  return {
    figures: [
      figure(S, `Full-width block (320 ch, 64×64, ${(full.macs / 1e9).toFixed(1)} GMAC)`, fullMs, { unit: 'ms', digits: 0, note: `${fullRate.toFixed(1)} GMAC/s` }),
      figure(S, `Bench-width block (${cfg.unetChannels[0]} ch, 64×64, ${(reduced.macs / 1e9).toFixed(2)} GMAC)`, redMs, { unit: 'ms', digits: 0, note: `${redRate.toFixed(1)} GMAC/s` }),
      figure(S, 'GMAC/s full ÷ bench width', fullRate / redRate, { digits: 2, target: '≥ 0.8', pass: (v) => v >= 0.8 }),
    ],
    details: { full: { ms: ms(fullMs), GMAC: full.macs / 1e9, ops: full.opCounts }, reduced: { ms: ms(redMs), GMAC: reduced.macs / 1e9, ops: reduced.opCounts } },
  };
}

/** PNG decode → tensor → image → PNG encode at 512² and 1024², as a share of a 1-step 512² generation. */
export function imageIo(paths: BenchPaths, oneStepGenerationMs: number | null): SectionResult {
  const png512 = new Uint8Array(fs.readFileSync(path.join(paths.assets, 'images', IMAGE_FILES.photo)));
  const png1024 = encodePng(resizeBilinear(decodePng(png512), 1024, 1024));
  const round = (png: Uint8Array) => {
    const times: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      const img = decodePng(png);
      const tensor = imageToTensor(img);
      const back = tensorToImage(tensor, img.width, img.height);
      encodePng(back);
      times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b)[1]!;
  };
  const t512 = round(png512);
  const t1024 = round(png1024);
  const S = 'Image I/O (PNG → tensor → PNG, Node)';
  const share = (t: number) => (oneStepGenerationMs ? t / oneStepGenerationMs : null);
  return {
    figures: [
      figure(S, '512² round trip', t512, { unit: 'ms', digits: 0 }),
      figure(S, '512² share of a 1-step 512² generation', share(t512), { digits: 3, target: '≤ 0.05', pass: (v) => v <= 0.05, naReason: 'no 1-step generation measured' }),
      figure(S, '1024² round trip', t1024, { unit: 'ms', digits: 0 }),
      figure(S, '1024² share of a 1-step 1024² generation (est. 4 × 512²)', share(t1024 / 4), {
        digits: 3, target: '≤ 0.05', pass: (v) => v <= 0.05,
        note: `no 1024² generation is run (its 16384² attention maps alone need 1 GiB); 4 × the 512² time is a lower bound (convs scale with pixels, attention faster). Against the 512² generation itself: ${oneStepGenerationMs ? (t1024 / oneStepGenerationMs).toFixed(3) : 'n/a'}`,
        naReason: 'no 1-step generation measured',
      }),
    ],
    details: { roundTripMs512: ms(t512), roundTripMs1024: ms(t1024), oneStepGenerationMs },
  };
}

export type MemoryMode = 'fast' | 'low-memory' | 'unet-alone';

/**
 * Peak memory of one mode, run in a child process (bench/run.mjs spawns `memory <mode>`): peak RSS (getrusage
 * maxrss) minus the RSS before any model was loaded (Node, ORT start-up, tokenizer and images are the baseline).
 * 'fast' / 'low-memory' run txt2img then img2img under that session-manager policy; 'unet-alone' creates the UNet
 * (the largest model) and runs it once with the pipeline's feeds — the floor a one-model-at-a-time policy can reach.
 */
export async function memoryChildAsync(paths: BenchPaths, mode: MemoryMode): Promise<Record<string, number | string>> {
  const wasm = trackWasmMemory();
  configureOrt();
  const tokenizer = loadTokenizer(paths.assets);
  const dir = path.join(paths.out, 'models', 'bench');
  const manifest = parseManifest(JSON.parse(fs.readFileSync(path.join(dir, 'manifest-base.json'), 'utf8')));
  const files = { text_encoder: 'text_encoder', unet: 'unet', vae_decoder: 'vae_decoder', vae_encoder: 'vae_encoder' } as const;
  const images = loadImages(paths.assets, manifest.raw.sizes.default_width);
  const warm = await ort.InferenceSession.create(identityModelBytes());
  await warm.release();
  const baseline = process.resourceUsage().maxRSS * 1024;
  const wasmBaseline = wasm.bytes();
  const src = createNodeSource(dir, manifest, files, mode === 'fast' ? 'fast' : 'low-memory');
  const t0 = performance.now();
  try {
    if (mode === 'unet-alone') {
      const unet = await src.source.acquireAsync('unet');
      const S = manifest.raw.sizes.default_width / manifest.vaeScale;
      const D = Number(manifest.components.unet!.inputs.find((i) => i.name === 'encoder_hidden_states')!.dims[2]);
      await unet.runAsync({
        sample: { kind: 'host', dtype: 'float32', dims: [1, 4, S, S], data: Float32Array.from({ length: 4 * S * S }, (_, i) => Math.sin(i)) },
        timestep: { kind: 'host', dtype: 'int64', dims: [1], data: BigInt64Array.from([999n]) },
        encoder_hidden_states: { kind: 'host', dtype: 'float32', dims: [1, 77, D], data: Float32Array.from({ length: 77 * D }, (_, i) => Math.cos(i)) },
      });
      await src.source.doneWithAsync('unet');
    } else {
      const timed = createTimedSource(src.source);
      const tc = { tokenizer, base: { manifest, timed }, control: { manifest, timed }, ortHook: null };
      await runTaskAsync('text-to-image', tc, images);
      await runTaskAsync('image-to-image', tc, images);
    }
  } finally {
    await src.releaseAllAsync();
  }
  const peak = process.resourceUsage().maxRSS * 1024;
  const sizes = Object.values(files).map((f) => fs.statSync(path.join(dir, `${f}.onnx`)).size);
  return { mode, source: src.kind, baselineBytes: baseline, peakBytes: peak, wasmBaselineBytes: wasmBaseline, wasmPeakBytes: wasm.bytes(), largestModelBytes: Math.max(...sizes), allModelsBytes: sum(sizes), wallMs: performance.now() - t0 };
}

export function memoryFigures(results: readonly Record<string, number | string>[]): Figure[] {
  const S = 'Peak memory (wasm, Node, 512²)';
  const out: Figure[] = [];
  const heap = (r: Record<string, number | string> | undefined) => (r ? Number(r.wasmPeakBytes) - Number(r.wasmBaselineBytes) : NaN);
  const rss = (r: Record<string, number | string>) => Number(r.peakBytes) - Number(r.baselineBytes);
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  for (const r of results) {
    out.push(figure(S, `${r.mode}: ORT wasm heap growth (peak − start-up)`, heap(r) / 2 ** 20, {
      unit: 'MiB', digits: 0,
      note: `wasm heap ${mb(Number(r.wasmPeakBytes))} (start-up ${mb(Number(r.wasmBaselineBytes))}); process RSS peak ${mb(Number(r.peakBytes))} = ${mb(rss(r))} above its baseline (includes JS garbage not yet collected)`,
    }));
  }
  const low = results.find((r) => r.mode === 'low-memory');
  const fast = results.find((r) => r.mode === 'fast');
  const alone = results.find((r) => r.mode === 'unet-alone');
  if (low) {
    out.push(figure(S, 'low-memory: wasm heap growth ÷ largest model file', heap(low) / Number(low.largestModelBytes), {
      digits: 2, target: '≤ 1.25', pass: (v) => v <= 1.25,
      note: `largest model file ${mb(Number(low.largestModelBytes))}; at bench widths real-size activations (4096² attention maps, 512² VAE feature maps) outweigh the reduced weights, see the next row for the policy itself`,
    }));
    if (alone) {
      out.push(figure(S, 'low-memory: wasm heap growth ÷ UNet alone (created + one run)', heap(low) / heap(alone), {
        digits: 2, target: '≤ 1.25', pass: (v) => v <= 1.25,
        note: 'a wasm heap never shrinks: sessions released per stage free heap for reuse, but fragmentation and the largest stage set the peak',
      }));
    }
    if (fast) out.push(figure(S, 'low-memory ÷ fast (wasm heap growth)', heap(low) / heap(fast), { digits: 2 }));
  }
  return out;
}
