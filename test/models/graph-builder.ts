/**
 * A tiny ONNX graph builder over onnx-proto (protobufjs ONNX protos) for the proof models and the bench's SD-shaped
 * models. Pure (no Node APIs), so it also runs in a browser bundle. Opset 17, IR version 8; weights stored as raw little-endian bytes.
 */
import { onnx } from 'onnx-proto';

export type GraphDType = 'float32' | 'float16' | 'float64' | 'int32' | 'int64';
/** A dim is a number or a symbolic (free) dimension name. */
export type GraphDim = number | string;
export type AttrValue = number | number[] | string | { floats: number[] } | { float: number };

const DTYPE_CODE: Record<GraphDType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
};

/** ONNX TensorProto data-type codes, for Cast's `to` attribute. */
export const ONNX_TYPE = { float32: 1, int32: 6, int64: 7, float16: 10, float64: 11 } as const;

export const PROOF_OPSET = 17;

export interface GraphBuilder {
  /** Declares a graph input; returns its name. */
  input(name: string, dtype: GraphDType, dims: readonly GraphDim[]): string;
  /** Declares `value` as graph output `name` (adds an Identity when the names differ). */
  output(value: string, name: string, dtype: GraphDType, dims: readonly GraphDim[]): void;
  /** float32 initializer. */
  floats(dims: readonly number[], data: ArrayLike<number>, hint?: string): string;
  /** int64 initializer (axes, shapes, indices). */
  ints(values: readonly number[], dims?: readonly number[]): string;
  /** float32 weights: like `floats`, and counted by `paramCount`. */
  weight(dims: readonly number[], data: ArrayLike<number>, hint?: string): string;
  /** float32 constant from values (dims default to [values.length]). */
  consts(values: readonly number[], dims?: readonly number[]): string;
  /** Scalar float32 constant. */
  scalar(value: number): string;
  /** Adds a node with one output; returns its name. */
  op(opType: string, inputs: readonly string[], attrs?: Readonly<Record<string, AttrValue>>): string;
  /** Adds a node with `n` outputs. */
  opN(opType: string, inputs: readonly string[], n: number, attrs?: Readonly<Record<string, AttrValue>>): string[];
  /** Count of nodes by op type (graph-output Identity nodes excluded). */
  opCounts(): Record<string, number>;
  /** Total float32 values added with `weight`. */
  paramCount(): number;
  /** Serialises the model. */
  toBytes(graphName: string): Uint8Array;
}

function attribute(name: string, value: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
  }
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  return { name, type: T.FLOATS, floats: value.floats };
}

function valueInfo(name: string, dtype: GraphDType, dims: readonly GraphDim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DTYPE_CODE[dtype],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

const bytesOf = (a: Float32Array | BigInt64Array): Uint8Array => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

export function createGraphBuilder(): GraphBuilder {
  const nodes: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [];
  const inputs: onnx.IValueInfoProto[] = [];
  const outputs: onnx.IValueInfoProto[] = [];
  const intCache = new Map<string, string>();
  const counts: Record<string, number> = {};
  let params = 0;
  let next = 0;
  const fresh = (hint: string): string => `${hint}_${next++}`;

  const b: GraphBuilder = {
    input(name, dtype, dims) {
      inputs.push(valueInfo(name, dtype, dims));
      return name;
    },
    output(value, name, dtype, dims) {
      if (value !== name) nodes.push({ opType: 'Identity', input: [value], output: [name], name: fresh('Identity') });
      outputs.push(valueInfo(name, dtype, dims));
    },
    floats(dims, data, hint = 'w') {
      const n = dims.reduce((a, c) => a * c, 1);
      if (n !== data.length) throw new Error(`initializer [${dims.join(',')}] needs ${n} values, got ${data.length}`);
      const name = fresh(hint);
      inits.push({ name, dataType: DTYPE_CODE.float32, dims: [...dims], rawData: bytesOf(Float32Array.from(data)) });
      return name;
    },
    ints(values, dims) {
      const key = `${values.join(',')}|${dims?.join(',') ?? '-'}`;
      const hit = intCache.get(key);
      if (hit) return hit;
      const name = fresh('i64');
      inits.push({ name, dataType: DTYPE_CODE.int64, dims: [...(dims ?? [values.length])], rawData: bytesOf(BigInt64Array.from(values, (v) => BigInt(v))) });
      intCache.set(key, name);
      return name;
    },
    weight(dims, data, hint = 'w') {
      const name = b.floats(dims, data, hint);
      params += data.length;
      return name;
    },
    consts(values, dims) {
      return b.floats(dims ?? [values.length], values, 'c');
    },
    scalar(value) {
      return b.floats([], [value], 'k');
    },
    op(opType, ins, attrs) {
      return b.opN(opType, ins, 1, attrs)[0]!;
    },
    opN(opType, ins, n, attrs = {}) {
      const outs = Array.from({ length: n }, () => fresh(opType));
      counts[opType] = (counts[opType] ?? 0) + 1;
      nodes.push({
        opType,
        input: [...ins],
        output: outs,
        name: fresh(`${opType}_node`),
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      });
      return outs;
    },
    opCounts: () => ({ ...counts }),
    paramCount: () => params,
    toBytes(graphName) {
      const model = onnx.ModelProto.create({
        irVersion: 8,
        producerName: 'figma-local-diffusion-proof-models',
        opsetImport: [{ domain: '', version: PROOF_OPSET }],
        graph: { name: graphName, node: nodes, initializer: inits, input: inputs, output: outputs },
      });
      return onnx.ModelProto.encode(model).finish();
    },
  };
  return b;
}
