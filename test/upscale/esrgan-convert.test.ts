/**
 * The ESRGAN-slim converter (tools/upscale): the ONNX model, run by onnxruntime-web, equals a plain evaluation of the
 * same TF.js layers in TF's own NHWC layout with TF's own kernel layout — so the NHWC→NCHW transposes, the padding,
 * the concat axis and the upsampling are all checked against an evaluator that shares none of that code.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { convertTfjsLayersToOnnx, kernelToOihw, type TfjsLayersModelJson, type TfjsWeights } from '../../tools/upscale/esrgan-to-onnx';
import { convertEsrganSlim, esrganSlimDir, readEsrganSlim } from '../../tools/upscale/esrgan-slim';
import fs from 'node:fs';
import { decodePng } from '../../ui/core/image';
import type { ModelSession } from '../../ui/core/session';
import type { HostTensor } from '../../ui/core/tensor';
import { upscaleImageAsync } from '../../ui/core/upscale';
import { seededRandom } from '../helpers/seeded-random';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

interface Nhwc { h: number; w: number; c: number; data: Float32Array }

/** Straightforward reference: each Keras layer evaluated literally on NHWC arrays. */
function evaluateLayers(model: TfjsLayersModelJson, weights: TfjsWeights, input: Nhwc): Nhwc {
  const vals = new Map<string, Nhwc>();
  for (const l of model.modelTopology.model_config.config.layers) {
    const ins = (l.inbound_nodes[0] ?? []).map((n) => vals.get(n[0])!);
    const c = l.config;
    let out: Nhwc;
    switch (l.class_name) {
      case 'InputLayer': out = input; break;
      case 'Conv2D': {
        const x = ins[0]!;
        const k = weights.get(`${l.name}/kernel`)!;
        const bias = weights.get(`${l.name}/bias`)!.data;
        const [kh, kw, ci, co] = k.shape as number[];
        const data = new Float32Array(x.h * x.w * co!);
        const ph = (kh! - 1) / 2, pw = (kw! - 1) / 2;
        for (let y = 0; y < x.h; y++) for (let xx = 0; xx < x.w; xx++) for (let o = 0; o < co!; o++) {
          let s = bias[o]!;
          for (let dy = 0; dy < kh!; dy++) {
            const sy = y + dy - ph;
            if (sy < 0 || sy >= x.h) continue;
            for (let dx = 0; dx < kw!; dx++) {
              const sx = xx + dx - pw;
              if (sx < 0 || sx >= x.w) continue;
              for (let i = 0; i < ci!; i++) s += x.data[(sy * x.w + sx) * x.c + i]! * k.data[((dy * kw! + dx) * ci! + i) * co! + o]!;
            }
          }
          data[(y * x.w + xx) * co! + o] = c['activation'] === 'relu' ? Math.max(0, s) : s;
        }
        out = { h: x.h, w: x.w, c: co!, data };
        break;
      }
      case 'Activation': {
        const x = ins[0]!;
        out = { ...x, data: x.data.map((v) => Math.max(0, v)) };
        break;
      }
      case 'Concatenate': {
        const c2 = ins.reduce((n, t) => n + t.c, 0);
        const x0 = ins[0]!;
        const data = new Float32Array(x0.h * x0.w * c2);
        for (let p = 0; p < x0.h * x0.w; p++) {
          let o = 0;
          for (const t of ins) for (let i = 0; i < t.c; i++) data[p * c2 + o++] = t.data[p * t.c + i]!;
        }
        out = { h: x0.h, w: x0.w, c: c2, data };
        break;
      }
      case 'Add': out = { ...ins[0]!, data: ins[0]!.data.map((v, i) => v + ins[1]!.data[i]!) }; break;
      case 'UpSampling2D': {
        const x = ins[0]!;
        const f = (c['size'] as number[])[0]!;
        const data = new Float32Array(x.h * f * x.w * f * x.c);
        for (let y = 0; y < x.h * f; y++) for (let xx = 0; xx < x.w * f; xx++) for (let i = 0; i < x.c; i++) {
          data[(y * x.w * f + xx) * x.c + i] = x.data[(Math.floor(y / f) * x.w + Math.floor(xx / f)) * x.c + i]!;
        }
        out = { h: x.h * f, w: x.w * f, c: x.c, data };
        break;
      }
      default: throw new Error(`reference evaluator: ${l.class_name}`);
    }
    vals.set(l.name, out);
  }
  return vals.get(model.modelTopology.model_config.config.output_layers[0]![0])!;
}

async function runOnnx(bytes: Uint8Array, input: Nhwc): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const nchw = new Float32Array(input.data.length);
  const plane = input.h * input.w;
  for (let p = 0; p < plane; p++) for (let ch = 0; ch < 3; ch++) nchw[ch * plane + p] = input.data[p * 3 + ch]!;
  const out = await session.run({ lr: new ort.Tensor('float32', nchw, [1, 3, input.h, input.w]) });
  await session.release();
  const sr = out['sr']!;
  return { dims: sr.dims, data: sr.data as Float32Array };
}

describe('ESRGAN-slim TF.js layers → ONNX', () => {
  it('kernelToOihw moves every value to [out,in,kh,kw] unchanged', () => {
    const shape = [3, 1, 2, 4];
    const data = Float32Array.from({ length: 24 }, (_, i) => i);
    const { dims, data: o } = kernelToOihw(shape, data);
    expect(dims).toEqual([4, 2, 3, 1]);
    // TF index (y=2,x=0,i=1,o=3) → ((2*1+0)*2+1)*4+3 = 23
    expect(o[((3 * 2 + 1) * 3 + 2) * 1 + 0]).toBe(23);
    expect([...o].sort((a, b) => a - b)).toEqual([...data]);
  });

  for (const scale of [2, 4] as const) {
    it(`×${scale}: ONNX output equals the layer-by-layer reference on an odd-sized input`, async () => {
      const src = readEsrganSlim(scale);
      const conv = convertTfjsLayersToOnnx(src.model, src.weights);
      expect(conv.scale).toBe(scale);
      expect(conv.opCounts).toMatchObject({ Conv: 12, Relu: 4, Concat: 3, Add: 3, Resize: 1 });
      // Every trained weight lands in the graph (bias + kernel), none invented.
      expect(conv.params).toBe([...src.weights.values()].reduce((n, w) => n + w.data.length, 0));
      const rand = seededRandom(scale);
      const h = 7, w = 6;
      const input: Nhwc = { h, w, c: 3, data: Float32Array.from({ length: h * w * 3 }, () => rand() * 255) };
      const ref = evaluateLayers(src.model, src.weights, input);
      const got = await runOnnx(conv.onnx, input);
      expect(got.dims).toEqual([1, 3, h * scale, w * scale]);
      const plane = ref.h * ref.w;
      let maxErr = 0, maxAbs = 0;
      for (let p = 0; p < plane; p++) for (let ch = 0; ch < 3; ch++) {
        const r = ref.data[p * 3 + ch]!;
        maxErr = Math.max(maxErr, Math.abs(got.data[ch * plane + p]! - r));
        maxAbs = Math.max(maxAbs, Math.abs(r));
      }
      expect(maxAbs).toBeGreaterThan(50); // a real, non-degenerate output in 0..255 units
      expect(maxErr).toBeLessThan(1e-3 * maxAbs);
    });
  }

  it('×2 through the tiled core reproduces UpscalerJS\'s own published result (TF.js) for the package fixture', async () => {
    // The package ships assets/fixture.png and assets/samples/2x/result.png, made by UpscalerJS on TF.js: a real
    // component's output, not ours.
    const dir = esrganSlimDir();
    const fixture = decodePng(new Uint8Array(fs.readFileSync(`${dir}/assets/fixture.png`)));
    const expected = decodePng(new Uint8Array(fs.readFileSync(`${dir}/assets/samples/2x/result.png`)));
    const s = await ort.InferenceSession.create(convertEsrganSlim(2).onnx, { executionProviders: ['wasm'] });
    const session: ModelSession = {
      inputNames: s.inputNames, outputNames: s.outputNames, releaseAsync: () => s.release(),
      async runAsync(feeds) {
        const x = feeds['lr'] as HostTensor;
        const o = (await s.run({ lr: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) }))['sr']!;
        return { sr: { kind: 'host', dtype: 'float32', dims: [...o.dims], data: o.data as Float32Array } };
      },
    };
    const { image, tiles } = await upscaleImageAsync(fixture, session, { scale: 2, range: 255, tile: 64, overlap: 8, pad: 12 });
    await session.releaseAsync();
    expect(tiles).toBeGreaterThan(1);
    expect([image.width, image.height]).toEqual([expected.width, expected.height]);
    let max = 0, off = 0;
    for (let i = 0; i < image.data.length; i++) {
      if ((i & 3) === 3) continue;
      const d = Math.abs(image.data[i]! - expected.data[i]!);
      max = Math.max(max, d);
      if (d > 0) off++;
    }
    expect(max).toBeLessThanOrEqual(1); // rounding of the last bit only
    expect(off).toBeLessThan(image.width * image.height * 3 * 0.001);
  });

  it('names the layer it cannot convert', () => {
    const src = readEsrganSlim(2);
    const layers = src.model.modelTopology.model_config.config.layers.map((l) =>
      l.name === 'UPN1_Relu' ? { ...l, class_name: 'LeakyReLU' } : l);
    const broken = { ...src.model, modelTopology: { model_config: { ...src.model.modelTopology.model_config, config: { ...src.model.modelTopology.model_config.config, layers } } } };
    expect(() => convertTfjsLayersToOnnx(broken, src.weights)).toThrow(/UPN1_Relu: LeakyReLU is not supported/);
  });
});
