/**
 * Orchestrates `npm run bench` (bench/run.mjs bundles this file to bench-results/node-bench.mjs and calls
 * `mainAsync`). Each section has a time budget so the whole run stays under 10 minutes on 2 shared cores; a section
 * over budget reports n/a instead of blocking the rest. `memory <policy>` is the child-process mode.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { figure, formatMarkdown, formatNotes, formatTable, naFigure, type Figure } from '../common/report';
import {
  generateModels, imageIo, loadTokenizer, machineInfo, memoryChildAsync, memoryFigures, opMixAsync,
  pipelineOverheadAsync, sessionCreationAsync, type BenchPaths,
} from './node-bench';
import { benchDownloadAsync } from './download-bench';
import { createRuntimeDownload } from './runtime-adapter';
import { chromiumBenchAsync } from '../chromium/driver';
import { chromiumDownloadBenchAsync } from '../chromium/download';
import { createHash } from 'node:crypto';
import { upscaleQualityAsync } from './upscale-bench';

export interface BenchOptions {
  /** Skip the Chromium sections (e.g. no Chromium installed). */
  readonly noChromium?: boolean;
  /** Only these sections (by key), for iterating on one. */
  readonly only?: readonly string[];
}

async function withBudgetAsync<T>(budgetMs: number, fn: () => Promise<T>): Promise<{ ok: true; value: T; ms: number } | { ok: false; error: string; ms: number }> {
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const value = await Promise.race([
      fn(),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`over its ${Math.round(budgetMs / 1000)} s budget`)), budgetMs); }),
    ]);
    return { ok: true, value, ms: performance.now() - t0 };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err), ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

function runChildAsync(script: string, args: string[], budgetMs: number): Promise<Record<string, number | string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`over its ${budgetMs / 1000} s budget`)); }, budgetMs);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`child exited ${code}: ${err.trim().split('\n').slice(-3).join(' ')}`));
      else resolve(JSON.parse(line));
    });
  });
}

export async function mainAsync(argv: readonly string[], paths: BenchPaths, selfPath: string, opts: BenchOptions = {}): Promise<number> {
  if (argv[0] === 'memory') {
    const mode = argv[1] === 'low-memory' || argv[1] === 'unet-alone' ? argv[1] : 'fast';
    console.log(JSON.stringify(await memoryChildAsync(paths, mode)));
    return 0;
  }
  // `--only download` also runs `download-chromium` (a section's sub-sections are named `<section>-…`).
  const want = (k: string) => !opts.only || opts.only.some((o) => k === o || k.startsWith(`${o}-`));
  const started = performance.now();
  const figures: Figure[] = [];
  const details: Record<string, unknown> = {};
  const timings: Record<string, number> = {};
  const log = (s: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${s}\n`);
  const machine = machineInfo();
  log(`machine: ${JSON.stringify(machine)}`);

  const section = async <T>(key: string, label: string, budgetMs: number, fn: () => Promise<T>, onFail: (reason: string) => Figure[]): Promise<T | null> => {
    if (!want(key)) return null;
    log(`${label} …`);
    const r = await withBudgetAsync(budgetMs, fn);
    timings[key] = Math.round(r.ms);
    if (r.ok) return r.value;
    log(`${label}: ${r.error}`);
    figures.push(...onFail(r.error));
    return null;
  };

  fs.mkdirSync(paths.out, { recursive: true });
  const gen = generateModels(paths);
  figures.push(...gen.figures);
  details.models = gen.details;
  const tokenizer = loadTokenizer(paths.assets);

  const creation = await section('sessions', 'session creation', 60_000, () => sessionCreationAsync(paths, gen.bench),
    (e) => [naFigure('Session creation (wasm, Node)', 'Cached ÷ cold', '≤ 0.05', e)]);
  if (creation) { figures.push(...creation.figures); details.sessionCreation = creation.details; }

  const overhead = await section('pipelines', 'pipeline overhead (wasm, Node)', 200_000, () => pipelineOverheadAsync(paths, gen.bench, tokenizer, { repeats: 2 }),
    (e) => [naFigure('Pipeline overhead (wasm, Node, 512², 77×1024)', 'all tasks', '≤ 1.02', e)]);
  if (overhead) { figures.push(...overhead.figures); details.pipelines = overhead.details; }

  const mix = await section('opmix', 'op mix at full width', 60_000, () => opMixAsync(),
    (e) => [naFigure('Op mix at full width (wasm, Node)', 'GMAC/s full ÷ bench width', '≥ 0.8', e)]);
  if (mix) { figures.push(...mix.figures); details.opMix = mix.details; }

  if (want('imageio')) {
    const io = imageIo(paths, overhead?.txt2imgWallMs ?? null);
    figures.push(...io.figures);
    details.imageIo = io.details;
  }

  const mem = await section('memory', 'peak memory (child processes)', 180_000, async () => {
    const out: Record<string, number | string>[] = [];
    for (const mode of ['fast', 'low-memory', 'unet-alone']) out.push(await runChildAsync(selfPath, ['memory', mode], 75_000));
    return out;
  }, (e) => [naFigure('Peak memory (wasm, Node, 512²)', 'low-memory: wasm heap growth ÷ largest model file', '≤ 1.25', e)]);
  if (mem) { figures.push(...memoryFigures(mem)); details.memory = mem; }

  const dl = await section('download', 'download', 60_000, async () => {
    const file = new Uint8Array(fs.readFileSync(path.join(paths.out, 'models', 'bench', 'unet.onnx')));
    const adapter = await createRuntimeDownload(paths, file);
    return benchDownloadAsync(file, adapter.download, adapter.reason, adapter.hashRate, adapter.jsHashRate, adapter.nativeHashRate);
  }, (e) => [naFigure('Download (loopback)', 'Downloader ÷ raw fetch throughput', '≥ 0.9', e)]);
  if (dl) { figures.push(...dl.figures); details.download = dl.details; }
  if (!opts.noChromium) {
    const cdl = await section('download-chromium', 'download (Chromium worker)', 180_000, async () => {
      const read = (name: string) => new Uint8Array(fs.readFileSync(path.join(paths.out, 'models', 'bench', name)));
      const file = read('unet.onnx');
      const model = ['text_encoder.onnx', 'unet.onnx', 'vae_decoder.onnx', 'vae_encoder.onnx'].map((name) => {
        const bytes = read(name);
        return { name, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
      });
      return chromiumDownloadBenchAsync(paths, file, createHash('sha256').update(file).digest('hex'), { model });
    }, (e) => [naFigure('Download (loopback, Chromium worker — the product path)', 'Downloader ÷ raw fetch', '≥ 0.9', e)]);
    if (cdl) { figures.push(...cdl.figures); details.downloadChromium = cdl.details; }
  }

  const up = await section('upscale', 'upscale quality (real photos, ESRGAN-slim vs bicubic/Lanczos)', 300_000, () => upscaleQualityAsync(paths, log),
    (e) => [naFigure('Upscale quality', 'ESRGAN − bicubic PSNR', '> 0', e)]);
  if (up) { figures.push(...up.figures); details.upscale = up.details; }

  if (!opts.noChromium) {
    const chromium = await section('chromium', 'Chromium (UI ready, tiny pipelines on wasm + WebGPU)', 240_000,
      () => chromiumBenchAsync(paths, { log }),
      (e) => [naFigure('Chromium', 'all Chromium figures', '', e)]);
    if (chromium) {
      figures.push(...chromium.figures);
      details.chromium = chromium.details;
      if (typeof chromium.details.chromiumVersion === 'string') machine.chromium = chromium.details.chromiumVersion;
    }
  }

  const totalS = (performance.now() - started) / 1000;
  figures.push(figure('Bench', 'Total bench wall time', totalS, { unit: 's', digits: 0, target: '≤ 600 s', pass: (v) => v <= 600 }));
  const header = [
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, load ${machine.loadavg1m} (1 min) — shared with other work, so wall times are noisy; figures are ratios measured side by side.`,
    `Runtime: Node ${machine.node}, onnxruntime-web ${machine.onnxruntimeWeb} (wasm EP, 1 thread)${machine.chromium ? `, Chromium ${machine.chromium} (wasm EP + WebGPU EP on SwiftShader)` : ''}.`,
  ].join('\n');
  const table = formatTable(figures);
  const notes = formatNotes(figures);
  console.log(`\n${header}\n\n${table}\n${notes ? `\nNotes:\n${notes}\n` : ''}`);
  const json = { date: new Date().toISOString(), machine, sectionMs: timings, figures, details };
  fs.writeFileSync(path.join(paths.out, 'bench.json'), JSON.stringify(json, null, 2));
  fs.writeFileSync(path.join(paths.out, 'bench.md'), `${header}\n\n${formatMarkdown(figures)}\n`);
  log(`wrote ${path.relative(paths.root, path.join(paths.out, 'bench.json'))} and bench.md`);
  return 0;
}

/** Direct invocation of the bundle (child processes): `node bench-results/node-bench.mjs memory fast`. */
export function isDirectRun(metaUrl: string): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(metaUrl);
}
