/**
 * The bench's generated SD-shaped models (bench/graphs), at the tiny size: real I/O names/dtypes/shapes, only ops
 * ORT-web runs on wasm and WebGPU at opset 17, topology counts that match diffusers' modules, deterministic bytes,
 * and they load and run in onnxruntime-web with finite outputs (ControlNet residuals feeding the UNet).
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { onnx } from 'onnx-proto';
import {
  BENCH_CONFIG, CONTROLNET_RESIDUALS, TINY_CONFIG, buildControlNet, buildTextEncoder, buildUnet, buildUnetBlock,
  buildVaeDecoder, buildVaeEncoder, residualShapes, type GeneratedModel,
} from '../../bench/graphs/sd-models';
import { buildBenchModelSet } from '../../bench/graphs/bench-model-set';
import { BENCH_OPSET } from '../../bench/graphs/graph-builder';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

/** Ops the generator may emit: all implemented by ORT-web's wasm EP and its WebGPU EP at opset 17. */
const ALLOWED_OPS = new Set([
  'Add', 'Cast', 'Concat', 'Conv', 'Cos', 'Erf', 'Gather', 'Identity', 'InstanceNormalization', 'LayerNormalization',
  'MatMul', 'Mod', 'Mul', 'Reshape', 'Resize', 'Shape', 'Sigmoid', 'Sin', 'Slice', 'Softmax', 'Split', 'Transpose', 'Unsqueeze',
]);

const tiny = {
  text: buildTextEncoder(TINY_CONFIG),
  unet: buildUnet(TINY_CONFIG),
  unetCn: buildUnet(TINY_CONFIG, { controlnetResiduals: true }),
  vaeDecoder: buildVaeDecoder(TINY_CONFIG),
  vaeEncoder: buildVaeEncoder(TINY_CONFIG),
  controlnet: buildControlNet(TINY_CONFIG),
};

const concrete = (dims: readonly (number | string)[]) => dims.map((d) => (typeof d === 'number' ? d : 1));

function feedsFor(m: GeneratedModel, overrides: Record<string, ort.Tensor> = {}): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const io of m.inputs) {
    const dims = concrete(io.dims);
    const n = dims.reduce((a, b) => a * b, 1);
    if (io.dtype === 'int64') feeds[io.name] = new ort.Tensor('int64', BigInt64Array.from({ length: n }, () => 999n), dims);
    else if (io.dtype === 'int32') feeds[io.name] = new ort.Tensor('int32', Int32Array.from({ length: n }, (_, i) => (i * 7919) % 49408), dims);
    else feeds[io.name] = new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)), dims);
  }
  return { ...feeds, ...overrides };
}

async function runAsync(m: GeneratedModel, overrides: Record<string, ort.Tensor> = {}) {
  const s = await ort.InferenceSession.create(m.bytes);
  try {
    expect([...s.inputNames].sort()).toEqual(m.inputs.map((i) => i.name).sort());
    expect([...s.outputNames]).toEqual(m.outputs.map((o) => o.name));
    return await s.run(feedsFor(m, overrides));
  } finally {
    await s.release();
  }
}

function expectFinite(t: ort.Tensor) {
  const d = t.data as Float32Array;
  let bad = 0;
  let energy = 0;
  for (const v of d) {
    if (!Number.isFinite(v)) bad++;
    energy += v * v;
  }
  expect(bad).toBe(0);
  expect(energy).toBeGreaterThan(0);
}

describe('bench SD-shaped graphs', () => {
  it('declare the real I/O names, dtypes and sizes (77 tokens, 4 latent channels, 8× VAE)', () => {
    const S = BENCH_CONFIG.latentSize;
    expect(S * 8).toBe(512);
    expect(tiny.text.inputs).toEqual([{ name: 'input_ids', dtype: 'int32', dims: [1, 77] }]);
    expect(tiny.text.outputs).toEqual([{ name: 'last_hidden_state', dtype: 'float32', dims: [1, 77, TINY_CONFIG.contextDim] }]);
    expect(tiny.unet.inputs.map((i) => [i.name, i.dtype])).toEqual([['sample', 'float32'], ['timestep', 'int64'], ['encoder_hidden_states', 'float32']]);
    expect(tiny.unet.outputs.map((o) => o.name)).toEqual(['out_sample']);
    expect(tiny.vaeDecoder.inputs[0]!.name).toBe('latent_sample');
    expect(tiny.vaeDecoder.outputs[0]).toEqual({ name: 'sample', dtype: 'float32', dims: ['batch', 3, 64, 64] });
    expect(tiny.vaeEncoder.inputs[0]).toEqual({ name: 'sample', dtype: 'float32', dims: ['batch', 3, 64, 64] });
    expect(tiny.vaeEncoder.outputs[0]!.name).toBe('latent_sample');
    expect(tiny.controlnet.inputs.map((i) => i.name)).toEqual(['sample', 'timestep', 'encoder_hidden_states', 'controlnet_cond', 'conditioning_scale']);
    expect(tiny.controlnet.outputs.map((o) => o.name)).toEqual(CONTROLNET_RESIDUALS);
    expect(tiny.unetCn.inputs.map((i) => i.name).slice(3)).toEqual(CONTROLNET_RESIDUALS);
  });

  it('use opset 17 and only ops ORT-web supports on wasm and WebGPU (GroupNorm composed, no GroupNormalization)', () => {
    for (const m of Object.values(tiny)) {
      const model = onnx.ModelProto.decode(m.bytes);
      expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', BENCH_OPSET]]);
      expect(BENCH_OPSET).toBe(17);
      const ops = new Set(model.graph!.node!.map((n) => n.opType!));
      for (const op of ops) expect(ALLOWED_OPS.has(op), `op ${op}`).toBe(true);
    }
  });

  it('have the UNet topology: 12 skip concats, 16 transformer blocks (32 attentions), 22 resnets, timestep embedding', () => {
    const ops = tiny.unet.opCounts;
    // Up path: 4 levels × 3 resnets, each after a skip Concat; +1 Concat in the timestep embedding (cos | sin).
    expect(ops.Concat).toBe(12 + 1);
    // Transformers: down 3 levels × 2 + mid 1 + up 3 levels × 3 = 16, each with self- and cross-attention = 32 Softmax.
    expect(ops.Softmax).toBe(32);
    expect(ops.Cos).toBe(1);
    expect(ops.Sin).toBe(1);
    // Resize = nearest upsampling, 3 times; every GroupNorm is Reshape → InstanceNormalization → Reshape.
    expect(ops.Resize).toBe(3);
    // GroupNorms: resnets 8 + 1 + 2... = 2 per resnet (22 resnets) + 1 per transformer (16) + conv_norm_out.
    expect(ops.InstanceNormalization).toBe(2 * 22 + 16 + 1);
  });

  it('give identical bytes for the same seed (the bench is reproducible)', () => {
    expect(Buffer.from(buildUnet(TINY_CONFIG).bytes).equals(Buffer.from(tiny.unet.bytes))).toBe(true);
    expect(Buffer.from(buildUnet(TINY_CONFIG, { seed: 9 }).bytes).equals(Buffer.from(tiny.unet.bytes))).toBe(false);
  });

  it('load and run in onnxruntime-web with the declared output shapes and finite, non-zero values', async () => {
    const text = await runAsync(tiny.text);
    expect(text.last_hidden_state!.dims).toEqual([1, 77, TINY_CONFIG.contextDim]);
    expectFinite(text.last_hidden_state!);
    const unet = await runAsync(tiny.unet);
    expect(unet.out_sample!.dims).toEqual([1, 4, 8, 8]);
    expectFinite(unet.out_sample!);
    const dec = await runAsync(tiny.vaeDecoder);
    expect(dec.sample!.dims).toEqual([1, 3, 64, 64]);
    expectFinite(dec.sample!);
    const enc = await runAsync(tiny.vaeEncoder);
    expect(enc.latent_sample!.dims).toEqual([1, 4, 8, 8]);
    expectFinite(enc.latent_sample!);
  });

  it('ControlNet residuals have the shapes the residual UNet takes, scale with conditioning_scale, and feed it', async () => {
    const scale = (v: number) => new ort.Tensor('float32', Float32Array.from([v]), [1]);
    const one = await runAsync(tiny.controlnet, { conditioning_scale: scale(1) });
    const half = await runAsync(tiny.controlnet, { conditioning_scale: scale(0.5) });
    const shapes = residualShapes(TINY_CONFIG);
    CONTROLNET_RESIDUALS.forEach((name, i) => {
      expect(one[name]!.dims).toEqual(shapes[i]);
      expectFinite(one[name]!);
      const a = one[name]!.data as Float32Array;
      const b = half[name]!.data as Float32Array;
      expect(b[5]).toBeCloseTo(a[5]! / 2, 6);
    });
    const residuals: Record<string, ort.Tensor> = {};
    for (const name of CONTROLNET_RESIDUALS) residuals[name] = one[name]!;
    const withCn = await runAsync(tiny.unetCn, residuals);
    expectFinite(withCn.out_sample!);
  });

  it('count MACs as the analytic formula for one CrossAttnDownBlock2D', () => {
    const c = 16, side = 8, ctx = 32, L = 77, timeDim = 64;
    const block = buildUnetBlock({ channels: c, side, headDim: 8, groups: 4, contextDim: ctx, textLength: L, timeDim });
    expect(block.outputs[0]!.dims).toEqual([1, c, side / 2, side / 2]);
    const P = side * side;
    const resnet = 2 * P * c * c * 9 + timeDim * c;
    const selfAttn = 4 * P * c * c + 2 * P * P * c;
    const crossAttn = 2 * P * c * c + 2 * L * ctx * c + 2 * P * L * c;
    const transformer = 2 * P * c * c + selfAttn + crossAttn + 12 * P * c * c;
    const downsample = (P / 4) * c * c * 9;
    expect(block.macs).toBe(2 * (resnet + transformer) + downsample);
  });

  it('build parseable manifests for the base and ControlNet model sets', () => {
    const set = buildBenchModelSet(TINY_CONFIG, '-t');
    expect(Object.keys(set.base.manifest.components).sort()).toEqual(['text_encoder', 'unet', 'vae_decoder', 'vae_encoder']);
    expect(set.control.manifest.components.controlnet?.outputs.map((o) => o.name)).toEqual(CONTROLNET_RESIDUALS);
    expect(set.control.manifest.components.unet?.inputs.map((i) => i.name)).toContain('mid_block_additional_residual');
    expect(set.base.manifest.timestepDtype).toBe('int64');
    expect(set.base.manifest.components.unet?.files[0]?.bytes).toBe(set.models.unet.bytes.length);
  });
});
