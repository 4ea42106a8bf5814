/**
 * Re-saves an ONNX graph in another export convention, the way real exports differ from each other: other input /
 * output names, another integer type for `input_ids`, extra outputs (a text encoder's `pooler_output`,
 * `hidden_states.11`), other dims (a residual's own symbolic dims, a static size), and weights in an external-data
 * file (`model.onnx_data`, `weights.pb`). Pure (onnx-proto), so it runs in Node and browser bundles.
 */
import { onnx } from 'onnx-proto';

const ELEM = { float32: 1, int32: 6, int64: 7, float16: 10, float64: 11, bool: 9 } as const;
export type ElemName = keyof typeof ELEM;

export interface Rewrite {
  /** Graph input/output renames (node references follow). */
  readonly rename?: Readonly<Record<string, string>>;
  /** New element type of a graph input (only where its consumers accept it, e.g. Gather indices int32 → int64). */
  readonly inputType?: Readonly<Record<string, ElemName>>;
  /** New dims of a graph input or output (by its final name). */
  readonly dims?: Readonly<Record<string, readonly (number | string)[]>>;
  /** Extra graph outputs computed from an existing value (by its final name). */
  readonly extraOutputs?: readonly { name: string; of: string; op: 'Identity' | 'MeanOverTokens'; elem: ElemName; dims: readonly (number | string)[] }[];
  /** Extra graph inputs the graph does not use (an export's stray input). */
  readonly extraInputs?: readonly { name: string; elem: ElemName; dims: readonly (number | string)[] }[];
  /** Moves every initializer of ≥ 1 KiB into one external-data file of this name. */
  readonly externalData?: string;
}

const valueInfo = (name: string, elem: ElemName, dims: readonly (number | string)[]): onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType: ELEM[elem], shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});

/** Returns the rewritten model bytes and, with `externalData`, the external file's bytes. */
export function rewriteOnnx(bytes: Uint8Array, r: Rewrite): { model: Uint8Array; external?: Uint8Array } {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph!;
  const ren = (n: string): string => r.rename?.[n] ?? n;
  for (const node of g.node ?? []) {
    node.input = (node.input ?? []).map(ren);
    node.output = (node.output ?? []).map(ren);
  }
  for (const v of [...(g.input ?? []), ...(g.output ?? [])]) v.name = ren(v.name!);
  for (const v of g.input ?? []) {
    const t = r.inputType?.[v.name!];
    if (t) v.type!.tensorType!.elemType = ELEM[t];
  }
  for (const v of [...(g.input ?? []), ...(g.output ?? [])]) {
    const d = r.dims?.[v.name!];
    if (d) v.type!.tensorType!.shape = { dim: d.map((x) => (typeof x === 'number' ? { dimValue: x } : { dimParam: x })) };
  }
  for (const e of r.extraOutputs ?? []) {
    const out = `${e.name}`;
    if (e.op === 'Identity') g.node!.push({ opType: 'Identity', input: [e.of], output: [out], name: `extra_${out}` });
    else g.node!.push({ opType: 'ReduceMean', input: [e.of], output: [out], name: `extra_${out}`, attribute: [{ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] }, { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] });
    g.output!.push(valueInfo(out, e.elem, e.dims));
  }
  for (const e of r.extraInputs ?? []) g.input!.push(valueInfo(e.name, e.elem, e.dims));
  let external: Uint8Array | undefined;
  if (r.externalData) {
    const parts: Uint8Array[] = [];
    let offset = 0;
    for (const t of g.initializer ?? []) {
      const raw = t.rawData;
      if (!raw || raw.length < 1024) continue; // onnx.save_model keeps small tensors (shapes, axes) inline
      const pad = (4096 - (offset % 4096)) % 4096; // page-aligned offsets, as onnx.save_model writes with a threshold
      if (pad) { parts.push(new Uint8Array(pad)); offset += pad; }
      parts.push(Uint8Array.from(raw));
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = [{ key: 'location', value: r.externalData }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(raw.length) }];
      t.rawData = new Uint8Array(0);
      offset += raw.length;
    }
    external = new Uint8Array(offset);
    let at = 0;
    for (const p of parts) { external.set(p, at); at += p.length; }
  }
  const model = onnx.ModelProto.encode(m).finish();
  return external ? { model, external } : { model };
}
