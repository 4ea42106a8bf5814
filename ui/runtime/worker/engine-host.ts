/**
 * The worker side of the engine protocol, independent of how messages arrive: the worker entry attaches it to
 * `self`; Node tests attach it to a MessageChannel port. It configures ORT (proxy off, one wasm thread unless
 * cross-origin isolated, wasm as bytes or by URL), opens the store (OPFS, or memory with the reason), probes WebGPU and
 * creates the engine, then answers calls.
 */
import { AppError, toAppError } from '../../../protocol/errors';
import { ValidationError } from '../../../protocol/validate';
import { ALLOWED_DOMAINS, DEV_ALLOWED_DOMAINS } from '../allowed-hosts';
import { createEngineAsync, type Engine } from '../engine';
import type { OrtLike } from '../ort-session';
import type { DeviceWatch } from '../ort-session';
import type { AdapterInfo } from '../provider-choice';
import type { UpscalerModel } from '../upscaler';
import type { UpscalerConfig } from '../worker-protocol';
import { createMemoryStore, type MemoryStore } from '../store/memory-store';
import type { ModelStore } from '../store/model-store';
import { openBestStoreAsync } from '../store/opfs-store';
import { probeWebGpuAsync, watchDeviceLoss } from '../webgpu';
import {
  clientToWorkerValidator, METHOD_ARGS, type EngineHandOver, type EngineInitConfig, type WorkerToClient,
} from '../worker-protocol';

/** The wasm binary of 'onnxruntime-web/webgpu' (1.30): the asyncify build with WebGPU and CPU kernels. */
export const ORT_WEBGPU_WASM_FILE = 'ort-wasm-simd-threaded.asyncify.wasm';

export interface PortLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
}

export interface EngineHostDeps {
  readonly ort: OrtLike;
  /** Defaults: OPFS-or-memory; WebGPU probe via navigator.gpu; global fetch. */
  readonly openStoreAsync?: () => Promise<ModelStore>;
  readonly probeAdapterAsync?: () => Promise<{ info: AdapterInfo; adapterName?: string; adapter?: GPUAdapter }>;
  readonly fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  /** The wasm file name of the ORT build this worker imports (for `wasm.kind === 'url'`). */
  readonly wasmFile?: string;
  /** Built-in upscalers for Boost (the worker entry passes the bundled ones). */
  readonly upscalers?: readonly UpscalerModel[];
}

/** Applies the ORT env flags the product needs; returns the wasm thread count. */
export function configureOrtEnv(ort: OrtLike, wasm: EngineInitConfig['wasm'], wasmFile = ORT_WEBGPU_WASM_FILE): number {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const threads = isolated ? Math.min(4, Math.max(1, (globalThis.navigator?.hardwareConcurrency ?? 2) >> 1)) : 1;
  ort.env.wasm.proxy = false; // the proxy worker cannot load from a null origin, and cannot share GPU buffers
  ort.env.wasm.numThreads = threads;
  if (wasm.kind === 'bytes') ort.env.wasm.wasmBinary = wasm.bytes;
  // Only the .wasm: a string prefix would also make the bundled ORT import its glue .mjs from there, which a
  // classic worker (and the null origin) cannot do.
  else if (wasm.kind === 'url') ort.env.wasm.wasmPaths = { wasm: new URL(wasmFile, wasm.baseUrl).href };
  ort.env.logLevel = 'error';
  return threads;
}

export function attachEngineHost(port: PortLike, deps: EngineHostDeps): void {
  let enginePromise: Promise<Engine> | null = null;
  /** This worker's store (the hand-over reads an in-memory one). */
  let store: ModelStore | null = null;
  const controllers = new Map<number, AbortController>();
  const post = (m: WorkerToClient, transfer?: Transferable[]): void => port.postMessage(m, transfer ?? []);

  const initAsync = async (config: EngineInitConfig): Promise<Engine> => {
    const wasmThreads = configureOrtEnv(deps.ort, config.wasm, deps.wasmFile);
    // After a GPU loss the client starts a fresh worker (fresh ORT, fresh GPUDevice) and hands it what the last one
    // held: its in-memory models (moved, not downloaded again) and the files picked from a folder.
    const handed = config.handOver;
    const memory = handed && handed.files.length > 0 ? createMemoryStore({ files: handed.files, ...(handed.reason ? { reason: handed.reason } : {}) }) : null;
    store = memory ?? (config.memoryStore ? createMemoryStore() : await (deps.openStoreAsync ?? (() => openBestStoreAsync()))());
    // onnxruntime-web 1.30 creates its own GPUDevice and ignores one set on env.webgpu.device, so we watch the device
    // it publishes there once its first WebGPU session exists (ort-session calls `attach`); its errors after a loss
    // are recognised too (ort-session isDeviceLostError).
    const watch: DeviceWatch = { lost: false, attach: (device) => watchDeviceLoss(device, watch) };
    const probe = await (deps.probeAdapterAsync ?? (() => probeWebGpuAsync()))();
    const domains = [...ALLOWED_DOMAINS, ...(config.devCatalogUrl ? DEV_ALLOWED_DOMAINS : []), ...(config.extraAllowedDomains ?? [])];
    return createEngineAsync({
      ort: deps.ort, store,
      network: { domains, ...(deps.fetch ? { fetch: deps.fetch } : {}) },
      adapter: probe.info,
      ...(probe.adapterName ? { adapterName: probe.adapterName } : {}),
      policy: config.policy,
      ...(config.devCatalogUrl ? { devCatalogUrl: config.devCatalogUrl } : {}),
      ...(globalThis.navigator?.storage?.estimate ? { estimate: () => globalThis.navigator.storage.estimate() } : {}),
      deviceWatch: watch,
      ...(handed && handed.picked.length > 0 ? { picked: handed.picked.map((p) => [p.path, p.file] as const) } : {}),
      ...(config.allowFallbackAdapter ? { allowFallbackAdapter: true } : {}),
      ...(config.forceProvider ? { forceProvider: config.forceProvider } : {}),
      crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
      wasmThreads,
      upscalers: [...(deps.upscalers ?? []), ...(config.upscalers ?? []).map((u) => upscalerFromConfig(u, deps.fetch ?? ((url: string) => fetch(url))))],
      // ORT keeps the device it started with; after a loss this engine continues on wasm until the client starts a
      // fresh worker for a fresh GPU device (at once with a persistent store; at the next run with models in memory).
      recoverDeviceAsync: async () => ({ available: false, shaderF16: false, isFallback: false, unavailableReason: 'the GPU device was lost; this run continues on the CPU, and the next one tries the GPU again' }),
    });
  };

  const callAsync = async (engine: Engine, id: number, method: string, args: unknown[], signal: AbortSignal): Promise<{ value: unknown; transfer?: Transferable[] }> => {
    const progress = (p: unknown): void => post({ type: 'progress', id, progress: p });
    switch (method) {
      case 'capabilities': return { value: await engine.capabilitiesAsync() };
      case 'listModels': return { value: await engine.listModelsAsync() };
      case 'storage': return { value: await engine.storageAsync() };
      case 'downloadModel': await engine.downloadModelAsync(args[0] as string, progress); return { value: null };
      case 'pauseDownload': await engine.pauseDownloadAsync(args[0] as string); return { value: null };
      case 'cancelDownload': await engine.cancelDownloadAsync(args[0] as string); return { value: null };
      case 'deleteModel': await engine.deleteModelAsync(args[0] as string); return { value: null };
      case 'tokenCount': return { value: await engine.tokenCountAsync(args[0] as string, args[1] as string) };
      case 'loadModelFromFiles': await engine.loadModelFromFilesAsync!(args[0] as string, args[1] as File[], progress); return { value: null };
      case 'addCustomModel': return { value: await engine.addCustomModelAsync(args[0] as string | object) };
      case 'handOver': {
        // The last call to this worker: the client terminates it next. In-memory files move (their buffers are
        // transferred, so this worker no longer has them); picked files are shared.
        const files = store?.kind === 'memory' && 'exportFiles' in store ? (store as MemoryStore).exportFiles() : [];
        const picked = engine.pickedFiles().map(([path, file]) => ({ path, file }));
        const buffers = [...new Set(files.map((f) => f.data.buffer as ArrayBuffer))];
        const reason = files.length > 0 ? store?.reason : undefined;
        return { value: { files, picked, ...(reason ? { reason } : {}) } satisfies EngineHandOver, transfer: buffers };
      }
      case 'generate': {
        const result = await engine.generateAsync(args[0] as Parameters<Engine['generateAsync']>[0], { onProgress: progress, signal });
        return { value: result, transfer: [result.png.buffer as ArrayBuffer] };
      }
      default: throw new AppError('INVALID_MESSAGE', `Unknown engine method ${JSON.stringify(method)}.`);
    }
  };

  port.addEventListener('message', (e: MessageEvent) => {
    let msg;
    try {
      msg = clientToWorkerValidator.validate(e.data);
    } catch (err) {
      const id = (e.data as { id?: unknown } | null)?.id;
      if (typeof id === 'number') post({ type: 'error', id, error: new AppError('INVALID_MESSAGE', `The engine got a bad message. ${err instanceof Error ? err.message : String(err)}`).toData() });
      else console.warn('engine worker: dropped an invalid message', err);
      return;
    }
    if (msg.type === 'init') {
      if (enginePromise) return;
      enginePromise = initAsync(msg.config);
      enginePromise.then(() => post({ type: 'ready' }), (err: unknown) => post({ type: 'init-failed', error: toAppError(err).toData() }));
      return;
    }
    if (msg.type === 'cancel') {
      controllers.get(msg.id)?.abort();
      return;
    }
    const { id, method } = msg;
    if (!enginePromise) {
      post({ type: 'error', id, error: new AppError('INTERNAL', 'The engine was called before init.').toData() });
      return;
    }
    const controller = new AbortController();
    controllers.set(id, controller);
    void (async () => {
      try {
        let args: unknown[];
        try {
          args = METHOD_ARGS[method].validate(msg.args, ['args']);
        } catch (err) {
          throw new AppError('INVALID_INPUT', `Bad ${method} request. ${err instanceof ValidationError ? err.message : String(err)}`);
        }
        const engine = await enginePromise!;
        const { value, transfer } = await callAsync(engine, id, method, args, controller.signal);
        post({ type: 'result', id, value }, transfer);
      } catch (err) {
        post({ type: 'error', id, error: toAppError(err).toData() });
      } finally {
        controllers.delete(id);
      }
    })();
  });
}

/** An upscaler from the init config: its bytes, or fetched once from its (same-origin) URL on first use. */
function upscalerFromConfig(u: UpscalerConfig, fetchFn: (url: string) => Promise<Response>): UpscalerModel {
  const { source, ...meta } = u;
  return {
    ...meta,
    loadAsync: async () => {
      if (source.kind === 'bytes') return source.bytes;
      const res = await fetchFn(source.url);
      if (!res.ok) throw new AppError('MODEL_NOT_READY', `The built-in upscaler could not be loaded (${source.url}: HTTP ${res.status}).`, { hint: 'Reload the plugin.' });
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}
