/**
 * Small pure helpers over flat NCHW float arrays and dtype conversion (float16 bits ↔ float32) for the pipelines.
 */
import type { DType, HostTensor } from './tensor';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float → IEEE 754 half bits, round to nearest even (subnormals kept, overflow → ±Inf, NaN stays NaN). */
export function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal half: shift the implicit-1 mantissa, round half to even.
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (rem > mid || (rem === mid && (half & 1)) ? half + 1 : half);
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // carries into the exponent correctly
  return h;
}

/** IEEE 754 half bits → float. */
export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Host tensor data as float32 values (float16 bits decoded, float64 narrowed, integers converted). */
export function toFloat32(t: HostTensor): Float32Array {
  if (t.dtype === 'float32') return t.data as Float32Array;
  if (t.dtype === 'float16') return Float32Array.from(t.data as Uint16Array, fromHalf);
  if (t.dtype === 'int64') return Float32Array.from(t.data as BigInt64Array, (v) => Number(v));
  return Float32Array.from(t.data as Float64Array | Int32Array);
}

/** A float host tensor of `dtype` (float32, float16 as half bits, float64) from float32 values. */
export function floatTensor(dtype: DType, dims: readonly number[], values: Float32Array): HostTensor {
  switch (dtype) {
    case 'float16': return { kind: 'host', dtype, dims: [...dims], data: Uint16Array.from(values, toHalf) };
    case 'float64': return { kind: 'host', dtype, dims: [...dims], data: Float64Array.from(values) };
    case 'float32': return { kind: 'host', dtype, dims: [...dims], data: values };
    default: throw new Error(`expected a float dtype, got ${dtype}`);
  }
}

/** Concatenates NCHW (N = 1) arrays along channels: [1,c1,h,w] ++ [1,c2,h,w] … */
export function concatChannels(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** ε = ε_u + g·(ε_c − ε_u), as diffusers' classifier-free guidance. */
export function guide(uncond: Float32Array, cond: Float32Array, scale: number): Float32Array {
  const out = new Float32Array(cond.length);
  for (let i = 0; i < out.length; i++) out[i] = uncond[i]! + scale * (cond[i]! - uncond[i]!);
  return out;
}

/** (1 − m)·keep + m·change per element; `mask` is [h*w] broadcast over `channels` planes. */
export function blendByMask(keep: Float32Array, change: Float32Array, mask: Float32Array): Float32Array {
  const plane = mask.length;
  const out = new Float32Array(change.length);
  for (let i = 0; i < out.length; i++) {
    const m = mask[i % plane]!;
    out[i] = (1 - m) * keep[i]! + m * change[i]!;
  }
  return out;
}

/** Multiplies every value by `k` (new array). */
export const scaled = (x: Float32Array, k: number): Float32Array => x.map((v) => v * k);

/** True when any value is NaN or ±Infinity. */
export function hasNonFinite(x: ArrayLike<number>): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return true;
  return false;
}
