/**
 * A small ONNX graph builder over onnx-proto (protobufjs ONNX protos), for the bench's generated SD-shaped models.
 * Names are generated (`n12`), weights are stored as raw little-endian bytes, opset 17 (ORT-web wasm + WebGPU).
 */
import { onnx } from 'onnx-proto';

export type GraphDType = 'float32' | 'int32' | 'int64';
/** A dim is a number or a symbolic (free) dimension name. */
export type GraphDim = number | string;
export type AttrValue = number | number[] | string | { floats: number[] } | { tensor: onnx.ITensorProto };

const DTYPE_CODE: Record<GraphDType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
};

/** The ONNX opset every generated model declares. */
export const BENCH_OPSET = 17;

export interface GraphBuilder {
  /** Declares a graph input; returns its name. */
  input(name: string, dtype: GraphDType, dims: readonly GraphDim[]): string;
  /** Declares `value` (a tensor name produced by a node) as graph output `name` (adds an Identity when renaming). */
  output(value: string, name: string, dtype: GraphDType, dims: readonly GraphDim[]): void;
  /** Adds a float32 initializer (weights). */
  weight(dims: readonly number[], data: Float32Array, hint?: string): string;
  /** Adds an int64 initializer (shapes, axes). */
  ints(values: readonly number[], dims?: readonly number[]): string;
  /** Adds a float32 constant initializer. */
  floats(values: readonly number[], dims?: readonly number[]): string;
  /** Adds a node with one output; returns the output name. */
  op(opType: string, inputs: readonly string[], attrs?: Readonly<Record<string, AttrValue>>): string;
  /** Adds a node with `n` outputs. */
  opN(opType: string, inputs: readonly string[], n: number, attrs?: Readonly<Record<string, AttrValue>>): string[];
  /** Count of nodes by op type (for tests and the bench's op-mix report). */
  opCounts(): Record<string, number>;
  /** Total float32 weight values. */
  paramCount(): number;
  /** Serialises to ONNX bytes. */
  toBytes(graphName: string): Uint8Array;
}

function attribute(name: string, value: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
  }
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ('floats' in value) return { name, type: T.FLOATS, floats: value.floats };
  return { name, type: T.TENSOR, t: value.tensor };
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

const bytesOf = (a: Float32Array | BigInt64Array | Int32Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export function createGraphBuilder(): GraphBuilder {
  const nodes: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [];
  const inputs: onnx.IValueInfoProto[] = [];
  const outputs: onnx.IValueInfoProto[] = [];
  const counts: Record<string, number> = {};
  const intCache = new Map<string, string>();
  let next = 0;
  let params = 0;
  const fresh = (hint: string): string => `${hint}_${next++}`;

  const addInit = (name: string, dtype: GraphDType, dims: readonly number[], data: Float32Array | BigInt64Array | Int32Array): string => {
    inits.push({ name, dataType: DTYPE_CODE[dtype], dims: [...dims], rawData: bytesOf(data) });
    return name;
  };

  const b: GraphBuilder = {
    input(name, dtype, dims) {
      inputs.push(valueInfo(name, dtype, dims));
      return name;
    },
    output(value, name, dtype, dims) {
      if (value !== name) nodes.push({ opType: 'Identity', input: [value], output: [name], name: fresh('Identity') });
      outputs.push(valueInfo(name, dtype, dims));
    },
    weight(dims, data, hint = 'w') {
      const n = dims.reduce((a, c) => a * c, 1);
      if (n !== data.length) throw new Error(`weight [${dims.join(',')}] needs ${n} values, got ${data.length}`);
      params += n;
      return addInit(fresh(hint), 'float32', dims, data);
    },
    ints(values, dims) {
      const key = `${values.join(',')}|${dims?.join(',') ?? '-'}`;
      const hit = intCache.get(key);
      if (hit) return hit;
      const name = addInit(fresh('i64'), 'int64', dims ?? [values.length], BigInt64Array.from(values.map((v) => BigInt(v))));
      intCache.set(key, name);
      return name;
    },
    floats(values, dims) {
      return addInit(fresh('c'), 'float32', dims ?? [values.length], Float32Array.from(values));
    },
    op(opType, ins, attrs) {
      return b.opN(opType, ins, 1, attrs)[0] as string;
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
        producerName: 'figma-local-diffusion-bench',
        opsetImport: [{ domain: '', version: BENCH_OPSET }],
        graph: { name: graphName, node: nodes, initializer: inits, input: inputs, output: outputs },
      });
      return onnx.ModelProto.encode(model).finish();
    },
  };
  return b;
}
