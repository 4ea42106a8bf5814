/**
 * A deterministic fake EngineClient for UI tests (Node and Chromium): images are a function of (prompt, seed,
 * size), progress ticks every `stepMs` with a 64-px preview per step, cancellation is honoured between steps,
 * downloads advance in `downloadChunks` ticks. No timers other than setTimeout, no randomness.
 */
import { AppError } from '../../protocol/errors';
import { createImage, encodePng, type RgbaImage } from '../../ui/core/image';
import type {
  DownloadProgress, EngineCapabilities, EngineClient, GenerateRequest, GenerateResult, ModelEntry, StorageInfo,
} from '../../ui/contracts/engine';

const base = {
  description: 'A small test model.',
  dtype: 'float32' as const,
  sizes: { default_width: 512, default_height: 512, max_side: 768, multiple: 64 },
  defaults: { steps: 4, guidance_scale: 1, strength: 0.6 },
};

/** The models the fake lists: two ready, one non-commercial to download, one that fails. */
export const FAKE_MODELS: readonly ModelEntry[] = [
  {
    ...base, id: 'tiny-sd', name: 'Tiny SD', totalBytes: 120e6, status: 'ready',
    licence: { name: 'CreativeML OpenRAIL-M', commercial_use: true, url: 'https://example.com/openrail' },
    capabilities: { txt2img: true, img2img: true, inpaint: 'blend', controlnet: 'none' },
  },
  {
    ...base, id: 'sd15-lineart', name: 'SD 1.5 + line art', totalBytes: 2.5e9, status: 'ready', description: 'ControlNet line art for wireframes.',
    licence: { name: 'CreativeML OpenRAIL-M', commercial_use: true, url: 'https://example.com/openrail' },
    capabilities: { txt2img: true, img2img: true, inpaint: 'none', controlnet: 'lineart' },
    defaults: { steps: 20, guidance_scale: 7.5, strength: 0.75, control_scale: 0.9 },
  },
  {
    ...base, id: 'sd-turbo', name: 'SD-Turbo', totalBytes: 2.6e9, status: 'not-downloaded', dtype: 'float16',
    description: 'One-step text to image.',
    licence: { name: 'Stability AI Non-Commercial', commercial_use: false, url: 'https://example.com/sai-nc' },
    capabilities: { txt2img: true, img2img: true, inpaint: 'none', controlnet: 'none' },
    defaults: { steps: 1, guidance_scale: 0, strength: 0.5 },
  },
  {
    ...base, id: 'sd15-inpaint', name: 'SD 1.5 Inpainting', totalBytes: 2.1e9, status: 'not-downloaded',
    description: 'A 9-channel inpainting UNet.',
    licence: { name: 'CreativeML OpenRAIL-M', commercial_use: true, url: 'https://example.com/openrail' },
    capabilities: { txt2img: false, img2img: false, inpaint: '9ch', controlnet: 'none' },
    defaults: { steps: 25, guidance_scale: 7.5, strength: 1 },
  },
];

export interface FakeEngineOptions {
  readonly stepMs?: number;
  readonly models?: readonly ModelEntry[];
  readonly capabilities?: Partial<EngineCapabilities>;
  readonly downloadChunks?: number;
  readonly downloadChunkMs?: number;
  /** Model ids whose download fails half-way. */
  readonly failDownloads?: readonly string[];
  readonly withLoadFromFiles?: boolean;
  /** Accept https://…/<id>.json URLs (and manifest-like objects with id + name) in addCustomModelAsync. */
  readonly withAddCustomModel?: boolean;
}

/** FNV-1a over a string → 32-bit. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The final image: a two-colour diagonal gradient whose colours depend on seed and prompt. */
export function fakeImage(req: Pick<GenerateRequest, 'prompt' | 'seed' | 'width' | 'height'>, width = req.width, height = req.height): RgbaImage {
  const h = hash(`${req.prompt}|${req.seed}`);
  const a = [h & 255, (h >>> 8) & 255, (h >>> 16) & 255];
  const b = [255 - (a[0] as number), 255 - (a[1] as number), (h >>> 24) & 255];
  const img = createImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x / Math.max(1, width - 1) + y / Math.max(1, height - 1)) / 2;
      const o = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) img.data[o + c] = Math.round((a[c] as number) * (1 - t) + (b[c] as number) * t);
    }
  }
  return img;
}

/** A preview at `step` of `total`: the final image blended from mid-grey. */
export function fakePreview(req: GenerateRequest, step: number, total: number): RgbaImage {
  const size = 64;
  const fin = fakeImage(req, size, Math.max(8, Math.round((size * req.height) / req.width)));
  const k = total > 0 ? step / total : 1;
  const data = new Uint8ClampedArray(fin.data.length);
  for (let i = 0; i < data.length; i += 4) {
    for (let c = 0; c < 3; c++) data[i + c] = Math.round(128 * (1 - k) + (fin.data[i + c] as number) * k);
    data[i + 3] = 255;
  }
  return { width: fin.width, height: fin.height, data };
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(new AppError('CANCELLED', 'Cancelled.')); return; }
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = (): void => { clearTimeout(t); reject(new AppError('CANCELLED', 'Cancelled.')); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export interface FakeEngine extends EngineClient {
  readonly requests: GenerateRequest[];
  /** Steps actually run per request (to prove cancel stops within one step). */
  readonly stepsRun: number[];
  /** stepsRun at the moment each request's AbortSignal fired (absent when never aborted). */
  readonly stepsAtAbort: (number | undefined)[];
  readonly downloads: string[];
  models: ModelEntry[];
}

export function createFakeEngine(opts: FakeEngineOptions = {}): FakeEngine {
  const stepMs = opts.stepMs ?? 30;
  let models: ModelEntry[] = (opts.models ?? FAKE_MODELS).map((m) => ({ ...m }));
  const caps: EngineCapabilities = {
    webgpu: true, adapterName: 'SwiftShader (fake)', shaderF16: false, provider: 'webgpu',
    reason: 'A WebGPU adapter was found.', crossOriginIsolated: false, persistentStorage: true, ...opts.capabilities,
  };
  const requests: GenerateRequest[] = [];
  const stepsRun: number[] = [];
  const stepsAtAbort: (number | undefined)[] = [];
  const downloads: string[] = [];
  const running = new Map<string, AbortController>();
  const setModel = (id: string, patch: Partial<ModelEntry>): void => {
    models = models.map((m) => (m.id === id ? { ...m, ...patch } : m));
    engine.models = models;
  };

  const runDownloadAsync = async (id: string, onProgress: (p: DownloadProgress) => void): Promise<void> => {
    const m = models.find((x) => x.id === id);
    if (!m) throw new AppError('INVALID_INPUT', `Unknown model "${id}".`);
    downloads.push(id);
    const chunks = opts.downloadChunks ?? 5;
    const chunkMs = opts.downloadChunkMs ?? 40;
    setModel(id, { status: 'downloading' });
    const ctl = new AbortController();
    running.set(id, ctl);
    let last: DownloadProgress | undefined;
    for (let i = 1; i <= chunks; i++) {
      try {
        await sleep(chunkMs, ctl.signal);
      } catch {
        // Pause/Cancel: what was downloaded is kept (status paused), like the real engine.
        running.delete(id);
        setModel(id, { status: 'paused', ...(last ? { progress: last } : {}) });
        throw new AppError('CANCELLED', `Download of ${m.name} paused.`);
      }
      const bytes = Math.round((m.totalBytes * i) / chunks);
      if (opts.failDownloads?.includes(id) && i > chunks / 2) {
        setModel(id, { status: 'failed', error: { code: 'MODEL_FETCH_FAILED', message: `The download of ${m.name} stopped at ${Math.round((100 * i) / chunks)}%.`, hint: 'Check your connection and try again.' } });
        throw new AppError('MODEL_FETCH_FAILED', `The download of ${m.name} stopped at ${Math.round((100 * i) / chunks)}%.`, { hint: 'Check your connection and try again.' });
      }
      const rate = m.totalBytes / chunks / (chunkMs / 1000);
      last = { bytes, total: m.totalBytes, rate, etaSeconds: (m.totalBytes - bytes) / rate };
      onProgress(last);
    }
    running.delete(id);
    setModel(id, { status: 'ready' });
  };

  const engine: FakeEngine = {
    requests,
    stepsRun,
    stepsAtAbort,
    downloads,
    models,
    async capabilitiesAsync() { return caps; },
    async listModelsAsync() { return models.map((m) => ({ ...m })); },
    downloadModelAsync: runDownloadAsync,
    async pauseDownloadAsync(id) { running.get(id)?.abort(); },
    async cancelDownloadAsync(id) { running.get(id)?.abort(); },
    async deleteModelAsync(id) { setModel(id, { status: 'not-downloaded' }); },
    async storageAsync(): Promise<StorageInfo> {
      const used = models.filter((m) => m.status === 'ready').reduce((s, m) => s + m.totalBytes, 0);
      return caps.persistentStorage ? { usedBytes: used, quotaBytes: 60e9 } : { usedBytes: 0 };
    },
    async generateAsync(request, { onProgress, signal } = {}): Promise<GenerateResult> {
      requests.push(request);
      const index = stepsRun.push(0) - 1;
      signal?.addEventListener('abort', () => { stepsAtAbort[index] = stepsRun[index]; }, { once: true });
      const m = models.find((x) => x.id === request.modelId);
      if (!m || m.status !== 'ready') throw new AppError('MODEL_NOT_READY', `${request.modelId} is not downloaded.`);
      onProgress?.({ step: 0, total: request.steps, stage: 'text' });
      await sleep(stepMs / 2, signal);
      const start = request.strength !== undefined && request.mode !== 'wireframe' ? Math.max(0, request.steps - Math.floor(request.steps * request.strength)) : 0;
      for (let s = start + 1; s <= request.steps; s++) {
        await sleep(stepMs, signal);
        stepsRun[index] = (stepsRun[index] ?? 0) + 1;
        onProgress?.({ step: s, total: request.steps, stage: 'denoise', preview: fakePreview(request, s, request.steps) });
      }
      onProgress?.({ step: request.steps, total: request.steps, stage: 'decode' });
      await sleep(stepMs / 2, signal);
      // Full resolution: a refine pass in 3 tiles (cancellable), then the image at the asked size.
      const full = request.fullResolution;
      if (full) {
        for (let t = 1; t <= 3; t++) {
          await sleep(stepMs, signal);
          onProgress?.({ step: t, total: 3, stage: 'refine' });
        }
      }
      const img = full ? fakeImage(request, full.width, full.height) : fakeImage(request);
      return { png: encodePng(img), width: img.width, height: img.height, seed: request.seed, droppedTokens: 0 };
    },
    async tokenCountAsync(_modelId, text) {
      // Close enough to CLIP for a UI test: words and punctuation are tokens.
      return (text.toLowerCase().match(/[a-z0-9]+|[^\sa-z0-9]/g) ?? []).length;
    },
  };
  if (opts.withLoadFromFiles) {
    engine.loadModelFromFilesAsync = async (id, files, onProgress) => {
      if (files.length === 0) throw new AppError('INVALID_INPUT', 'The folder is empty.');
      await runDownloadAsync(id, onProgress);
    };
  }
  if (opts.withAddCustomModel) {
    engine.addCustomModelAsync = async (input) => {
      const id = typeof input === 'string' ? /\/([a-z0-9-]+)\.json$/.exec(input)?.[1] : (input as { id?: unknown }).id;
      if (typeof id !== 'string') throw new AppError('INVALID_MANIFEST', 'Model manifest is invalid. At id: expected a lowercase id.');
      const entry: ModelEntry = { ...(FAKE_MODELS[0] as ModelEntry), id, name: `Custom ${id}`, status: 'not-downloaded' };
      models = [...models, entry];
      engine.models = models;
      return entry;
    };
  }
  return engine;
}
