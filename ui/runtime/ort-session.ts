/**
 * An onnxruntime-web InferenceSession wrapped as the core's ModelSession. The `ort` module is a parameter: Node tests
 * pass the bare 'onnxruntime-web', the worker passes 'onnxruntime-web/webgpu'.
 *
 * - Checks the session's input/output names and dtypes against the manifest component (MODEL_MISMATCH naming the
 *   difference) before any run.
 * - Host feeds are converted to the dtype the model declares (float32 ↔ float16), so pipelines think in float32.
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
import { fromHalf, toHalf } from '../core/tensor-math';
import { AppError } from '../../protocol/errors';
import type { ComponentSpec } from '../core/manifest';
import type { ModelRole, ModelSession } from '../core/session';
import type { DeviceTensor, DType, HostTensor, Tensor } from '../core/tensor';

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
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
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
  /** Skip the all-zero check (test graphs that legitimately return zeros). Non-finite is always checked. */
  readonly allowZeroOutput?: boolean;
}

// ---------- float16 helpers: the core's IEEE 754 half conversion (round to nearest even) ----------
export { toHalf as floatToHalf, fromHalf as halfToFloat } from '../core/tensor-math';
const toHalfArray = (a: ArrayLike<number>): Uint16Array => Uint16Array.from(a, toHalf);
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

const KNOWN: readonly DType[] = ['float32', 'float16', 'float64', 'int32', 'int64'];

/** Compares a created session with its manifest component; returns the differences (empty when they agree). */
export function diffSessionIo(session: OrtSessionLike, spec: ComponentSpec): string[] {
  const out: string[] = [];
  const side = (kind: 'input' | 'output', names: readonly string[], meta: readonly OrtValueMetadataLike[] | undefined, want: ComponentSpec['inputs']): void => {
    const missing = want.filter((w) => !names.includes(w.name)).map((w) => `"${w.name}"`);
    const extra = names.filter((n) => !want.some((w) => w.name === n)).map((n) => `"${n}"`);
    if (missing.length) out.push(`the model has no ${kind}${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    if (extra.length) out.push(`the model has unexpected ${kind}${extra.length > 1 ? 's' : ''} ${extra.join(', ')}`);
    for (const w of want) {
      const m = meta?.find((x) => x.name === w.name);
      if (!m || !m.isTensor || !m.type) continue;
      if (m.type !== w.dtype) out.push(`${kind} "${w.name}" is ${m.type} in the model but ${w.dtype} in the manifest`);
      if (m.shape && m.shape.length > 0 && w.dims.length > 0 && m.shape.length !== w.dims.length) {
        out.push(`${kind} "${w.name}" has rank ${m.shape.length} in the model but ${w.dims.length} in the manifest`);
      }
    }
  };
  side('input', session.inputNames, session.inputMetadata, spec.inputs);
  side('output', session.outputNames, session.outputMetadata, spec.outputs);
  return out;
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

/** Creates and checks a session. Errors: MODEL_MISMATCH, INTERNAL (ORT could not load the file). */
export async function createOrtSessionAsync(o: OrtSessionOptions): Promise<ModelSession & { readonly provider: 'webgpu' | 'wasm' }> {
  const { ort, spec, role } = o;
  const gpuOutputs = o.provider === 'webgpu' ? (o.gpuOutputs ?? []).filter((n) => spec.outputs.some((x) => x.name === n)) : [];
  const options: Record<string, unknown> = {
    executionProviders: [o.provider],
    graphOptimizationLevel: 'all',
    enableCpuMemArena: o.provider !== 'webgpu',
    enableMemPattern: o.provider !== 'webgpu',
  };
  if (spec.free_dimension_overrides) options.freeDimensionOverrides = spec.free_dimension_overrides;
  if (gpuOutputs.length > 0) options.preferredOutputLocation = Object.fromEntries(gpuOutputs.map((n) => [n, 'gpu-buffer']));
  if (o.externalData && o.externalData.length > 0) options.externalData = o.externalData.map((e) => ({ path: e.path, data: e.data }));

  let session: OrtSessionLike;
  try {
    session = await ort.InferenceSession.create(o.model, options);
  } catch (err) {
    if (o.provider === 'webgpu' && isDeviceLostError(err, o.deviceWatch)) throw deviceLostError(o.deviceWatch?.reason, err);
    const msg = err instanceof Error ? err.message : String(err);
    if (/Could not find an implementation for Cast/i.test(msg) && spec.inputs.some((i) => i.dtype === 'float64')) {
      // The 'onnxruntime-web/webgpu' build has no float64 kernels (seen with ControlNets that take a double
      // conditioning_scale and cast it inside the graph).
      throw new AppError('MODEL_MISMATCH', `The ${role} of ${o.modelName} takes a 64-bit float input, which this build of onnxruntime-web cannot run (${msg}).`, {
        hint: 'Use an export of this model whose inputs are float32 or float16.',
        cause: err,
      });
    }
    throw new AppError('INTERNAL', `Could not load the ${role} of ${o.modelName} on ${o.provider}: ${msg}`, { cause: err });
  }
  if (o.provider === 'webgpu') o.deviceWatch?.attach?.((ort.env as { webgpu?: { device?: unknown } }).webgpu?.device);
  const diff = diffSessionIo(session, spec);
  if (diff.length > 0) {
    await session.release().catch(() => undefined);
    throw new AppError('MODEL_MISMATCH', `The ${role} of ${o.modelName} does not match its manifest: ${diff.join('; ')}.`, {
      hint: 'The model files or the manifest are wrong; fix the manifest (models/*.json) to match the model.',
    });
  }

  const declared = new Map(spec.inputs.map((i) => [i.name, i.dtype] as const));
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
    } else if ((KNOWN as readonly string[]).includes(t.type)) {
      out = { kind: 'host', dtype: t.type as DType, dims: [...t.dims], data: data as HostTensor['data'] };
    } else {
      throw new AppError('MODEL_MISMATCH', `The ${role} of ${o.modelName} returned "${name}" as ${t.type}, which the runtime does not handle.`);
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

  const toOrtAsync = async (name: string, t: Tensor): Promise<{ tensor: OrtTensorLike; temp: boolean }> => {
    const want = declared.get(name);
    if (t.kind === 'device') {
      const inner = ownedAny.get(t);
      if (inner && (want === undefined || inner.type === want)) return { tensor: inner, temp: false };
      t = await t.downloadAsync(); // another runtime's tensor, or a dtype change: go through the host
    }
    if (want === 'float16' && t.dtype === 'float32') return { tensor: new ort.Tensor('float16', toHalfArray(t.data as Float32Array), t.dims), temp: true };
    if (want === 'float32' && t.dtype === 'float16') return { tensor: new ort.Tensor('float32', toFloatArray(t.data as Uint16Array), t.dims), temp: true };
    return { tensor: new ort.Tensor(t.dtype, t.data, t.dims), temp: true };
  };

  const wrapped = {
    provider: o.provider,
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    async runAsync(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>> {
      if (released) throw new AppError('INTERNAL', `The ${role} session was already released.`);
      const missing = session.inputNames.filter((n) => !(n in feeds));
      const extra = Object.keys(feeds).filter((n) => !session.inputNames.includes(n));
      if (missing.length || extra.length) {
        throw new AppError('MODEL_MISMATCH', `The ${role} of ${o.modelName} was given the wrong inputs:${missing.length ? ` missing ${missing.map((n) => `"${n}"`).join(', ')}` : ''}${extra.length ? ` unexpected ${extra.map((n) => `"${n}"`).join(', ')}` : ''}.`);
      }
      const ortFeeds: Record<string, OrtTensorLike> = {};
      for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = (await toOrtAsync(k, v)).tensor;
      let out: Record<string, OrtTensorLike>;
      try {
        out = await session.run(ortFeeds);
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
          if (t.location === 'gpu-buffer') {
            result[name] = deviceTensor(name, t);
          } else {
            if (o.provider === 'webgpu') { gpuReadCounter.reads++; gpuReadCounter.bytes += (t.data as ArrayBufferView | undefined)?.byteLength ?? 0; }
            result[name] = toHost(name, t, t.data);
          }
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

