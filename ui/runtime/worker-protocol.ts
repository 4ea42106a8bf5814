/**
 * Messages between the engine client (UI thread) and the engine worker. Every message is validated on arrival with
 * protocol/validate.ts; an invalid one is dropped with a warning (client) or answered with INVALID_MESSAGE (worker).
 * Only structured-clonable data crosses: primitives, plain objects, Uint8Array / Uint8ClampedArray, File/Blob.
 */
import * as v from '../../protocol/validate';
import { ERROR_CODES, type ErrorData } from '../../protocol/errors';
import { MODES } from '../../protocol/messages';
import type { RgbaImage } from '../core/image';
import type { UpscalerInfo } from './upscaler';

/** How the worker gets ORT's wasm: bytes (null-origin inline mode), a base URL (hosted mode), or ORT's default. */
export type WasmConfig = { readonly kind: 'bytes'; readonly bytes: Uint8Array } | { readonly kind: 'url'; readonly baseUrl: string } | { readonly kind: 'default' };

export interface EngineInitConfig {
  readonly wasm: WasmConfig;
  readonly policy: 'fast' | 'low-memory';
  readonly devCatalogUrl?: string;
  /** Extra allowlist entries (tests and dev servers only; manifest.json's CSP is the real gate in Figma). */
  readonly extraAllowedDomains?: readonly string[];
  /** Use a software WebGPU adapter rather than wasm (tests on SwiftShader). */
  readonly allowFallbackAdapter?: boolean;
  readonly forceProvider?: 'webgpu' | 'wasm';
  /** Force the in-memory store (tests). */
  readonly memoryStore?: boolean;
  /** Built-in upscalers for Boost: bytes (inline mode) or a same-origin URL (hosted mode). */
  readonly upscalers?: readonly UpscalerConfig[];
  /** What an earlier worker of this session held (after a GPU loss): its in-memory models and picked files. */
  readonly handOver?: EngineHandOver;
}

/**
 * An engine worker's session state that a fresh worker takes over (`handOver` call → init config): the in-memory
 * store's files (moved, zero-copy) and the files picked from a folder (File objects, shared).
 */
export interface EngineHandOver {
  readonly files: readonly { readonly path: string; readonly data: Uint8Array }[];
  readonly picked: readonly { readonly path: string; readonly file: Blob }[];
  /** Why the in-memory store does not persist (shown in the UI), as the earlier worker had it. */
  readonly reason?: string;
}

/** A bundled upscaler as the worker receives it (see ui/runtime/upscaler.ts). */
export interface UpscalerConfig extends UpscalerInfo {
  readonly source: { readonly kind: 'bytes'; readonly bytes: Uint8Array } | { readonly kind: 'url'; readonly url: string };
}

export const ENGINE_METHODS = ['capabilities', 'listModels', 'downloadModel', 'pauseDownload', 'cancelDownload', 'deleteModel', 'storage', 'generate', 'tokenCount', 'loadModelFromFiles', 'addCustomModel', 'handOver'] as const;
export type EngineMethod = (typeof ENGINE_METHODS)[number];

export type ClientToWorker =
  | { readonly type: 'init'; readonly config: EngineInitConfig }
  | { readonly type: 'call'; readonly id: number; readonly method: EngineMethod; readonly args: readonly unknown[] }
  | { readonly type: 'cancel'; readonly id: number };

export type WorkerToClient =
  | { readonly type: 'ready' }
  | { readonly type: 'init-failed'; readonly error: ErrorData }
  | { readonly type: 'progress'; readonly id: number; readonly progress: unknown }
  | { readonly type: 'result'; readonly id: number; readonly value: unknown }
  | { readonly type: 'error'; readonly id: number; readonly error: ErrorData };

const uint8ClampedArray: v.Validator<Uint8ClampedArray> = {
  expected: 'a Uint8ClampedArray',
  validate: (x, p = []) => {
    if (!(x instanceof Uint8ClampedArray)) throw new v.ValidationError(p, `expected a Uint8ClampedArray, got ${x === null ? 'null' : typeof x}`);
    return x;
  },
};

/** RGBA image: data length must be width × height × 4. */
export const rgbaImageValidator: v.Validator<RgbaImage> = v.refine(
  v.object({ width: v.number({ integer: true, min: 1, max: 8192 }), height: v.number({ integer: true, min: 1, max: 8192 }), data: uint8ClampedArray }),
  (img) => (img.data.length === img.width * img.height * 4 ? null : `expected ${img.width * img.height * 4} RGBA bytes for ${img.width}×${img.height}, got ${img.data.length}`),
);

const wasmValidator = v.taggedUnion('kind', {
  bytes: v.object({ kind: v.literal('bytes'), bytes: v.uint8Array({ minBytes: 8 }) }),
  url: v.object({ kind: v.literal('url'), baseUrl: v.string({ minLength: 1, maxLength: 2000 }) }),
  default: v.object({ kind: v.literal('default') }),
});

const blobValidator: v.Validator<Blob> = {
  expected: 'a Blob',
  validate: (x, p = []) => {
    if (typeof Blob === 'undefined' || !(x instanceof Blob)) throw new v.ValidationError(p, `expected a Blob, got ${x === null ? 'null' : typeof x}`);
    return x;
  },
};

const storePathV = v.string({ minLength: 1, maxLength: 1000 });

export const handOverValidator: v.Validator<EngineHandOver> = v.object({
  files: v.array(v.object({ path: storePathV, data: v.uint8Array() }), { maxLength: 10_000 }),
  picked: v.array(v.object({ path: storePathV, file: blobValidator }), { maxLength: 10_000 }),
  reason: v.optional(v.string({ maxLength: 4000 })),
});

export const initConfigValidator = v.object({
  wasm: wasmValidator,
  policy: v.oneOf(['fast', 'low-memory'] as const),
  devCatalogUrl: v.optional(v.string({ maxLength: 2000 })),
  extraAllowedDomains: v.optional(v.array(v.string({ minLength: 1, maxLength: 300 }), { maxLength: 20 })),
  allowFallbackAdapter: v.optional(v.boolean()),
  forceProvider: v.optional(v.oneOf(['webgpu', 'wasm'] as const)),
  memoryStore: v.optional(v.boolean()),
  upscalers: v.optional(v.array(v.object({
    id: v.string({ minLength: 1, maxLength: 100 }),
    name: v.string({ maxLength: 200 }),
    scale: v.number({ integer: true, min: 2, max: 8 }),
    range: v.number({ min: 0.001, max: 65535 }),
    receptiveRadius: v.number({ integer: true, min: 0, max: 512 }),
    licence: v.string({ maxLength: 5000 }),
    source: v.taggedUnion('kind', {
      bytes: v.object({ kind: v.literal('bytes'), bytes: v.uint8Array({ minBytes: 8 }) }),
      url: v.object({ kind: v.literal('url'), url: v.string({ minLength: 1, maxLength: 2000 }) }),
    }),
  }), { maxLength: 8 })),
  handOver: v.optional(handOverValidator),
});

export const clientToWorkerValidator = v.taggedUnion('type', {
  init: v.object({ type: v.literal('init'), config: initConfigValidator }),
  call: v.object({ type: v.literal('call'), id: v.number({ integer: true, min: 0 }), method: v.oneOf(ENGINE_METHODS), args: v.array(v.refine({ expected: 'a value', validate: (x) => x }, () => null), { maxLength: 4 }) }),
  cancel: v.object({ type: v.literal('cancel'), id: v.number({ integer: true, min: 0 }) }),
}) as v.Validator<ClientToWorker>;

const errorDataValidator = v.object({ code: v.oneOf(ERROR_CODES as readonly string[] as readonly [string, ...string[]]), message: v.string(), hint: v.optional(v.string()) }) as v.Validator<ErrorData>;

export const workerToClientValidator = v.taggedUnion('type', {
  ready: v.object({ type: v.literal('ready') }),
  'init-failed': v.object({ type: v.literal('init-failed'), error: errorDataValidator }),
  progress: v.object({ type: v.literal('progress'), id: v.number({ integer: true, min: 0 }), progress: v.refine({ expected: 'a value', validate: (x) => x }, () => null) }),
  result: v.object({ type: v.literal('result'), id: v.number({ integer: true, min: 0 }), value: v.refine({ expected: 'a value', validate: (x) => x }, () => null) }),
  error: v.object({ type: v.literal('error'), id: v.number({ integer: true, min: 0 }), error: errorDataValidator }),
}) as v.Validator<WorkerToClient>;

const text = (max: number) => v.string({ maxLength: max });
const idV = v.string({ minLength: 1, maxLength: 200 });

/** The app's GenerateRequest (ui/app/env.ts), validated in the worker before anything runs. */
export const generateRequestValidator = v.object({
  modelId: idV,
  mode: v.oneOf(MODES),
  prompt: text(10_000),
  negativePrompt: text(10_000),
  width: v.number({ integer: true, min: 8, max: 4096 }),
  height: v.number({ integer: true, min: 8, max: 4096 }),
  steps: v.number({ integer: true, min: 1, max: 150 }),
  guidanceScale: v.number({ min: 0, max: 50 }),
  seed: v.number({ integer: true, min: 0, max: 2 ** 53 - 1 }),
  strength: v.optional(v.number({ min: 0, max: 1 })),
  image: v.optional(rgbaImageValidator),
  mask: v.optional(rgbaImageValidator),
  control: v.optional(rgbaImageValidator),
  controlScale: v.optional(v.number({ min: 0, max: 4 })),
  controlType: v.optional(text(40)),
  upscale: v.optional(v.number({ integer: true, min: 2, max: 4 })),
  refineModelId: v.optional(idV),
  fullResolution: v.optional(v.object({
    width: v.number({ integer: true, min: 1, max: 4096 }),
    height: v.number({ integer: true, min: 1, max: 4096 }),
    crop: v.object({ x: v.number({ integer: true, min: 0, max: 4096 }), y: v.number({ integer: true, min: 0, max: 4096 }), width: v.number({ integer: true, min: 1, max: 4096 }), height: v.number({ integer: true, min: 1, max: 4096 }) }),
    strength: v.number({ min: 0, max: 1 }),
  })),
});

/** Argument validators per method (the worker checks calls before running them). */
export const METHOD_ARGS: Readonly<Record<EngineMethod, v.Validator<unknown[]>>> = {
  capabilities: v.array(v.plainData(), { maxLength: 0 }),
  handOver: v.array(v.plainData(), { maxLength: 0 }),
  listModels: v.array(v.plainData(), { maxLength: 0 }),
  storage: v.array(v.plainData(), { maxLength: 0 }),
  downloadModel: v.refine(v.array(v.plainData(), { minLength: 1, maxLength: 1 }), (a) => (typeof a[0] === 'string' && a[0].length > 0 ? null : 'expected [modelId]')),
  pauseDownload: v.refine(v.array(v.plainData(), { minLength: 1, maxLength: 1 }), (a) => (typeof a[0] === 'string' && a[0].length > 0 ? null : 'expected [modelId]')),
  cancelDownload: v.refine(v.array(v.plainData(), { minLength: 1, maxLength: 1 }), (a) => (typeof a[0] === 'string' && a[0].length > 0 ? null : 'expected [modelId]')),
  deleteModel: v.refine(v.array(v.plainData(), { minLength: 1, maxLength: 1 }), (a) => (typeof a[0] === 'string' && a[0].length > 0 ? null : 'expected [modelId]')),
  tokenCount: v.refine(v.array(v.plainData(), { minLength: 2, maxLength: 2 }), (a) => (typeof a[0] === 'string' && typeof a[1] === 'string' ? null : 'expected [modelId, text]')),
  generate: {
    expected: '[request]',
    validate: (x, p = []) => {
      if (!Array.isArray(x) || x.length !== 1) throw new v.ValidationError(p, 'expected [request]');
      return [generateRequestValidator.validate(x[0], [...p, 0])];
    },
  },
  loadModelFromFiles: {
    expected: '[modelId, files]',
    validate: (x, p = []) => {
      if (!Array.isArray(x) || x.length !== 2 || typeof x[0] !== 'string') throw new v.ValidationError(p, 'expected [modelId, files]');
      if (!Array.isArray(x[1]) || !x[1].every((f) => typeof Blob !== 'undefined' && f instanceof Blob)) throw new v.ValidationError([...p, 1], 'expected an array of File objects');
      return x as unknown[];
    },
  },
  addCustomModel: {
    expected: '[url or manifest]',
    validate: (x, p = []) => {
      if (!Array.isArray(x) || x.length !== 1) throw new v.ValidationError(p, 'expected [url or manifest]');
      if (typeof x[0] !== 'string') v.plainData().validate(x[0], [...p, 0]);
      return x as unknown[];
    },
  },
};
