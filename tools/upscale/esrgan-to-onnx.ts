/**
 * Converts a TensorFlow.js *layers* model (model.json + weight shards, as `@upscalerjs/esrgan-slim` ships them) into an
 * ONNX model, with our ONNX graph builder. Pure (no Node APIs): the build (esbuild.config.mjs) and the tests call it on
 * bytes read from the npm package, so no converted weights are committed.
 *
 * Supported layers — exactly what the ESRGAN-slim (RDN) models use: InputLayer, Conv2D (any odd square kernel, stride
 * 1, dilation 1, padding same/valid, activation linear/relu), Activation (relu/linear), Concatenate, Add,
 * UpSampling2D (nearest). Anything else throws, naming the layer.
 *
 * Layout: TF.js is NHWC with kernels [kh, kw, in, out]; the ONNX graph is NCHW with kernels [out, in, kh, kw]. Weights
 * are copied value for value (a transpose, no arithmetic), so they are exact. Concatenate's channel axis 3 becomes 1.
 *
 * I/O of the ONNX model: input `lr` [1,3,h,w] float32, output `sr` [1,3,s·h,s·w] float32, in the model's own value
 * range (ESRGAN-slim: 0..255 in and out, per UpscalerJS's model definition `inputRange`/`outputRange`).
 */
import { createGraphBuilder } from '../../test/models/graph-builder';

export interface TfjsWeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
}

export interface TfjsLayersModelJson {
  readonly format?: string;
  readonly modelTopology: {
    readonly model_config: {
      readonly class_name: string;
      readonly config: {
        readonly name: string;
        readonly layers: readonly TfjsLayer[];
        readonly input_layers: readonly (readonly [string, number, number])[];
        readonly output_layers: readonly (readonly [string, number, number])[];
      };
    };
  };
  readonly weightsManifest: readonly { readonly paths: readonly string[]; readonly weights: readonly TfjsWeightSpec[] }[];
}

export interface TfjsLayer {
  readonly class_name: string;
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly inbound_nodes: readonly (readonly (readonly [string, number, number, unknown])[])[];
}

/** Layer weights by `layer/kernel` name, in TF layout. */
export type TfjsWeights = ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;

/** Splits the concatenated shard bytes into named float32 arrays, in manifest order. */
export function readTfjsWeights(model: TfjsLayersModelJson, shards: readonly Uint8Array[]): TfjsWeights {
  const total = shards.reduce((n, s) => n + s.byteLength, 0);
  const all = new Uint8Array(total);
  let o = 0;
  for (const s of shards) {
    all.set(s, o);
    o += s.byteLength;
  }
  const out = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  let at = 0;
  for (const group of model.weightsManifest) {
    for (const w of group.weights) {
      if (w.dtype !== 'float32') throw new Error(`weight ${w.name}: dtype ${w.dtype} is not supported (float32 only)`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (at + n * 4 > total) throw new Error(`weight ${w.name} runs past the end of the shards (${total} bytes)`);
      const data = new Float32Array(n);
      new Uint8Array(data.buffer).set(all.subarray(at, at + n * 4));
      out.set(w.name, { shape: w.shape, data });
      at += n * 4;
    }
  }
  if (at !== total) throw new Error(`weight shards hold ${total} bytes but the manifest names ${at}`);
  return out;
}

/** TF conv kernel [kh,kw,in,out] → ONNX [out,in,kh,kw]. */
export function kernelToOihw(shape: readonly number[], data: Float32Array): { dims: number[]; data: Float32Array } {
  const [kh, kw, ci, co] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) {
    out[((o * ci + i) * kh + y) * kw + x] = data[((y * kw + x) * ci + i) * co + o]!;
  }
  return { dims: [co, ci, kh, kw], data: out };
}

export interface ConvertedModel {
  readonly onnx: Uint8Array;
  /** The model's integer upscale factor (product of its UpSampling2D sizes). */
  readonly scale: number;
  /** How far (in input pixels) an output pixel can see: the receptive-field radius, for tiling margins. */
  readonly receptiveRadius: number;
  readonly params: number;
  readonly opCounts: Record<string, number>;
}

const num = (v: unknown, what: string): number => {
  if (typeof v !== 'number') throw new Error(`${what} must be a number`);
  return v;
};
const pair = (v: unknown, what: string): [number, number] => {
  if (!Array.isArray(v) || v.length !== 2) throw new Error(`${what} must be a pair`);
  return [num(v[0], what), num(v[1], what)];
};

/** Converts the layers model. Throws on any layer or option outside the supported set, naming it. */
export function convertTfjsLayersToOnnx(model: TfjsLayersModelJson, weights: TfjsWeights, graphName = 'upscaler'): ConvertedModel {
  const cfg = model.modelTopology.model_config.config;
  const b = createGraphBuilder();
  const values = new Map<string, string>();
  /** Receptive radius (in input pixels) and the scale so far, per layer output. */
  const reach = new Map<string, { r: number; s: number }>();
  const inbound = (l: TfjsLayer): string[] => (l.inbound_nodes[0] ?? []).map((n) => n[0]);
  const valueOf = (name: string, layer: string): string => {
    const v = values.get(name);
    if (!v) throw new Error(`layer ${layer} reads ${name}, which is not defined before it`);
    return v;
  };
  const relu = (x: string): string => b.op('Relu', [x]);
  const activation = (x: string, act: unknown, layer: string): string => {
    if (act === 'linear' || act === undefined) return x;
    if (act === 'relu') return relu(x);
    throw new Error(`layer ${layer}: activation ${String(act)} is not supported`);
  };

  for (const l of cfg.layers) {
    const c = l.config;
    const ins = inbound(l);
    switch (l.class_name) {
      case 'InputLayer': {
        const shape = c['batch_input_shape'] as unknown[];
        if (!Array.isArray(shape) || shape.length !== 4 || shape[3] !== 3) throw new Error(`input ${l.name} must be NHWC with 3 channels`);
        values.set(l.name, b.input('lr', 'float32', [1, 3, 'h', 'w']));
        reach.set(l.name, { r: 0, s: 1 });
        break;
      }
      case 'Conv2D': {
        const [kh, kw] = pair(c['kernel_size'], `${l.name}.kernel_size`);
        const [sh, sw] = pair(c['strides'], `${l.name}.strides`);
        const [dh, dw] = pair(c['dilation_rate'] ?? [1, 1], `${l.name}.dilation_rate`);
        if (sh !== 1 || sw !== 1 || dh !== 1 || dw !== 1) throw new Error(`layer ${l.name}: only stride 1, dilation 1 are supported`);
        if (kh % 2 !== 1 || kw % 2 !== 1) throw new Error(`layer ${l.name}: only odd kernels are supported`);
        if ((c['groups'] ?? 1) !== 1) throw new Error(`layer ${l.name}: grouped convolution is not supported`);
        if (c['data_format'] !== undefined && c['data_format'] !== 'channels_last') throw new Error(`layer ${l.name}: data_format must be channels_last`);
        const padding = c['padding'];
        if (padding !== 'same' && padding !== 'valid') throw new Error(`layer ${l.name}: padding ${String(padding)} is not supported`);
        if (padding === 'valid' && (kh !== 1 || kw !== 1)) throw new Error(`layer ${l.name}: 'valid' padding is supported for 1×1 kernels only (the output must keep its size)`);
        const k = weights.get(`${l.name}/kernel`);
        if (!k) throw new Error(`layer ${l.name}: weight ${l.name}/kernel is missing`);
        if (k.shape.length !== 4 || k.shape[0] !== kh || k.shape[1] !== kw) throw new Error(`layer ${l.name}: kernel shape [${k.shape.join(',')}] does not match kernel_size`);
        const oihw = kernelToOihw(k.shape, k.data);
        const inputs = [valueOf(ins[0]!, l.name), b.weight(oihw.dims, oihw.data, `${l.name}_w`)];
        if (c['use_bias'] !== false) {
          const bias = weights.get(`${l.name}/bias`);
          if (!bias) throw new Error(`layer ${l.name}: weight ${l.name}/bias is missing`);
          inputs.push(b.weight([bias.data.length], bias.data, `${l.name}_b`));
        }
        const ph = (kh - 1) / 2;
        const pw = (kw - 1) / 2;
        const y = b.op('Conv', inputs, { kernel_shape: [kh, kw], pads: [ph, pw, ph, pw], strides: [1, 1], dilations: [1, 1] });
        values.set(l.name, activation(y, c['activation'], l.name));
        const prev = reach.get(ins[0]!)!;
        reach.set(l.name, { r: prev.r + Math.max(ph, pw) / prev.s, s: prev.s });
        break;
      }
      case 'Activation':
        values.set(l.name, activation(valueOf(ins[0]!, l.name), c['activation'], l.name));
        reach.set(l.name, reach.get(ins[0]!)!);
        break;
      case 'Concatenate': {
        const axis = c['axis'];
        if (axis !== 3 && axis !== -1) throw new Error(`layer ${l.name}: only channel concatenation (axis 3) is supported`);
        values.set(l.name, b.op('Concat', ins.map((n) => valueOf(n, l.name)), { axis: 1 }));
        reach.set(l.name, { r: Math.max(...ins.map((n) => reach.get(n)!.r)), s: reach.get(ins[0]!)!.s });
        break;
      }
      case 'Add': {
        if (ins.length < 2) throw new Error(`layer ${l.name}: Add needs two inputs`);
        let acc = valueOf(ins[0]!, l.name);
        for (const n of ins.slice(1)) acc = b.op('Add', [acc, valueOf(n, l.name)]);
        values.set(l.name, acc);
        reach.set(l.name, { r: Math.max(...ins.map((n) => reach.get(n)!.r)), s: reach.get(ins[0]!)!.s });
        break;
      }
      case 'UpSampling2D': {
        const [fh, fw] = pair(c['size'], `${l.name}.size`);
        if (fh !== fw || !Number.isInteger(fh)) throw new Error(`layer ${l.name}: only equal integer sizes are supported`);
        if ((c['interpolation'] ?? 'nearest') !== 'nearest') throw new Error(`layer ${l.name}: only nearest upsampling is supported`);
        const y = b.op('Resize', [valueOf(ins[0]!, l.name), '', b.consts([1, 1, fh, fw])], {
          mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor',
        });
        values.set(l.name, y);
        const prev = reach.get(ins[0]!)!;
        reach.set(l.name, { r: prev.r, s: prev.s * fh });
        break;
      }
      default:
        throw new Error(`layer ${l.name}: ${l.class_name} is not supported by the converter`);
    }
  }
  const outs = cfg.output_layers;
  if (outs.length !== 1) throw new Error(`the model must have one output, it has ${outs.length}`);
  const last = outs[0]![0];
  const { r, s } = reach.get(last)!;
  b.output(valueOf(last, 'output'), 'sr', 'float32', [1, 3, 'H', 'W']);
  return { onnx: b.toBytes(graphName), scale: s, receptiveRadius: Math.ceil(r), params: b.paramCount(), opCounts: b.opCounts() };
}
