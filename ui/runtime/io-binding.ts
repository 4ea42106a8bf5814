/**
 * Models describe themselves; the runtime adapts. Pure functions (no onnxruntime import) that
 * - bind the semantic slots the pipelines feed and read (sample, timestep, encoder_hidden_states, timestep_cond,
 *   controlnet_cond, conditioning_scale, the 13 ControlNet residuals, out_sample, latent_sample, …) to the real
 *   input/output names a model declares (its ONNX metadata), through known aliases, then position;
 * - convert a feed to the dtype and rank the model declares (float16/32/64, int32/64; scalar, [1] or [batch]).
 *
 * The manifest's I/O lists are expectations: the names the pipelines use and the fallback when the runtime cannot
 * read the model's metadata. A model is refused (MODEL_MISMATCH, listing its real I/O) only when a required slot has
 * no input/output, the model needs an input nothing can feed, or a shape cannot fit.
 */
import type { ComponentSpec } from '../core/manifest';
import type { ModelRole } from '../core/session';
import { ROLE_SLOTS, slotOf } from '../core/io-slots';

export { slotOf } from '../core/io-slots';
import type { DType, HostTensor } from '../core/tensor';
import { fromHalf, toHalf } from '../core/tensor-math';

/** One input or output as the model declares it (ORT's ValueMetadata, or the manifest when that is missing). */
export interface ValueInfo {
  readonly name: string;
  /** ORT type string ('float32', 'float16', 'int64', …); undefined when unknown. */
  readonly dtype?: string;
  /** Dims; strings are symbolic. Undefined when unknown. */
  readonly shape?: readonly (number | string)[];
}

type Kind = 'input' | 'output';

const isRequiredSlot = (role: ModelRole, kind: Kind, slot: string | null): boolean => {
  if (!slot) return false;
  if (kind === 'output') return role === 'controlnet' ? slot.endsWith('_residual') : ROLE_SLOTS[role].outputs[0] === slot;
  const ins = ROLE_SLOTS[role].inputs.map((s) => (s === 'image_sample' ? 'sample' : s));
  const idx = ins.indexOf(slot);
  if (idx >= 0 && idx < ROLE_SLOTS[role].requiredInputs) return true;
  return slot.endsWith('_residual') || slot === 'controlnet_conds';
};

export interface SideBinding {
  /** Expected (manifest) name → the model's name. */
  readonly byExpected: ReadonlyMap<string, string>;
  /** Semantic slot → the model's name (for feeds keyed by slot names). */
  readonly bySlot: ReadonlyMap<string, string>;
  /** The model's values nothing was bound to (inputs: a problem; outputs: ignored extras). */
  readonly unboundActual: readonly ValueInfo[];
  /** Expected values the model lacks that are optional (their feeds are dropped). */
  readonly dropped: ReadonlySet<string>;
  /** Problems that refuse the model. */
  readonly problems: readonly string[];
}

/** Binds one side (inputs or outputs) of a component. */
export function bindSide(role: ModelRole, kind: Kind, expected: ComponentSpec['inputs'], actual: readonly ValueInfo[]): SideBinding {
  const byExpected = new Map<string, string>();
  const taken = new Set<string>();
  const bind = (e: string, a: string): void => { byExpected.set(e, a); taken.add(a); };
  // 1. Same name.
  for (const e of expected) if (actual.some((a) => a.name === e.name)) bind(e.name, e.name);
  // 2. Same slot through the aliases.
  for (const e of expected) {
    if (byExpected.has(e.name)) continue;
    const s = slotOf(role, kind, e.name);
    if (!s) continue;
    const a = actual.find((x) => !taken.has(x.name) && slotOf(role, kind, x.name) === s);
    if (a) bind(e.name, a.name);
  }
  // 3. Position among what is left (index-only exports such as TAESD, numeric ControlNet output names). Inputs pair
  //    only when both sides have the same number left; outputs pair in order and extra model outputs are ignored.
  const restE = expected.filter((e) => !byExpected.has(e.name));
  const restA = actual.filter((a) => !taken.has(a.name));
  if (restE.length > 0 && (kind === 'output' ? restA.length >= restE.length : restA.length === restE.length)) {
    restE.forEach((e, i) => bind(e.name, restA[i]!.name));
  }
  const bySlot = new Map<string, string>();
  for (const a of actual) {
    const s = slotOf(role, kind, a.name);
    if (s && !bySlot.has(s)) bySlot.set(s, a.name);
  }
  for (const [e, a] of byExpected) {
    const s = slotOf(role, kind, e);
    if (s && !bySlot.has(s)) bySlot.set(s, a);
  }
  const problems: string[] = [];
  const dropped = new Set<string>();
  for (const e of expected) {
    if (byExpected.has(e.name)) continue;
    const s = slotOf(role, kind, e.name);
    if (isRequiredSlot(role, kind, s) || (s === null && kind === 'input')) problems.push(`it has no ${kind} for "${e.name}"`);
    else dropped.add(e.name);
  }
  const unboundActual = actual.filter((a) => !taken.has(a.name));
  if (kind === 'input' && unboundActual.length > 0) {
    problems.push(`it needs ${unboundActual.length > 1 ? 'inputs' : 'an input'} the app cannot feed: ${unboundActual.map(describeValue).join(', ')}`);
  }
  return { byExpected, bySlot, unboundActual, dropped, problems };
}

export const describeValue = (v: ValueInfo): string =>
  `"${v.name}" ${v.dtype ?? '?'}${v.shape ? ` [${v.shape.join(',')}]` : ''}`;

/** "inputs: "sample" float16 [batch,4,h,w], …; outputs: …" — for messages a user adding a model can act on. */
export function describeIo(inputs: readonly ValueInfo[], outputs: readonly ValueInfo[]): string {
  return `inputs ${inputs.map(describeValue).join(', ') || '(none)'}; outputs ${outputs.map(describeValue).join(', ') || '(none)'}`;
}

// ---------- feed conversion ----------

const FLOAT_TYPES = new Set(['float32', 'float16', 'float64']);
export const CONVERTIBLE = new Set<string>(['float32', 'float16', 'float64', 'int32', 'int64']);

/** Values of a host tensor as JS numbers (float16 decoded, int64 narrowed). */
function readNumber(t: HostTensor): (i: number) => number {
  const d = t.data as ArrayLike<number | bigint>;
  if (t.dtype === 'float16') return (i) => fromHalf(d[i] as number);
  if (t.dtype === 'int64') return (i) => Number(d[i] as bigint);
  return (i) => d[i] as number;
}

/** Converts the values of `t` to `dtype` (integers truncate toward zero, as numpy's astype and diffusers do). */
export function convertDtype(t: HostTensor, dtype: DType): HostTensor {
  if (t.dtype === dtype) return t;
  const n = t.data.length;
  const get = readNumber(t);
  let data: HostTensor['data'];
  switch (dtype) {
    case 'float32': data = Float32Array.from({ length: n }, (_, i) => get(i)); break;
    case 'float64': data = Float64Array.from({ length: n }, (_, i) => get(i)); break;
    case 'float16': data = Uint16Array.from({ length: n }, (_, i) => toHalf(get(i))); break;
    case 'int32': data = Int32Array.from({ length: n }, (_, i) => Math.trunc(get(i))); break;
    case 'int64': data = BigInt64Array.from({ length: n }, (_, i) => BigInt(Math.trunc(get(i)))); break;
    default: throw new Error(`unsupported dtype ${String(dtype)}`);
  }
  return { kind: 'host', dtype, dims: t.dims, data };
}

/**
 * The dims a feed of `dims` takes for a model input declared `shape`: the same dims when they fit; a different rank
 * when the element count allows one reading (scalar ↔ [1] ↔ [batch]; a single symbolic dim takes what is left).
 * Returns a problem string when the shapes cannot fit.
 */
export function fitDims(dims: readonly number[], shape: readonly (number | string)[] | undefined): { dims: readonly number[] } | { problem: string } {
  if (!shape) return { dims };
  const count = dims.reduce((a, b) => a * b, 1);
  if (shape.length === dims.length) {
    for (let i = 0; i < shape.length; i++) {
      const s = shape[i];
      if (typeof s === 'number' && s > 0 && s !== dims[i]) return { problem: `the model takes [${shape.join(',')}], the app feeds [${dims.join(',')}]` };
    }
    return { dims };
  }
  const fixed = shape.reduce<number>((a, s) => (typeof s === 'number' && s > 0 ? a * s : a), 1);
  const free = shape.filter((s) => typeof s !== 'number' || s <= 0).length;
  if (free === 0 && fixed === count) return { dims: shape as number[] };
  if (free >= 1 && count % fixed === 0) {
    let left = count / fixed;
    // Every free dim is 1 except the first, which takes what is left (a [batch] vector, a scalar's [1]).
    const out = shape.map((s) => {
      if (typeof s === 'number' && s > 0) return s;
      const v = left;
      left = 1;
      return v;
    });
    return { dims: out };
  }
  return { problem: `the model takes [${shape.join(',')}], the app feeds [${dims.join(',')}]` };
}

/** Converts a host feed to the model's declared dtype and rank; `problem` when it cannot fit. */
export function adaptFeed(t: HostTensor, info: ValueInfo | undefined): { tensor: HostTensor } | { problem: string } {
  if (!info) return { tensor: t };
  const fit = fitDims(t.dims, info.shape);
  if ('problem' in fit) return fit;
  let out = t;
  if (info.dtype && info.dtype !== t.dtype) {
    if (!CONVERTIBLE.has(info.dtype)) return { problem: `the model takes ${info.dtype}, which the runtime cannot produce` };
    out = convertDtype(t, info.dtype as DType);
  }
  return { tensor: fit.dims === t.dims ? out : { ...out, dims: [...fit.dims] } };
}

export const isFloatType = (t: string | undefined): boolean => t !== undefined && FLOAT_TYPES.has(t);
