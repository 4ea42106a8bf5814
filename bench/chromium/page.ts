/**
 * Page entry of the Chromium bench (bundled by bench/chromium/driver.ts, served on 127.0.0.1). Runs the real
 * pipelines on the tiny model set with the wasm or WebGPU EP and reports: overhead ratios, time to first preview,
 * GPU→CPU reads (every `GPUBuffer.mapAsync(READ)`, the only way WebGPU data reaches the CPU, plus the runtime's own
 * counter when it has one), and peak JS heap + wasm memory.
 */
// The worker's ORT build (ui/runtime/worker/engine-worker.ts): WebGPU EP + wasm, asyncify wasm.
import * as ort from 'onnxruntime-web/webgpu';
import { createClipTokenizer } from '../../ui/core/tokenizer/clip-tokenizer';
import { parseManifest } from '../../ui/core/manifest';
import type { ModelRole } from '../../ui/core/session';
import { gpuReadCounter } from '../../ui/runtime/ort-session';
import { createRuntimeSource, RUNTIME_SOURCE_KIND, type MemoryPolicy } from '../common/runtime-source';
import { runTaskAsync, type TaskName } from '../common/pipeline-tasks';
import { createTaskImages, IMAGE_FILES } from '../common/task-images';
import { createTimedSource, hookOrtRuns } from '../common/timed-source';
import { trackWasmMemory } from '../common/wasm-memory';

export interface PageRunConfig {
  readonly ep: 'wasm' | 'webgpu';
  readonly policy: MemoryPolicy;
  readonly tasks: readonly TaskName[];
  readonly side: number;
  /** Runs of each task; the best (lowest overhead) counts. */
  readonly repeats: number;
}

export interface PageTaskResult {
  readonly task: TaskName;
  readonly steps: number;
  readonly wallMs: number;
  readonly ortRunMs: number;
  readonly runAsyncMs: number;
  readonly firstCallbackMs: number | null;
  readonly firstPreviewMs: number | null;
  readonly modelMsBeforePreview: number | null;
  /** GPU→CPU reads (mapAsync READ) during the task, and during each denoising step. */
  readonly gpuReads: number;
  readonly gpuReadsPerStep: readonly number[];
  /** The same, by the runtime's own counter (ui/runtime/ort-session.ts gpuReadCounter). */
  readonly runtimeReads: number;
  readonly runtimeReadsPerStep: readonly number[];
}

export interface PageRunResult {
  readonly ep: string;
  readonly policy: MemoryPolicy;
  readonly adapter: string | null;
  readonly source: string;
  readonly tasks: readonly PageTaskResult[];
  readonly peakJsHeapBytes: number | null;
  readonly wasmMemoryBytes: number;
  readonly largestModelBytes: number;
  readonly createMs: Readonly<Record<string, number>>;
  readonly error?: string;
}

// --- Instrumentation (ORT instantiates its wasm lazily, at the first session, so installing here is early enough) ---
const wasmMemory = trackWasmMemory();
let gpuReads = 0;
if (typeof GPUBuffer !== 'undefined') {
  const origMap = GPUBuffer.prototype.mapAsync;
  GPUBuffer.prototype.mapAsync = function mapAsync(this: GPUBuffer, mode: number, ...rest: [number?, number?]) {
    if (mode & GPUMapMode.READ) gpuReads++;
    return origMap.call(this, mode, ...rest);
  };
}
const jsHeap = (): number | null => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null;

async function fetchBytesAsync(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function benchRunAsync(cfg: PageRunConfig): Promise<PageRunResult> {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = new URL('/ort/', location.href).href;
  ort.env.logLevel = 'error';
  let adapter: string | null = null;
  if (cfg.ep === 'webgpu') {
    const a = await navigator.gpu?.requestAdapter();
    if (!a) throw new Error('no WebGPU adapter');
    adapter = `${a.info.vendor} ${a.info.architecture}${a.info.isFallbackAdapter ? ' (fallback)' : ''}`;
  }
  const [vocab, merges] = await Promise.all([
    fetch('/assets/clip/hf/vocab.json').then((r) => r.json() as Promise<Record<string, number>>),
    fetch('/assets/clip/hf/merges.txt').then((r) => r.text()),
  ]);
  const tokenizer = createClipTokenizer(vocab, merges);
  const png = {
    photo: await fetchBytesAsync(`/assets/images/${IMAGE_FILES.photo}`),
    mask: await fetchBytesAsync(`/assets/images/${IMAGE_FILES.mask}`),
    control: await fetchBytesAsync(`/assets/images/${IMAGE_FILES.control}`),
  };
  const images = createTaskImages(png, cfg.side);
  const baseManifest = parseManifest(await (await fetch('/models/tiny/manifest-base.json')).json());
  const controlManifest = parseManifest(await (await fetch('/models/tiny/manifest-controlnet.json')).json());
  const baseFiles: Partial<Record<ModelRole, string>> = { text_encoder: 'text_encoder', unet: 'unet', vae_decoder: 'vae_decoder', vae_encoder: 'vae_encoder' };
  const controlFiles: Partial<Record<ModelRole, string>> = { ...baseFiles, unet: 'unet_cn', controlnet: 'controlnet' };
  const sizes: Record<string, number> = {};
  const createMs: Record<string, number> = {};
  const makeSource = (manifest: typeof baseManifest, files: Partial<Record<ModelRole, string>>) => createRuntimeSource({
    ort,
    manifest,
    provider: cfg.ep,
    policy: cfg.policy,
    loadBytesAsync: async (role) => {
      const bytes = await fetchBytesAsync(`/models/tiny/${files[role]}.onnx`);
      sizes[files[role]!] = bytes.length;
      return bytes;
    },
  });
  const base = makeSource(baseManifest, baseFiles);
  const control = makeSource(controlManifest, controlFiles);
  const hook = hookOrtRuns(ort);
  let peakHeap = jsHeap();
  const sample = () => {
    const h = jsHeap();
    if (h !== null) peakHeap = Math.max(peakHeap ?? 0, h);
  };
  const results: PageTaskResult[] = [];
  try {
    const usesControl = cfg.tasks.includes('controlnet');
    if (cfg.policy === 'fast') {
      // Warm the sessions (creation is its own figure).
      const warmSets: [typeof base, Partial<Record<ModelRole, string>>][] = [[base, baseFiles]];
      if (usesControl) warmSets.push([control, controlFiles]);
      for (const [src, files] of warmSets) {
        for (const role of Object.keys(files) as ModelRole[]) {
          const t = performance.now();
          await src.acquireAsync(role);
          createMs[`${files[role]}`] = performance.now() - t;
          await src.doneWithAsync(role);
        }
      }
    }
    const timedBase = createTimedSource(base);
    const timedControl = createTimedSource(control);
    timedBase.onRun = sample;
    timedControl.onRun = sample;
    let stepReads: number[] = [];
    let stepRuntimeReads: number[] = [];
    let mark = 0;
    let runtimeMark = 0;
    let stepOpen = false;
    const onRunStart = (role: ModelRole) => {
      if ((role === 'unet' || role === 'controlnet') && !stepOpen) {
        stepOpen = true;
        mark = gpuReads;
        runtimeMark = gpuReadCounter.reads;
      }
    };
    timedBase.onRunStart = onRunStart;
    timedControl.onRunStart = onRunStart;
    const tc = {
      tokenizer,
      base: { manifest: baseManifest, timed: timedBase },
      control: { manifest: controlManifest, timed: timedControl },
      ortHook: hook,
      onProgress: (p: { stage: string }) => {
        sample();
        if (p.stage === 'denoise' && stepOpen) {
          stepReads.push(gpuReads - mark);
          stepRuntimeReads.push(gpuReadCounter.reads - runtimeMark);
          stepOpen = false;
        }
      },
    };
    for (let rep = 0; rep < cfg.repeats; rep++) for (const task of cfg.tasks) {
      stepReads = [];
      stepRuntimeReads = [];
      stepOpen = false;
      const before = gpuReads;
      const runtimeBefore = gpuReadCounter.reads;
      const t = await runTaskAsync(task, tc, images);
      results.push({
        task, steps: t.steps, wallMs: t.wallMs, ortRunMs: t.modelInnerMs ?? NaN, runAsyncMs: t.modelOuterMs,
        firstCallbackMs: t.firstCallbackMs, firstPreviewMs: t.firstPreviewMs, modelMsBeforePreview: t.modelMsBeforePreview,
        gpuReads: gpuReads - before, gpuReadsPerStep: stepReads,
        runtimeReads: gpuReadCounter.reads - runtimeBefore, runtimeReadsPerStep: stepRuntimeReads,
      });
    }
  } finally {
    hook.restore();
    await base.releaseAllAsync();
    await control.releaseAllAsync();
  }
  sample();
  return {
    ep: cfg.ep,
    policy: cfg.policy,
    adapter,
    source: RUNTIME_SOURCE_KIND,
    tasks: results,
    peakJsHeapBytes: peakHeap,
    wasmMemoryBytes: wasmMemory.bytes(),
    largestModelBytes: Math.max(0, ...Object.values(sizes)),
    createMs,
  };
}

(window as unknown as { benchRunAsync: typeof benchRunAsync }).benchRunAsync = benchRunAsync;
document.title = 'bench ready';
