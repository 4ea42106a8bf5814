import { describe, expect, it } from 'vitest';
import * as ortModule from 'onnxruntime-web';
import { AppError } from '../../protocol/errors';
import type { ComponentSpec } from '../../ui/core/manifest';
import { float32, type DeviceTensor } from '../../ui/core/tensor';
import {
  createOrtSessionAsync, deriveFreeDimOverrides, floatToHalf, gpuReadCounter, halfToFloat, resetGpuReadCounter, type OrtLike, type OrtSessionLike, type OrtTensorLike,
} from '../../ui/runtime/ort-session';
import { createGraphBuilder } from '../models/graph-builder';
import { adaptFeed, bindSide, convertDtype, fitDims, slotOf } from '../../ui/runtime/io-binding';

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

describe('session creation that survives real files', () => {
  /** An ORT whose create() records its options and fails the first `failures` calls with `message`. */
  function recordingOrt(failures: number, message: string) {
    const options: Record<string, unknown>[] = [];
    const m: OrtLike = {
      InferenceSession: {
        async create(b, o) {
          options.push(o ?? {});
          if (options.length <= failures) throw new Error(message);
          // Always wasm underneath (Node has no WebGPU): the options recorded are what the runtime asked for.
          return ortModule.InferenceSession.create(b, { ...(o as object), executionProviders: ['wasm'] } as never) as unknown as OrtSessionLike;
        },
      },
      Tensor: ortModule.Tensor as unknown as OrtLike['Tensor'],
      env: ort.env,
    };
    return { m, options };
  }
  /** A UNet-shaped graph with symbolic dims: y = sample + 0·(timestep, ehs summed). */
  function unetLike(): Uint8Array {
    const b = createGraphBuilder();
    const x = b.input('sample', 'float32', ['batch_size', 'num_channels', 'height', 'width']);
    b.input('timestep', 'int64', ['batch_size']);
    b.input('encoder_hidden_states', 'float32', ['batch_size', 'sequence_length', 8]);
    b.output(b.op('Identity', [x]), 'out_sample', 'float32', ['batch_size', 'num_channels', 'height', 'width']);
    return b.toBytes('unet_like');
  }
  const unetSpec = spec({
    inputs: [{ name: 'sample', dtype: 'float32', dims: ['b', 'c', 'h', 'w'] }, { name: 'timestep', dtype: 'float32', dims: [1] }, { name: 'encoder_hidden_states', dtype: 'float32', dims: ['b', 's', 8] }],
    outputs: [{ name: 'out_sample', dtype: 'float32', dims: ['b', 'c', 'h', 'w'] }],
  });

  it('a fixed-size model gets free-dimension overrides from the file\'s own dim names (the text encoder only batch 1)', async () => {
    const r = recordingOrt(0, '');
    const s = await createOrtSessionAsync({
      ort: r.m, role: 'unet', modelName: 'T', spec: unetSpec, model: unetLike(), provider: 'wasm',
      fixedGeometry: { width: 512, height: 512, vaeScale: 8, latentChannels: 4, maxLength: 77 },
    });
    expect(r.options[0]!.freeDimensionOverrides).toEqual({ batch_size: 1, height: 64, width: 64, sequence_length: 77 });
    const out = await s.runAsync({ sample: float32([1, 4, 64, 64], new Float32Array(4 * 64 * 64).fill(1)), timestep: float32([1], Float32Array.of(999)), encoder_hidden_states: float32([1, 77, 8]) });
    expect(out.out_sample!.dims).toEqual([1, 4, 64, 64]);
    await s.releaseAsync();
    expect(deriveFreeDimOverrides('text_encoder', [{ name: 'input_ids', dtype: 'int32', shape: ['batch_size', 'sequence_length'] }], { width: 512, height: 512, vaeScale: 8, latentChannels: 4, maxLength: 77 }))
      .toEqual({ batch_size: 1 });
  });

  it('graph optimisation \'all\' failing → retried at \'basic\', and the note says so', async () => {
    const r = recordingOrt(1, 'SkipLayerNormFusion: graph fusion crashed');
    const s = await createOrtSessionAsync({ ort: r.m, role: 'unet', modelName: 'T', spec: unetSpec, model: unetLike(), provider: 'wasm' });
    expect(r.options.map((o) => o.graphOptimizationLevel)).toEqual(['all', 'basic']);
    expect(s.notes.join(' ')).toMatch(/graph optimisation 'basic' \(level 'all' failed: SkipLayerNormFusion/);
    await s.releaseAsync();
    // Both failing: the first error is reported, naming the component.
    const r2 = recordingOrt(2, 'fusion crashed');
    const e = await appError(createOrtSessionAsync({ ort: r2.m, role: 'unet', modelName: 'T', spec: unetSpec, model: unetLike(), provider: 'wasm' }));
    expect(e.message).toMatch(/Could not load the unet of T on wasm: fusion crashed/);
  });

  it('float64 inputs where the build has no float64 kernel → retyped to float32 in the graph and fed as float32', async () => {
    const b = createGraphBuilder();
    const x = b.input('x', 'float32', [1, 4]);
    const sc = b.input('conditioning_scale', 'float64', [1]);
    b.output(b.op('Mul', [x, b.op('Cast', [sc], { to: 1 })]), 'y', 'float32', [1, 4]);
    const model = b.toBytes('f64');
    const r = recordingOrt(1, "Provider type for Cast node with name 'Cast_node_6' is not set.");
    const s = await createOrtSessionAsync({ ort: r.m, role: 'controlnet', modelName: 'T', spec: spec({ inputs: [{ name: 'x', dtype: 'float32', dims: [1, 4] }, { name: 'conditioning_scale', dtype: 'float64', dims: [] }] }), model, provider: 'webgpu', allowZeroOutput: true });
    expect(s.notes.join(' ')).toMatch(/float64 input "conditioning_scale" fed as float32/);
    const out = await s.runAsync({ x: float32([1, 4], Float32Array.of(1, 2, 3, 4)), conditioning_scale: { kind: 'host', dtype: 'float64', dims: [], data: Float64Array.of(0.5) } });
    expect([...(out.y as { data: Float32Array }).data]).toEqual([0.5, 1, 1.5, 2]);
    await s.releaseAsync();
  });
});

describe('I/O binding and feed conversion (pure)', () => {
  it('binds by name, alias, then position; extra outputs are ignored; a missing required slot is a problem', () => {
    const want = [{ name: 'sample', dtype: 'float32' as const, dims: [] }, { name: 'timestep', dtype: 'int64' as const, dims: [] }, { name: 'encoder_hidden_states', dtype: 'float32' as const, dims: [] }];
    const b = bindSide('unet', 'input', want, [{ name: 'latents' }, { name: 't' }, { name: 'context' }]);
    expect([...b.byExpected]).toEqual([['sample', 'latents'], ['timestep', 't'], ['encoder_hidden_states', 'context']]);
    const out = bindSide('text_encoder', 'output', [{ name: 'last_hidden_state', dtype: 'float32', dims: [] }], [{ name: '1234' }, { name: 'pooler_output' }]);
    expect(out.byExpected.get('last_hidden_state')).toBe('1234');
    expect(out.problems).toEqual([]);
    expect(bindSide('unet', 'input', want, [{ name: 'latents' }]).problems.join(' ')).toMatch(/no input for "timestep"/);
    expect(slotOf('controlnet', 'output', 'down_block_res_samples.3')).toBe('down_block_3_additional_residual');
    expect(slotOf('unet', 'input', 'mid_block_res_sample')).toBe('mid_block_additional_residual');
  });

  it('converts dtypes (integers truncate like numpy) and ranks (scalar ↔ [1] ↔ [batch]); refuses shapes that cannot fit', () => {
    const t = float32([1], Float32Array.of(977.9));
    expect(convertDtype(t, 'int64').data).toEqual(BigInt64Array.of(977n));
    expect(convertDtype(t, 'float16').dtype).toBe('float16');
    expect(fitDims([1], [])).toEqual({ dims: [] });
    expect(fitDims([], ['batch'])).toEqual({ dims: [1] });
    expect(fitDims([1, 4, 8, 8], ['b', 9, 'h', 'w'])).toEqual({ problem: 'the model takes [b,9,h,w], the app feeds [1,4,8,8]' });
    expect(adaptFeed(float32([], Float32Array.of(0.5)), { name: 's', dtype: 'float64', shape: [1] })).toMatchObject({ tensor: { dtype: 'float64', dims: [1] } });
  });
});
