/**
 * Plain tensors for the pure core. Layout is always NCHW, row-major.
 * A `DeviceTensor` is an opaque handle owned by the runtime (e.g. a WebGPU buffer kept on the GPU between models);
 * the core passes it along without reading it.
 */
export type DType = 'float32' | 'float16' | 'float64' | 'int32' | 'int64';

export type HostData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint16Array;

export interface HostTensor {
  readonly kind: 'host';
  readonly dtype: DType;
  readonly dims: readonly number[];
  /** float16 data is stored as raw IEEE half bits in a Uint16Array. */
  readonly data: HostData;
}

export interface DeviceTensor {
  readonly kind: 'device';
  readonly dtype: DType;
  readonly dims: readonly number[];
  /** Reads the data back to the host (counts as a GPU→CPU read). */
  readonly downloadAsync: () => Promise<HostTensor>;
  readonly dispose: () => void;
}

export type Tensor = HostTensor | DeviceTensor;

export const sizeOf = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

export function float32(dims: readonly number[], data?: Float32Array): HostTensor {
  const n = sizeOf(dims);
  const d = data ?? new Float32Array(n);
  if (d.length !== n) throw new Error(`float32 tensor [${dims.join(',')}] needs ${n} values, got ${d.length}`);
  return { kind: 'host', dtype: 'float32', dims: [...dims], data: d };
}

export function int32(dims: readonly number[], data: Int32Array): HostTensor {
  if (data.length !== sizeOf(dims)) throw new Error(`int32 tensor [${dims.join(',')}] needs ${sizeOf(dims)} values`);
  return { kind: 'host', dtype: 'int32', dims: [...dims], data };
}

export function int64(dims: readonly number[], data: BigInt64Array): HostTensor {
  if (data.length !== sizeOf(dims)) throw new Error(`int64 tensor [${dims.join(',')}] needs ${sizeOf(dims)} values`);
  return { kind: 'host', dtype: 'int64', dims: [...dims], data };
}
