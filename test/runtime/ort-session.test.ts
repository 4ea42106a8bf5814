import { describe, expect, it } from 'vitest';
import * as ortModule from 'onnxruntime-web';
import { AppError } from '../../protocol/errors';
import type { ComponentSpec } from '../../ui/core/manifest';
import { float32, type DeviceTensor } from '../../ui/core/tensor';
import {
  createOrtSessionAsync, floatToHalf, gpuReadCounter, halfToFloat, resetGpuReadCounter, type OrtLike, type OrtSessionLike, type OrtTensorLike,
} from '../../ui/runtime/ort-session';
import { createGraphBuilder } from '../models/graph-builder';

const ort = ortModule as unknown as OrtLike;
ort.env.wasm.numThreads = 1;

/** y = x · k (float32 [1,4]). */
function scaleGraph(k: number, inputName = 'x'): Uint8Array {
  const b = createGraphBuilder();
  const x = b.input(inputName, 'float32', [1, 4]);
  b.output(b.op('Mul', [x, b.scalar(k)]), 'y', 'float32', [1, 4]);
  return b.toBytes('scale');
}
/** y = sqrt(x) (NaN for negative x). */
function sqrtGraph(): Uint8Array {
  const b = createGraphBuilder();
  const x = b.input('x', 'float32', [1, 4]);
  b.output(b.op('Sqrt', [x]), 'y', 'float32', [1, 4]);
  return b.toBytes('sqrt');
}

const spec = (o: Partial<ComponentSpec> = {}): ComponentSpec => ({
  files: [{ path: 'm.onnx', url: 'https://huggingface.co/x/m.onnx', bytes: 1 }], model: 'm.onnx',
  inputs: [{ name: 'x', dtype: 'float32', dims: [1, 4] }], outputs: [{ name: 'y', dtype: 'float32', dims: [1, 4] }], ...o,
});

const open = (model: Uint8Array, s: ComponentSpec = spec()) =>
  createOrtSessionAsync({ ort, role: 'unet', modelName: 'Test', spec: s, model, provider: 'wasm' });

async function appError(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

describe('ORT session wrapper (onnxruntime-web wasm in Node)', () => {
  it('runs a model and returns checked host tensors', async () => {
    const s = await open(scaleGraph(2));
    try {
      const out = await s.runAsync({ x: float32([1, 4], Float32Array.of(1, 2, 3, 4)) });
      expect(out.y).toMatchObject({ kind: 'host', dtype: 'float32', dims: [1, 4] });
      expect(out.y!.kind === 'host' ? [...(out.y!.data as Float32Array)] : null).toEqual([2, 4, 6, 8]);
    } finally {
      await s.releaseAsync();
    }
  });

  it('binds the manifest names to the model\'s own names and converts dtypes (a manifest I/O list is an expectation)', async () => {
    // The model calls it "x" (an alias of sample) and "y"; the manifest says sample/out_sample in int64 — still runs.
    const s = await open(scaleGraph(2, 'x'), spec({ inputs: [{ name: 'sample', dtype: 'int64', dims: [1, 4] }], outputs: [{ name: 'out_sample', dtype: 'float16', dims: [1, 4, 1] }] }));
    try {
      const out = await s.runAsync({ sample: { kind: 'host', dtype: 'int64', dims: [1, 4], data: BigInt64Array.of(1n, 2n, 3n, 4n) } });
      expect(Object.keys(out)).toEqual(['out_sample']);
      expect([...(out.out_sample as { data: Float32Array }).data]).toEqual([2, 4, 6, 8]);
    } finally {
      await s.releaseAsync();
    }
  });

  it('a required slot the model lacks, or an input nothing can feed → MODEL_MISMATCH listing the model\'s real I/O', async () => {
    const three = spec({ inputs: ['sample', 'timestep', 'encoder_hidden_states'].map((name) => ({ name, dtype: 'float32' as const, dims: [1, 4] })) });
    const e1 = await appError(open(scaleGraph(2, 'x'), three));
    expect(e1.code).toBe('MODEL_MISMATCH');
    expect(e1.message).toMatch(/unet of Test cannot be used: it has no input for "timestep"; it has no input for "encoder_hidden_states"\. The model's inputs "x" float32 \[1,4\]; outputs "y" float32 \[1,4\]/);
    const e2 = await appError(open(scaleGraph(2, 'mystery_input'), spec({ inputs: [] as never })));
    expect(e2.message).toMatch(/it needs an input the app cannot feed: "mystery_input" float32 \[1,4\]/);
  });

  it('a feed whose shape cannot fit the model → MODEL_MISMATCH naming both shapes, before ORT runs', async () => {
    const s = await open(scaleGraph(2));
    try {
      const e = await appError(s.runAsync({ x: float32([1, 3]) }));
      expect(e.code).toBe('MODEL_MISMATCH');
      expect(e.message).toMatch(/cannot take "x": the model takes \[1,4\], the app feeds \[1,3\]\. The model's inputs "x" float32 \[1,4\]/);
      const e2 = await appError(s.runAsync({ x: float32([1, 4]), other: float32([1]) }));
      expect(e2.message).toMatch(/unexpected "other"/);
    } finally {
      await s.releaseAsync();
    }
  });

  it('an all-zero output → BAD_MODEL_OUTPUT; NaN → BAD_MODEL_OUTPUT naming the index', async () => {
    const zero = await open(scaleGraph(0));
    const nan = await open(sqrtGraph());
    try {
      const e = await appError(zero.runAsync({ x: float32([1, 4], Float32Array.of(1, 2, 3, 4)) }));
      expect(e.code).toBe('BAD_MODEL_OUTPUT');
      expect(e.message).toMatch(/"y" \(all 4 values are zero\) on wasm/);
      const e2 = await appError(nan.runAsync({ x: float32([1, 4], Float32Array.of(1, 4, -1, 9)) }));
      expect(e2.code).toBe('BAD_MODEL_OUTPUT');
      expect(e2.message).toMatch(/NaN at index 2/);
    } finally {
      await zero.releaseAsync();
      await nan.releaseAsync();
    }
  });

  it('a file that is not ONNX → INTERNAL naming the component, never a crash', async () => {
    const e = await appError(open(new TextEncoder().encode('<html>nope</html>')));
    expect(e.code).toBe('INTERNAL');
    expect(e.message).toMatch(/Could not load the unet of Test on wasm/);
  });

  it('float16 helpers round-trip exactly representable values and round to nearest even', () => {
    for (const v of [0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8]) expect(halfToFloat(floatToHalf(v))).toBe(v);
    expect(halfToFloat(floatToHalf(1 + 2 ** -11))).toBe(1); // tie → even
    expect(halfToFloat(floatToHalf(1e6))).toBe(Infinity);
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
  });
});

describe('ORT session wrapper with a fake WebGPU ORT', () => {
  /** A fake ORT whose outputs can live on the "GPU" and whose device can be lost. */
  function fakeOrt(opts: { loseDevice?: boolean } = {}) {
    const fed: OrtTensorLike[] = [];
    const produced: OrtTensorLike[] = [];
    let disposed = 0;
    const session = (inputs: string[], outputs: string[]): OrtSessionLike => ({
      inputNames: inputs, outputNames: outputs,
      inputMetadata: inputs.map((name) => ({ name, isTensor: true, type: 'float32', shape: [1, 2] })),
      outputMetadata: outputs.map((name) => ({ name, isTensor: true, type: 'float32', shape: [1, 2] })),
      async run(feeds) {
        if (opts.loseDevice) throw new Error('Failed to run: the GPU device was lost (Device was lost)');
        fed.push(...Object.values(feeds));
        const out = Object.fromEntries(outputs.map((n) => [n, {
          type: 'float32', dims: [1, 2], location: 'gpu-buffer',
          getData: async () => Float32Array.of(1, 2), dispose: () => { disposed++; },
        } satisfies OrtTensorLike]));
        produced.push(...Object.values(out));
        return out;
      },
      async release() {},
    });
    const m: OrtLike = {
      InferenceSession: { async create(_b, o) { return (o as { _io: [string[], string[]] } | undefined)?._io ? session(...(o as { _io: [string[], string[]] })._io) : session(['x'], ['y']); } },
      Tensor: class { type: string; data: unknown; dims: readonly number[]; constructor(t: string, d: unknown, dims: readonly number[]) { this.type = t; this.data = d; this.dims = dims; } } as unknown as OrtLike['Tensor'],
      env: { wasm: {} },
    };
    return { m, fed, produced, disposed: () => disposed };
  }
  const s2 = (inputs: string[], outputs: string[]): ComponentSpec => spec({
    inputs: inputs.map((name) => ({ name, dtype: 'float32', dims: [1, 2] })), outputs: outputs.map((name) => ({ name, dtype: 'float32', dims: [1, 2] })),
  });

  it('GPU outputs come back as DeviceTensors that feed the next model without a readback; reads are counted', async () => {
    const f = fakeOrt();
    const create = f.m.InferenceSession.create;
    let call = 0;
    (f.m.InferenceSession as { create: typeof create }).create = (b, o) => create(b, { ...o, _io: call++ === 0 ? [['x'], ['h']] : [['h'], ['y']] });
    const te = await createOrtSessionAsync({ ort: f.m, role: 'text_encoder', modelName: 'T', spec: s2(['x'], ['h']), model: new Uint8Array(1), provider: 'webgpu', gpuOutputs: ['h'] });
    const unet = await createOrtSessionAsync({ ort: f.m, role: 'unet', modelName: 'T', spec: s2(['h'], ['y']), model: new Uint8Array(1), provider: 'webgpu' });
    resetGpuReadCounter();
    const { h } = await te.runAsync({ x: float32([1, 2]) });
    expect(h!.kind).toBe('device');
    const out = await unet.runAsync({ h: h! });
    expect(gpuReadCounter.reads).toBe(0); // h went GPU → GPU
    expect(f.fed.at(-1)).toBe(f.produced[0]); // the very tensor ORT produced for the text encoder
    const host = await (out.y as DeviceTensor).downloadAsync();
    expect([...(host.data as Float32Array)]).toEqual([1, 2]);
    expect(gpuReadCounter).toEqual({ reads: 1, bytes: 8 });
    (h as DeviceTensor).dispose();
    (h as DeviceTensor).dispose();
    expect(f.disposed()).toBe(1);
  });

  it('a lost device during a run → DEVICE_LOST with a clear message', async () => {
    const f = fakeOrt({ loseDevice: true });
    const s = await createOrtSessionAsync({ ort: f.m, role: 'unet', modelName: 'T', spec: s2(['x'], ['y']), model: new Uint8Array(1), provider: 'webgpu' });
    const e = await appError(s.runAsync({ x: float32([1, 2]) }));
    expect(e.code).toBe('DEVICE_LOST');
    expect(e.message).toMatch(/GPU stopped responding/);
    expect(e.hint).toMatch(/Try again/);
  });
});
