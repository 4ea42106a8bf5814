/**
 * An onnxruntime-web InferenceSession wrapped as the core's ModelSession. The `ort` module is a parameter: Node tests
 * pass the bare 'onnxruntime-web', the worker passes 'onnxruntime-web/webgpu'.
 *
 * - Models describe themselves: the session's own I/O (ORT's inputMetadata/outputMetadata, else the ONNX file's graph
 *   inputs, else the manifest) is bound to the names the pipelines use through known aliases (./io-binding.ts). Feeds
 *   are converted to the dtype and rank the model declares (float16/32/64, int32/64; scalar, [1], [batch]); outputs
 *   are read in whatever dtype they come; extra outputs are never fetched. MODEL_MISMATCH, listing the model's real
 *   I/O, only when a required slot is missing, the model needs an input nothing feeds, or a shape cannot fit.
 * - Creation survives real files: free-dimension overrides for fixed-size models (from the file's own dim names),
 *   a retry at graphOptimizationLevel 'basic' when 'all' fails, and float64 graph inputs retyped to float32 when the
 *   build has no float64 kernel (WebGPU).
 * - Outputs listed in `gpuOutputs` stay on the GPU (`preferredOutputLocation: 'gpu-buffer'`) and come back as
 *   DeviceTensors: the caller owns them and must `dispose()` them (or feed them to another model). Reading one back
 *   counts in `gpuReadCounter` (exported for the bench).
 * - Every output read on the host is checked: all-zero or non-finite → BAD_MODEL_OUTPUT (ORT can silently return
 *   zeros, e.g. fp16 on an adapter without shader-f16).
 * - A lost WebGPU device → DEVICE_LOST.
 *
 * Scheduler maths decision: it stays on the CPU with one UNet-output readback per step. At 512² the latent is
 * 4×64×64 float32 = 64 KiB per read — microseconds of copy against a UNet step of 100s of ms — while GPU helper graphs
 * (the WebNN SDXL-Turbo pattern) would duplicate every scheduler in ONNX and lose the bit-exact diffusers ports in
 * ui/core/schedulers. The text-encoder and ControlNet outputs, which are bigger and feed the UNet directly, stay on the
 * GPU. Not separately benchmarked here (SwiftShader timings say nothing about real GPUs); the per-read count is
 * exported as `gpuReadCounter` so `npm run bench` can report readbacks per step on real hardware.
 */
import { fromHalf } from '../core/tensor-math';
import { AppError } from '../../protocol/errors';
import type { ComponentSpec, ModelManifest } from '../core/manifest';
import type { ModelRole, ModelSession } from '../core/session';
import type { DeviceTensor, DType, HostTensor, Tensor } from '../core/tensor';
import { adaptFeed, bindSide, CONVERTIBLE, describeIo, fitDims, slotOf, type ValueInfo } from './io-binding';
import { readOnnxIo, retypeFloat64Inputs, type OnnxIo } from './onnx-io';

/** The slice of an ORT tensor the runtime uses. */
export interface OrtTensorLike {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data?: unknown;
  readonly location?: string;
  getData?(releaseData?: boolean): Promise<unknown>;
  dispose?(): void;
}

interface OrtValueMetadataLike {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: readonly (number | string)[];
}

export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly OrtValueMetadataLike[];
  readonly outputMetadata?: readonly OrtValueMetadataLike[];
  /** `fetches`: the outputs to compute and return (extra outputs of an export are never fetched). */
  run(feeds: Record<string, OrtTensorLike>, fetches?: readonly string[]): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/** The slice of the onnxruntime-web module the runtime uses (the real module is passed with a cast). */
export interface OrtLike {
  readonly InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSessionLike> };
  readonly Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensorLike;
  readonly env: {
    wasm: { numThreads?: number; proxy?: boolean; wasmPaths?: unknown; wasmBinary?: unknown; simd?: boolean };
    webgpu?: unknown;
    logLevel?: string;
  };
}

/** GPU→CPU reads (DeviceTensor.downloadAsync and host outputs of WebGPU runs). Exported for the bench. */
export const gpuReadCounter = { reads: 0, bytes: 0 };
export function resetGpuReadCounter(): void {
  gpuReadCounter.reads = 0;
  gpuReadCounter.bytes = 0;
}

/**
 * Device tensors from any session of this runtime, so one model's GPU output can feed another model directly
 * (text encoder → UNet, ControlNet → UNet) without a readback.
 */
const ownedAny = new WeakMap<DeviceTensor, OrtTensorLike>();

/** Whether the GPU device is gone; set by the worker's `device.lost` handler (see ./webgpu.ts). */
export interface DeviceWatch {
  lost: boolean;
  reason?: string;
  /** Starts watching the device ORT runs on (`ort.env.webgpu.device` after a WebGPU session exists). */
  attach?: (device: unknown) => void;
}

export interface OrtSessionOptions {
  readonly ort: OrtLike;
  readonly role: ModelRole;
  /** For messages: the model's display name. */
  readonly modelName: string;
  readonly spec: ComponentSpec;
  readonly model: Uint8Array;
  /** External-data files, by the name the graph refers to them. */
  readonly externalData?: readonly { path: string; data: Uint8Array }[];
  readonly provider: 'webgpu' | 'wasm';
  /** Output names to keep on the GPU (only with provider 'webgpu'). */
  readonly gpuOutputs?: readonly string[];
  readonly deviceWatch?: DeviceWatch;
  /** For a fixed-size model: derive free-dimension overrides from the file's own dim names (see deriveFreeDimOverrides). */
  readonly fixedGeometry?: FixedGeometry;
  /** The `sample` channels the manifest's capabilities imply for a UNet (9 for '9ch' inpainting, else latent channels). */
  readonly expectSampleChannels?: number;
  /** Skip the all-zero check (test graphs that legitimately return zeros). Non-finite is always checked. */
  readonly allowZeroOutput?: boolean;
}

// ---------- float16 helpers: the core's IEEE 754 half conversion (round to nearest even) ----------
export { toHalf as floatToHalf, fromHalf as halfToFloat } from '../core/tensor-math';
const toFloatArray = (a: Uint16Array): Float32Array => Float32Array.from(a, fromHalf);

/**
 * Roles whose output is never all zeros in a working model (the silent-failure signature). Text-encoder rows of
 * padding and ControlNet residuals at scale 0 can legitimately be zero, so those are only checked for NaN/Infinity.
 */
const ZERO_CHECKED_ROLES: readonly ModelRole[] = ['unet', 'vae_decoder', 'vae_encoder', 'preview_decoder'];

/** Returns a problem ("all zeros", "NaN at index 3") or null. */
export function checkOutputValues(data: ArrayLike<number>, allowZero: boolean): string | null {
  let nonZero = false;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) return `${Number.isNaN(v) ? 'NaN' : 'Infinity'} at index ${i}`;
    if (v !== 0) nonZero = true;
  }
  return nonZero || allowZero || data.length === 0 ? null : `all ${data.length} values are zero`;
}

/**
 * What onnxruntime-web 1.30's WebGPU EP raises once its GPUDevice is gone (seen in Chromium with `device.destroy()`
 * mid-run, test/runtime/device-lost.browser.test.ts): the in-flight readback fails in buffer_manager.cc with "Buffer
 * was unmapped before mapping was resolved", ORT logs "WebGPU device lost (…)", and every later call into the same
 * wasm instance fails with "null function" (the EP's function table entry is gone). On the WebGPU provider each of
 * these means the device (and this ORT instance's GPU state) is lost.
 */
const DEVICE_LOST_PATTERN = /device (was |is |has been )?(lost|destroyed)|GPUDevice.*(lost|destroyed)|WebGPU device lost|Buffer was unmapped before mapping was resolved|\bnull function\b/i;

export function isDeviceLostError(err: unknown, watch: DeviceWatch | undefined): boolean {
  if (watch?.lost) return true;
  if (err instanceof AppError) return err.code === 'DEVICE_LOST';
  const msg = err instanceof Error ? err.message : String(err);
  return DEVICE_LOST_PATTERN.test(msg);
}

export function deviceLostError(reason: string | undefined, cause?: unknown): AppError {
  return new AppError('DEVICE_LOST', `The GPU stopped responding${reason ? ` (${reason})` : ''}, so this image could not be finished.`, {
    hint: 'Try again: the engine restarts the GPU connection. If it keeps happening, close other GPU-heavy tabs or use a smaller size.',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The size a fixed-size model runs at, for its free-dimension overrides. */
export interface FixedGeometry {
  readonly width: number;
  readonly height: number;
  /** VAE downsampling factor (8). */
  readonly vaeScale: number;
  readonly latentChannels: number;
  /** Token sequence length (77). */
  readonly maxLength: number;
}

/**
 * Free-dimension overrides for a fixed-size model from the model's own symbolic dims: each slot input's dims take
 * the values the pipelines feed at that size (batch 1, latent h/w, image H/W, 77 tokens for the UNet's text input).
 * The text encoder only gets batch 1 (Microsoft's SD-Turbo sample notes sequence_length 77 there spoils the image).
 * A name that would need two values is left free.
 */
export function deriveFreeDimOverrides(role: ModelRole, inputs: readonly ValueInfo[], g: FixedGeometry): Record<string, number> {
  const h = g.height / g.vaeScale;
  const w = g.width / g.vaeScale;
  const want = (slot: string | null, rank: number): (number | null)[] | null => {
    switch (slot) {
      case 'input_ids': return [1, null];
      case 'sample': return role === 'vae_encoder' ? [1, 3, g.height, g.width] : [1, null, h, w];
      case 'latent_sample': return [1, g.latentChannels, h, w];
      case 'timestep': return rank === 1 ? [1] : null;
      case 'encoder_hidden_states': return [1, g.maxLength, null];
      case 'timestep_cond': return [1, null];
      case 'controlnet_cond': return [1, 3, g.height, g.width];
      case 'conditioning_scale': return rank === 1 ? [1] : null;
      default: return null;
    }
  };
  const out: Record<string, number> = {};
  const conflicted = new Set<string>();
  for (const i of inputs) {
    if (!i.shape) continue;
    const v = want(slotOf(role, 'input', i.name), i.shape.length);
    if (!v || v.length !== i.shape.length) continue;
    i.shape.forEach((d, k) => {
      const x = v[k];
      if (typeof d !== 'string' || x == null) return;
      if (d in out && out[d] !== x) conflicted.add(d);
      else out[d] = x;
    });
  }
  for (const d of conflicted) delete out[d];
  return out;
}

/**
 * What a manifest tells session creation about a component: the geometry of a fixed-size model (for free-dimension
 * overrides) and, for the UNet, the sample channels its capabilities imply (9 for a '9ch' inpainting UNet).
 */
export function sessionHintsFor(m: ModelManifest, role: ModelRole): Pick<OrtSessionOptions, 'fixedGeometry' | 'expectSampleChannels'> {
  const fixed = m.raw.sizes.fixed;
  return {
    ...(fixed?.length === 1 ? { fixedGeometry: { width: fixed[0]!.width, height: fixed[0]!.height, vaeScale: m.vaeScale, latentChannels: m.latentChannels, maxLength: m.maxLength } } : {}),
    ...(role === 'unet' ? { expectSampleChannels: m.raw.capabilities.inpaint === '9ch' ? 2 * m.latentChannels + 1 : m.latentChannels } : {}),
  };
}

const metaOf = (m: readonly OrtValueMetadataLike[] | undefined, names: readonly string[], fallback: readonly ValueInfo[] | undefined, spec: ComponentSpec['inputs']): ValueInfo[] =>
  names.map((name) => {
    const x = m?.find((v) => v.name === name);
    if (x && x.isTensor && x.type) return { name, dtype: x.type, ...(x.shape ? { shape: [...x.shape] } : {}) };
    const f = fallback?.find((v) => v.name === name) ?? spec.find((v) => v.name === name);
    return f ? { name, ...(f.dtype ? { dtype: f.dtype } : {}), ...('dims' in f ? { shape: [...(f as { dims: (number | string)[] }).dims] } : f.shape ? { shape: [...f.shape] } : {}) } : { name };
  });

/** Creates and checks a session. Errors: MODEL_MISMATCH (listing the model's real I/O), INTERNAL (ORT could not load the file). */
export async function createOrtSessionAsync(o: OrtSessionOptions): Promise<ModelSession & { readonly provider: 'webgpu' | 'wasm'; readonly notes: readonly string[] }> {
  const { ort, spec, role } = o;
  const notes: string[] = [];
  let fileIo: OnnxIo | undefined;
  try {
    fileIo = readOnnxIo(o.model);
  } catch {
    fileIo = undefined; // not parseable here: ORT will say why
  }
  // Outputs to keep on the GPU, by the model's own names when the file shows them.
  const gpuWanted = o.provider === 'webgpu' ? (o.gpuOutputs ?? []).filter((n) => spec.outputs.some((x) => x.name === n)) : [];
  let preferredOutputLocation: unknown;
  if (gpuWanted.length > 0) {
    if (fileIo) {
      const pre = bindSide(role, 'output', spec.outputs, fileIo.outputs);
      const names = gpuWanted.map((n) => pre.byExpected.get(n)).filter((n): n is string => !!n);
      if (names.length > 0) preferredOutputLocation = Object.fromEntries(names.map((n) => [n, 'gpu-buffer']));
    } else {
      preferredOutputLocation = 'gpu-buffer';
    }
  }
  const overrides: Record<string, number> = {
    ...(fileIo && o.fixedGeometry ? deriveFreeDimOverrides(role, fileIo.inputs, o.fixedGeometry) : {}),
    ...(spec.free_dimension_overrides ?? {}),
  };
  const optionsFor = (level: 'all' | 'basic'): Record<string, unknown> => ({
    executionProviders: [o.provider],
    graphOptimizationLevel: level,
    enableCpuMemArena: o.provider !== 'webgpu',
    enableMemPattern: o.provider !== 'webgpu',
    ...(Object.keys(overrides).length > 0 ? { freeDimensionOverrides: overrides } : {}),
    ...(preferredOutputLocation ? { preferredOutputLocation } : {}),
    ...(o.externalData && o.externalData.length > 0 ? { externalData: o.externalData.map((e) => ({ path: e.path, data: e.data })) } : {}),
  });

  const isFloat64Problem = (msg: string): boolean =>
    /Could not find an implementation for Cast|Provider type for Cast node|double|float64|tensor\(double\)/i.test(msg) && !!fileIo?.inputs.some((i) => i.dtype === 'float64');
  const failure = (err: unknown): never => {
    if (o.provider === 'webgpu' && isDeviceLostError(err, o.deviceWatch)) throw deviceLostError(o.deviceWatch?.reason, err);
    const msg = err instanceof Error ? err.message : String(err);
    if (isFloat64Problem(msg)) {
      throw new AppError('MODEL_MISMATCH', `The ${role} of ${o.modelName} uses 64-bit floats inside its graph, which this build of onnxruntime-web cannot run on ${o.provider} (${msg}).`, {
        hint: 'Use an export of this model whose inputs and maths are float32 or float16.',
        cause: err,
      });
    }
    throw new AppError('INTERNAL', `Could not load the ${role} of ${o.modelName} on ${o.provider}: ${msg}`, { cause: err });
  };

  let session: OrtSessionLike | undefined;
  let firstError: unknown;
  try {
    session = await ort.InferenceSession.create(o.model, optionsFor('all'));
  } catch (err) {
    if (o.provider === 'webgpu' && isDeviceLostError(err, o.deviceWatch)) throw deviceLostError(o.deviceWatch?.reason, err);
    firstError = err;
  }
  if (!session && fileIo && isFloat64Problem(String(firstError instanceof Error ? firstError.message : firstError))) {
    // No float64 kernel in this build (the WebGPU bundle): feed float32 instead, when the graph only casts the input.
    const retyped = retypeFloat64Inputs(o.model, fileIo);
    if (retyped.length > 0) {
      try {
        session = await ort.InferenceSession.create(o.model, optionsFor('all'));
        notes.push(`float64 input${retyped.length > 1 ? 's' : ''} ${retyped.map((n) => `"${n}"`).join(', ')} fed as float32 (no float64 kernel on ${o.provider})`);
        fileIo = readOnnxIo(o.model);
      } catch (err) {
        firstError = err;
      }
    }
  }
  if (!session && firstError !== undefined && !/protobuf parsing failed|invalid model|not a valid|Failed to load model because protobuf/i.test(String(firstError instanceof Error ? firstError.message : firstError))) {
    // Some exports trip a graph fusion at level 'all' (reported for the aislamov LCM UNet); 'basic' skips those.
    try {
      session = await ort.InferenceSession.create(o.model, optionsFor('basic'));
      notes.push(`graph optimisation 'basic' (level 'all' failed: ${firstError instanceof Error ? firstError.message : String(firstError)})`);
    } catch {
      /* report the first error */
    }
  }
  if (!session) return failure(firstError);

  const inputsInfo = metaOf(session.inputMetadata, session.inputNames, fileIo?.inputs, spec.inputs);
  const outputsInfo = metaOf(session.outputMetadata, session.outputNames, fileIo?.outputs, spec.outputs);
  const io = describeIo(inputsInfo, outputsInfo);
  const inBind = bindSide(role, 'input', spec.inputs, inputsInfo);
  const outBind = bindSide(role, 'output', spec.outputs, outputsInfo);
  const problems = [...inBind.problems, ...outBind.problems];
  if (o.expectSampleChannels !== undefined) {
    const sampleName = inBind.bySlot.get('sample');
    const ch = inputsInfo.find((i) => i.name === sampleName)?.shape?.[1];
    if (typeof ch === 'number' && ch > 0 && ch !== o.expectSampleChannels) {
      problems.push(ch === 9
        ? `it takes 9-channel samples (an inpainting UNet), but the manifest declares a ${o.expectSampleChannels}-channel model; declare capabilities.inpaint "9ch" with txt2img and img2img false`
        : `it takes ${ch}-channel samples, but the manifest's capabilities need ${o.expectSampleChannels}`);
    }
  }
  if (o.provider === 'webgpu') o.deviceWatch?.attach?.((ort.env as { webgpu?: { device?: unknown } }).webgpu?.device);
  if (problems.length > 0) {
    await session.release().catch(() => undefined);
    throw new AppError('MODEL_MISMATCH', `The ${role} of ${o.modelName} cannot be used: ${problems.join('; ')}. The model's ${io}.`, {
      hint: 'The model is not the kind its manifest says, or uses names the app does not know; fix the manifest (capabilities, components) to match the model.',
    });
  }
  const inputInfoByName = new Map(inputsInfo.map((i) => [i.name, i] as const));
  /** Feed key (a manifest name, a slot name or the model's own name) → the model's input name, or null to drop. */
  const resolveFeed = (key: string): string | null | undefined => {
    const a = inBind.byExpected.get(key) ?? (inputInfoByName.has(key) ? key : undefined);
    if (a) return a;
    const slot = slotOf(role, 'input', key);
    const bySlot = slot ? inBind.bySlot.get(slot) : undefined;
    if (bySlot) return bySlot;
    if (inBind.dropped.has(key) || slot === 'timestep_cond' || slot === 'conditioning_scale') return null;
    return undefined;
  };
  const fetchNames = [...new Set(outBind.byExpected.values())];
  const expectedOf = new Map<string, string[]>();
  for (const [e, a] of outBind.byExpected) expectedOf.set(a, [...(expectedOf.get(a) ?? []), e]);

  let released = false;
  const bad = (name: string, problem: string): AppError =>
    new AppError('BAD_MODEL_OUTPUT', `The ${role} of ${o.modelName} produced unusable output "${name}" (${problem}) on ${o.provider}.`, {
      hint: o.provider === 'webgpu'
        ? 'This GPU may not run this model correctly; try the CPU path, or a float32 model.'
        : 'The model file may be damaged; delete and download it again.',
    });

  const toHost = (name: string, t: OrtTensorLike, data: unknown): HostTensor => {
    let out: HostTensor;
    if (t.type === 'float16') {
      const halves = data instanceof Uint16Array ? data : new Uint16Array((data as { buffer: ArrayBuffer }).buffer);
      out = { kind: 'host', dtype: 'float32', dims: [...t.dims], data: toFloatArray(halves) };
    } else if (CONVERTIBLE.has(t.type)) {
      out = { kind: 'host', dtype: t.type as DType, dims: [...t.dims], data: data as HostTensor['data'] };
    } else {
      throw new AppError('MODEL_MISMATCH', `The ${role} of ${o.modelName} returned "${name}" as ${t.type}, which the runtime does not handle. The model's ${io}.`);
    }
    if (out.dtype === 'float32' || out.dtype === 'float64') {
      const problem = checkOutputValues(out.data as Float32Array, o.allowZeroOutput === true || !ZERO_CHECKED_ROLES.includes(role));
      if (problem) throw bad(name, problem);
    }
    return out;
  };

  const deviceTensor = (name: string, t: OrtTensorLike): DeviceTensor => {
    let disposed = false;
    const d: DeviceTensor = {
      kind: 'device',
      dtype: t.type === 'float16' ? 'float16' : (t.type as DType),
      dims: [...t.dims],
      async downloadAsync() {
        if (disposed) throw new AppError('INTERNAL', `The GPU tensor "${name}" was already disposed.`);
        const data = await t.getData!();
        gpuReadCounter.reads++;
        gpuReadCounter.bytes += (data as ArrayBufferView).byteLength ?? 0;
        return toHost(name, t, data);
      },
      dispose() {
        if (disposed) return;
        disposed = true;
        t.dispose?.();
      },
    };
    ownedAny.set(d, t);
    return d;
  };

  const toOrtAsync = async (key: string, name: string, t: Tensor): Promise<OrtTensorLike> => {
    const info = inputInfoByName.get(name);
    if (t.kind === 'device') {
      const inner = ownedAny.get(t);
      const fit = fitDims(t.dims, info?.shape);
      if (inner && (!info?.dtype || inner.type === info.dtype) && 'dims' in fit && fit.dims === t.dims) return inner;
      t = await t.downloadAsync(); // another runtime's tensor, or a dtype/rank change: go through the host
    }
    const adapted = adaptFeed(t, info);
    if ('problem' in adapted) {
      throw new AppError('MODEL_MISMATCH', `The ${role} of ${o.modelName} cannot take "${key}"${key === name ? '' : ` (its input "${name}")`}: ${adapted.problem}. The model's ${io}.`, {
        hint: 'The model was exported for another size or layout than its manifest says; fix the manifest (sizes, capabilities) to match the model.',
      });
    }
    const h = adapted.tensor;
    return new ort.Tensor(h.dtype, h.data, h.dims);
  };

  const wrapped = {
    provider: o.provider,
    notes,
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    async runAsync(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>> {
      if (released) throw new AppError('INTERNAL', `The ${role} session was already released.`);
      const ortFeeds: Record<string, OrtTensorLike> = {};
      const unknown: string[] = [];
      const plan: [string, string, Tensor][] = [];
      for (const [k, v] of Object.entries(feeds)) {
        const name = resolveFeed(k);
        if (name === null) continue;
        if (name === undefined || plan.some(([, n]) => n === name)) unknown.push(k);
        else plan.push([k, name, v]);
      }
      const missing = session.inputNames.filter((n) => !plan.some(([, x]) => x === n));
      if (missing.length || unknown.length) {
        throw new AppError('MODEL_MISMATCH', `The ${role} of ${o.modelName} was given the wrong inputs:${missing.length ? ` missing ${missing.map((n) => `"${n}"`).join(', ')}` : ''}${unknown.length ? ` unexpected ${unknown.map((n) => `"${n}"`).join(', ')}` : ''}. The model's ${io}.`);
      }
      for (const [k, name, v] of plan) ortFeeds[name] = await toOrtAsync(k, name, v);
      let out: Record<string, OrtTensorLike>;
      try {
        out = await session.run(ortFeeds, fetchNames);
      } catch (err) {
        if (o.provider === 'webgpu' && isDeviceLostError(err, o.deviceWatch)) throw deviceLostError(o.deviceWatch?.reason, err);
        if (err instanceof AppError) throw err;
        const msg = err instanceof Error ? err.message : String(err);
        throw new AppError('INTERNAL', `The ${role} of ${o.modelName} failed to run on ${o.provider}: ${msg}`, { cause: err });
      }
      if (o.provider === 'webgpu' && o.deviceWatch?.lost) {
        for (const t of Object.values(out)) t.dispose?.();
        throw deviceLostError(o.deviceWatch.reason);
      }
      const result: Record<string, Tensor> = {};
      try {
        for (const [name, t] of Object.entries(out)) {
          const keys = expectedOf.get(name);
          if (!keys) { t.dispose?.(); continue; } // an output nobody asked for (some fakes ignore fetches)
          let v: Tensor;
          if (t.location === 'gpu-buffer') {
            v = deviceTensor(name, t);
          } else {
            if (o.provider === 'webgpu') { gpuReadCounter.reads++; gpuReadCounter.bytes += (t.data as ArrayBufferView | undefined)?.byteLength ?? 0; }
            v = toHost(name, t, t.data);
          }
          result[keys[0]!] = v;
          // One model output bound to two expected names: later names get host copies, so each can be disposed alone.
          for (const k of keys.slice(1)) result[k] = v.kind === 'host' ? v : await v.downloadAsync();
        }
      } catch (err) {
        for (const v of Object.values(result)) if (v.kind === 'device') v.dispose();
        throw err;
      }
      return result;
    },
    async releaseAsync() {
      if (released) return;
      released = true;
      await session.release();
    },
  };
  return wrapped;
}
