/**
 * Execution-provider choice: a pure function over a frozen table (as transformers.js picks device/dtype). We never
 * rely on ORT to fail: the default ORT build runs fp16 models on an adapter without `shader-f16` and returns all
 * zeros with no error (reference/feasibility.md), so the gate is here.
 */

/** What the runtime learned about the WebGPU adapter (see ./webgpu.ts). */
export interface AdapterInfo {
  readonly available: boolean;
  readonly shaderF16: boolean;
  /** A software adapter (SwiftShader): runs, but far slower than wasm for real models. */
  readonly isFallback: boolean;
  /** Why no adapter, when `available` is false (e.g. "navigator.gpu is missing in this window"). */
  readonly unavailableReason?: string;
}

export type Provider = 'webgpu' | 'wasm';
export type ModelDType = 'float32' | 'float16';

export interface ProviderChoice {
  readonly provider: Provider;
  /** One plain sentence for the UI. */
  readonly reason: string;
}

type Case = 'no-adapter' | 'fallback-adapter' | 'f16-without-shader-f16' | 'gpu';

const TABLE: Readonly<Record<Case, ProviderChoice>> = Object.freeze({
  'no-adapter': Object.freeze({ provider: 'wasm', reason: 'No WebGPU adapter is available, so models run on the CPU (WebAssembly, one thread); this is much slower.' }),
  'fallback-adapter': Object.freeze({ provider: 'wasm', reason: 'The only WebGPU adapter is a software fallback (e.g. SwiftShader), which is slower than the CPU path, so models run on WebAssembly.' }),
  'f16-without-shader-f16': Object.freeze({ provider: 'wasm', reason: 'This GPU lacks the WebGPU "shader-f16" feature this half-precision model needs (it would return blank images), so it runs on the CPU (WebAssembly) instead.' }),
  gpu: Object.freeze({ provider: 'webgpu', reason: 'Running on the GPU with WebGPU.' }),
});

function classify(adapter: AdapterInfo, dtype: ModelDType, preferGpu: boolean): Case {
  if (!adapter.available) return 'no-adapter';
  if (dtype === 'float16' && !adapter.shaderF16) return 'f16-without-shader-f16';
  if (adapter.isFallback && !preferGpu) return 'fallback-adapter';
  return 'gpu';
}

/**
 * Picks the provider for a model of `dtype` on `adapter`. `opts.allowFallbackAdapter` lets tests (and users who ask)
 * run on a software adapter; it never overrides the shader-f16 gate.
 */
export function chooseProvider(adapter: AdapterInfo, dtype: ModelDType, opts: { allowFallbackAdapter?: boolean } = {}): ProviderChoice {
  const c = classify(adapter, dtype, opts.allowFallbackAdapter === true);
  const choice = TABLE[c];
  if (c === 'no-adapter' && adapter.unavailableReason) {
    return { provider: choice.provider, reason: `${choice.reason} (${adapter.unavailableReason})` };
  }
  return choice;
}
