/**
 * Reads a model's declared graph inputs and outputs (names, element types, dims) straight from the ONNX protobuf
 * bytes, before any session exists, by walking the wire format and skipping every node and weight by its length.
 * Used for: the free-dimension overrides of fixed-size models (they must be given at session creation, so the real
 * dim names are needed first), the model's I/O when an ORT build does not expose `inputMetadata`, and retyping a
 * float64 graph input to float32 in place (one byte) for builds without float64 kernels.
 *
 * Hand-written rather than a protobuf library: onnxruntime-web does not expose its parser, and a generated ONNX
 * schema (protobufjs) would decode every node and copy every weight of a 1.7 GB file; this reads only the fields it
 * needs (ModelProto.graph → GraphProto.input/output/initializer names → ValueInfoProto.type.tensor_type).
 */
import type { ValueInfo } from './io-binding';

/** ONNX TensorProto.DataType codes → ORT type names. */
const ELEM_TYPE: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};

export interface OnnxValue extends ValueInfo {
  /** Byte offset of the elem_type varint (for an in-place retype); -1 when absent. */
  readonly elemTypeAt: number;
}

export interface OnnxIo {
  readonly inputs: readonly OnnxValue[];
  readonly outputs: readonly OnnxValue[];
}

interface Field { readonly no: number; readonly wire: number; readonly start: number; readonly end: number; readonly value: number }

function varint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++]!;
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [result, pos];
    mul *= 128;
  }
  throw new Error('bad varint');
}

/** The fields of one message in buf[start, end). */
function* fields(buf: Uint8Array, start: number, end: number): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const [tag, p1] = varint(buf, pos);
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const [value, p2] = varint(buf, p1);
      yield { no, wire, start: p1, end: p2, value };
      pos = p2;
    } else if (wire === 2) {
      const [len, p2] = varint(buf, p1);
      if (p2 + len > end) throw new Error('field past the end of its message');
      yield { no, wire, start: p2, end: p2 + len, value: len };
      pos = p2 + len;
    } else if (wire === 1) {
      yield { no, wire, start: p1, end: p1 + 8, value: 0 };
      pos = p1 + 8;
    } else if (wire === 5) {
      yield { no, wire, start: p1, end: p1 + 4, value: 0 };
      pos = p1 + 4;
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
}

const utf8 = new TextDecoder();
const str = (buf: Uint8Array, f: Field): string => utf8.decode(buf.subarray(f.start, f.end));

function valueInfo(buf: Uint8Array, f: Field): OnnxValue {
  let name = '';
  let dtype: string | undefined;
  let shape: (number | string)[] | undefined;
  let elemTypeAt = -1;
  for (const v of fields(buf, f.start, f.end)) {
    if (v.no === 1 && v.wire === 2) name = str(buf, v);
    if (v.no !== 2 || v.wire !== 2) continue;
    for (const t of fields(buf, v.start, v.end)) {
      if (t.no !== 1 || t.wire !== 2) continue; // TypeProto.tensor_type
      for (const tt of fields(buf, t.start, t.end)) {
        if (tt.no === 1 && tt.wire === 0) { dtype = ELEM_TYPE[tt.value] ?? `onnx-type-${tt.value}`; elemTypeAt = tt.start; }
        if (tt.no === 2 && tt.wire === 2) {
          shape = [];
          for (const d of fields(buf, tt.start, tt.end)) {
            if (d.no !== 1 || d.wire !== 2) continue;
            let dim: number | string = -1;
            for (const x of fields(buf, d.start, d.end)) {
              if (x.no === 1 && x.wire === 0) dim = x.value;
              if (x.no === 2 && x.wire === 2) dim = str(buf, x);
            }
            shape.push(dim);
          }
        }
      }
    }
  }
  return { name, ...(dtype ? { dtype } : {}), ...(shape ? { shape } : {}), elemTypeAt };
}

/** The graph's inputs (initializers excluded) and outputs; throws when the bytes are not an ONNX model. */
export function readOnnxIo(model: Uint8Array): OnnxIo {
  let graph: Field | null = null;
  for (const f of fields(model, 0, model.length)) if (f.no === 7 && f.wire === 2) graph = f;
  if (!graph) throw new Error('no graph in the ONNX file');
  const inputs: OnnxValue[] = [];
  const outputs: OnnxValue[] = [];
  const inits = new Set<string>();
  for (const f of fields(model, graph.start, graph.end)) {
    if (f.wire !== 2) continue;
    if (f.no === 11) inputs.push(valueInfo(model, f));
    else if (f.no === 12) outputs.push(valueInfo(model, f));
    else if (f.no === 5) {
      for (const t of fields(model, f.start, f.end)) if (t.no === 8 && t.wire === 2) inits.add(str(model, t));
    }
  }
  return { inputs: inputs.filter((i) => !inits.has(i.name)), outputs };
}

/**
 * Retypes the named float64 graph inputs to float32 in place (the elem_type varint 11 → 1, same length). The graph
 * then loads where float64 kernels are missing, provided each such input only feeds a Cast (as a ControlNet's
 * `conditioning_scale` does); the runtime then feeds float32. Returns the names changed.
 */
export function retypeFloat64Inputs(model: Uint8Array, io: OnnxIo): string[] {
  const changed: string[] = [];
  for (const i of io.inputs) {
    if (i.dtype === 'float64' && i.elemTypeAt >= 0 && model[i.elemTypeAt] === 11) {
      model[i.elemTypeAt] = 1;
      changed.push(i.name);
    }
  }
  return changed;
}
