/**
 * The app's EngineClient (ui/app/env.ts) over the engine worker. Every call is one typed message; progress streams
 * back; `signal` cancels (the worker stops within one denoising step); replies are validated. After a DEVICE_LOST
 * error the worker is replaced by a fresh one (new ORT instance, new GPU device) — at once with a persistent store, at
 * the next run with models in memory — and hands it its models in memory and files picked from a folder.
 *
 * Build contract (esbuild.config.mjs):
 * - the worker is ui/runtime/worker/engine-worker.ts bundled as a classic IIFE (module workers from blob:/data: URLs
 *   fail in Figma's null-origin iframe); inline mode passes it as a data: URL, hosted mode as a same-origin URL;
 * - ORT's wasm (ort-wasm-simd-threaded.asyncify.wasm, for 'onnxruntime-web/webgpu') comes as bytes
 *   (`wasm: { kind: 'bytes', loadAsync }`, inline mode) or from a folder URL (`wasm: { kind: 'url', baseUrl }`).
 */
import { AppError, toAppError } from '../../protocol/errors';
import * as v from '../../protocol/validate';
import { diffusersRecipe } from '../../protocol/messages';
import type {
  DownloadProgress, EngineCapabilities, EngineClient, GenerateProgress, GenerateResult, ModelEntry, StorageInfo,
} from '../contracts/engine';
import {
  handOverValidator, workerToClientValidator, type ClientToWorker, type EngineHandOver, type EngineInitConfig, type EngineMethod, type UpscalerConfig,
  type WasmConfig,
} from './worker-protocol';

export type WasmSource =
  | { readonly kind: 'bytes'; readonly loadAsync: () => Promise<Uint8Array> }
  | { readonly kind: 'url'; readonly baseUrl: string }
  | { readonly kind: 'default' };

/** What the client needs from a Worker (a MessagePort works too, for tests). */
export interface WorkerLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message' | 'error' | 'messageerror', listener: (e: Event) => void): void;
  terminate?(): void;
  start?(): void;
}

export interface EngineClientOptions {
  /** URL of the engine worker bundle (data: URL inline, same-origin URL hosted). */
  readonly workerUrl?: string;
  /** Or a ready connection (tests: a MessagePort attached to the engine host); then no restart after DEVICE_LOST. */
  readonly createWorker?: () => WorkerLike;
  readonly wasm?: WasmSource;
  readonly devCatalogUrl?: string | undefined;
  readonly policy?: 'fast' | 'low-memory';
  readonly extraAllowedDomains?: readonly string[];
  readonly allowFallbackAdapter?: boolean;
  readonly forceProvider?: 'webgpu' | 'wasm';
  readonly memoryStore?: boolean;
  /** Built-in upscalers for Boost; `load` gives bytes (inline mode) or a URL the worker fetches (hosted mode). */
  readonly upscalers?: readonly (Omit<UpscalerConfig, 'source'> & { readonly load: () => Promise<UpscalerConfig['source']> })[];
  /**
   * Whether a WebGPU adapter is there now (default: navigator.gpu.requestAdapter() in this window). After a GPU loss
   * with models in memory, the next run moves them to a fresh worker only when one is.
   */
  readonly gpuAvailableAsync?: () => Promise<boolean>;
}

async function defaultGpuAvailableAsync(): Promise<boolean> {
  const gpu = (globalThis.navigator as (Navigator & { gpu?: GPU }) | undefined)?.gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

export interface RuntimeEngineClient extends EngineClient {
  /** Adds a model by manifest URL or manifest JSON (text or object). */
  addCustomModelAsync(input: string | object): Promise<ModelEntry>;
  pauseDownloadAsync(id: string): Promise<void>;
  cancelDownloadAsync(id: string): Promise<void>;
  /** Stops the worker (the next call starts a new one). */
  terminate(): void;
}

const generateResultValidator = v.object({
  png: v.uint8Array({ minBytes: 8 }),
  width: v.number({ integer: true, min: 1 }),
  height: v.number({ integer: true, min: 1 }),
  seed: v.number({ integer: true, min: 0 }),
  droppedTokens: v.number({ integer: true, min: 0 }),
  reproduce: v.optional(diffusersRecipe),
});

interface Pending {
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: AppError) => void;
  readonly onProgress?: (p: unknown) => void;
}

export function createEngineClient(opts: EngineClientOptions): RuntimeEngineClient {
  if (!opts.workerUrl && !opts.createWorker) throw new AppError('INTERNAL', 'createEngineClient needs workerUrl or createWorker.');
  type Conn = { worker: WorkerLike; ready: Promise<void> };
  let conn: Conn | null = null;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  let wasmBytes: Uint8Array | null = null;

  const failAll = (err: AppError): void => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  const resolveWasmAsync = async (): Promise<WasmConfig> => {
    const w = opts.wasm ?? { kind: 'default' as const };
    if (w.kind !== 'bytes') return w;
    wasmBytes ??= await w.loadAsync();
    return { kind: 'bytes', bytes: wasmBytes };
  };

  const connect = (): Conn => {
    const worker = opts.createWorker ? opts.createWorker() : (new Worker(opts.workerUrl!) as unknown as WorkerLike);
    let readyResolve!: () => void;
    let readyReject!: (e: AppError) => void;
    const ready = new Promise<void>((res, rej) => { readyResolve = res; readyReject = rej; });
    worker.addEventListener('message', (ev) => {
      let msg;
      try {
        msg = workerToClientValidator.validate((ev as MessageEvent).data);
      } catch (err) {
        console.warn('engine client: dropped an invalid message from the worker', err);
        return;
      }
      if (msg.type === 'ready') { readyResolve(); return; }
      if (msg.type === 'init-failed') { readyReject(AppError.fromData(msg.error)); return; }
      const p = pending.get(msg.id);
      if (!p) return;
      if (msg.type === 'progress') { p.onProgress?.(msg.progress); return; }
      pending.delete(msg.id);
      if (msg.type === 'result') p.resolve(msg.value);
      else {
        const err = AppError.fromData(msg.error);
        if (err.code === 'DEVICE_LOST') restartAfterDeviceLoss(c);
        p.reject(err);
      }
    });
    worker.addEventListener('error', (ev) => {
      const message = (ev as ErrorEvent).message || 'the engine worker failed to start';
      const err = new AppError('INTERNAL', `The engine stopped: ${message}.`, { hint: 'Reopen the plugin.' });
      readyReject(err);
      failAll(err);
      conn = null;
    });
    worker.start?.();
    const c = { worker, ready };
    void (async () => {
      try {
        const config: EngineInitConfig = {
          wasm: await resolveWasmAsync(),
          policy: opts.policy ?? 'fast',
          ...(opts.devCatalogUrl ? { devCatalogUrl: opts.devCatalogUrl } : {}),
          ...(opts.extraAllowedDomains ? { extraAllowedDomains: opts.extraAllowedDomains } : {}),
          ...(opts.allowFallbackAdapter ? { allowFallbackAdapter: true } : {}),
          ...(opts.forceProvider ? { forceProvider: opts.forceProvider } : {}),
          ...(opts.memoryStore ? { memoryStore: true } : {}),
          ...(opts.upscalers && opts.upscalers.length > 0 ? {
            // An upscaler that cannot be read is left out (Boost then says which factors exist), never fatal.
            upscalers: (await Promise.all(opts.upscalers.map(async ({ load, ...u }) => {
              try {
                return { ...u, source: await load() };
              } catch (err) {
                console.warn(`engine client: upscaler ${u.id} left out`, err);
                return null;
              }
            }))).filter((u): u is UpscalerConfig => u !== null),
          } : {}),
        };
        // A worker replacing one that lost its GPU takes over its models in memory (their buffers move) and picked files.
        const handed = handOver;
        handOver = null;
        const msg: ClientToWorker = { type: 'init', config: handed ? { ...config, handOver: handed } : config };
        worker.postMessage(msg, handed ? [...new Set(handed.files.map((f) => f.data.buffer as ArrayBuffer))] : []);
      } catch (err) {
        readyReject(toAppError(err));
      }
    })();
    return c;
  };

  /** Set while deciding whether to recreate the worker after a device loss; calls wait for it. */
  let restarting: Promise<void> | null = null;
  /** The kept worker (models in memory) that lost its GPU: the next run tries the GPU again in a fresh worker. */
  let gpuRetry: Conn | null = null;
  /** For the next worker: what the last one held. */
  let handOver: EngineHandOver | null = null;

  /** The old worker's models in memory and picked files (it must not be used afterwards), or null when it can't. */
  const takeHandOverAsync = async (c: Conn): Promise<EngineHandOver | null> => {
    try {
      return handOverValidator.validate(await callOnAsync<unknown>(c, 'handOver', []));
    } catch (err) {
      console.warn('engine client: the old worker handed nothing over', err);
      return null;
    }
  };

  /**
   * After DEVICE_LOST the worker's ORT instance has no usable GPU state ("null function" on every later WebGPU call),
   * so the worker is terminated and the next call starts a fresh one (new ORT, new GPUDevice) — when its store is
   * persistent (OPFS, a folder), which the new worker finds again (files picked from a folder are handed over). A
   * worker with an in-memory store (the inline mode's null origin) is kept, so downloaded models are not lost; the
   * next run hands them to a fresh worker when an adapter is there (retryGpuAsync), else continues on the CPU.
   */
  function restartAfterDeviceLoss(c: Conn): void {
    if (!opts.workerUrl || conn !== c || restarting) return; // an injected connection cannot be recreated
    restarting = (async () => {
      let persistent = false;
      try {
        persistent = (await callOnAsync<EngineCapabilities>(c, 'capabilities', [])).persistentStorage === true;
      } catch {
        persistent = true; // the worker does not answer: nothing in it is worth keeping
      }
      if (conn !== c) return;
      if (persistent) {
        handOver = await takeHandOverAsync(c); // files picked from a folder are not in the store
        c.worker.terminate?.();
        conn = null;
      } else {
        gpuRetry = c;
      }
    })().finally(() => { restarting = null; });
  }

  /**
   * Next run after a GPU loss with models in memory: when an adapter is there and nothing else is running in the old
   * worker (a download), its models move to a fresh worker (fresh ORT, fresh GPU device) — no download again. When it
   * can't yet, this run stays on the CPU and the next one tries again.
   */
  const retryGpuAsync = async (): Promise<void> => {
    const c = gpuRetry;
    if (!c || conn !== c || pending.size > 0) return;
    if (!(await (opts.gpuAvailableAsync ?? defaultGpuAvailableAsync)())) return;
    if (conn !== c || pending.size > 0) return;
    gpuRetry = null;
    const handed = await takeHandOverAsync(c);
    if (!handed || conn !== c) return; // keep the old worker (on the CPU) rather than lose its models
    handOver = handed;
    c.worker.terminate?.();
    conn = null;
  };

  const callAsync = async <T>(method: EngineMethod, args: unknown[], o: { onProgress?: (p: unknown) => void; signal?: AbortSignal } = {}): Promise<T> => {
    while (restarting) await restarting;
    if (method === 'generate' && gpuRetry && !restarting) {
      restarting = retryGpuAsync().catch((err: unknown) => console.warn('engine client: the GPU retry failed', err)).finally(() => { restarting = null; });
      while (restarting) await restarting;
    }
    conn ??= connect();
    return callOnAsync<T>(conn, method, args, o);
  };

  const callOnAsync = async <T>(c: Conn, method: EngineMethod, args: unknown[], o: { onProgress?: (p: unknown) => void; signal?: AbortSignal } = {}): Promise<T> => {
    await c.ready;
    if (o.signal?.aborted) throw new AppError('CANCELLED', 'Cancelled.');
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      // Tell the worker (it stops at its next step boundary) and reject now, so the UI is never kept waiting.
      const onAbort = (): void => {
        c.worker.postMessage({ type: 'cancel', id } satisfies ClientToWorker);
        const p = pending.get(id);
        pending.delete(id);
        p?.reject(new AppError('CANCELLED', 'Cancelled.'));
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      pending.set(id, {
        resolve: (x) => { o.signal?.removeEventListener('abort', onAbort); resolve(x as T); },
        reject: (e) => { o.signal?.removeEventListener('abort', onAbort); reject(e); },
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      });
      c.worker.postMessage({ type: 'call', id, method, args } satisfies ClientToWorker);
    });
  };

  return {
    capabilitiesAsync: () => callAsync<EngineCapabilities>('capabilities', []),
    listModelsAsync: () => callAsync<readonly ModelEntry[]>('listModels', []),
    downloadModelAsync: (id, onProgress) => callAsync<void>('downloadModel', [id], { onProgress: (p) => onProgress(p as DownloadProgress) }),
    pauseDownloadAsync: (id) => callAsync<void>('pauseDownload', [id]),
    cancelDownloadAsync: (id) => callAsync<void>('cancelDownload', [id]),
    deleteModelAsync: (id) => callAsync<void>('deleteModel', [id]),
    storageAsync: () => callAsync<StorageInfo>('storage', []),
    async generateAsync(request, { onProgress, signal } = {}) {
      const value = await callAsync<unknown>('generate', [request], {
        ...(onProgress ? { onProgress: (p: unknown) => onProgress(p as GenerateProgress) } : {}),
        ...(signal ? { signal } : {}),
      });
      try {
        return generateResultValidator.validate(value) as GenerateResult;
      } catch (err) {
        throw new AppError('INVALID_MESSAGE', `The engine returned a bad result. ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    tokenCountAsync: (modelId, text) => callAsync<number>('tokenCount', [modelId, text]),
    loadModelFromFilesAsync: (id, files, onProgress) => callAsync<void>('loadModelFromFiles', [id, [...files]], { onProgress: (p) => onProgress(p as DownloadProgress) }),
    addCustomModelAsync: (input) => callAsync<ModelEntry>('addCustomModel', [input]),
    terminate() {
      conn?.worker.terminate?.();
      conn = null;
      gpuRetry = null;
      handOver = null;
      failAll(new AppError('CANCELLED', 'The engine was stopped.'));
    },
  };
}
