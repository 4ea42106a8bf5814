/**
 * torch's CPU generator, emulated: `torch.manual_seed(seed)` then `torch.randn(shape)` give the same float32 values
 * here, draw for draw (PyTorch aten/src/ATen/core/MT19937RNGEngine.h, CPUGeneratorImpl.cpp,
 * core/DistributionsHelper.h, native/cpu/DistributionTemplates.h; see ../shared/reference/schedulers.md §4).
 *
 * - Seeding: manual_seed takes a uint64; mt19937's init_with_uint32 stores the full seed but initialises the state
 *   from `seed & 0xffffffff` (Knuth's init_genrand: mt[i] = 1812433253·(mt[i−1] ^ mt[i−1] >>> 30) + i). So seeds that
 *   agree in their low 32 bits give the same stream, in torch and here. Seeds here are 0…2^64−1: a number (safe
 *   integers) or a bigint (any uint64, as torch takes).
 * - float uniforms: uniform_real_distribution<float> uses 24 bits of one 32-bit draw: `(r & 0xFFFFFF) · 2^−24`.
 * - randn with numel ≥ 16 (contiguous float32): normal_fill — fill every slot with a uniform, Box–Muller on each
 *   complete block of 16 (pairs j, j+8), and when numel % 16 ≠ 0 draw 16 fresh uniforms into the last 16 slots and
 *   transform them again. Done in float32 steps like the scalar kernel (AVX2 builds may differ in the last ulp).
 * - randn with numel < 16: the scalar path, normal_distribution<double> — 53-bit uniforms from random64()
 *   (two draws, first is the high word), Box–Muller in double, the second value cached on the generator.
 * Only numel matters, never the shape, so `randn([n])` equals `randn(shape)` whenever n = numel(shape).
 */
import { AppError } from '../../../protocol/errors';

export interface TorchGenerator {
  /** Next tempered 32-bit MT19937 output (uint32 as a number). */
  random(): number;
  /** Standard normals of `shape` (row-major, float32), identical to `torch.randn(shape, generator=g)` on CPU. */
  randn(shape: readonly number[]): Float32Array;
}

const N = 624;
const M = 397;
const f = Math.fround;
const TWO_PI = 2 * Math.PI;

/** Largest seed torch accepts (uint64). */
export const MAX_SEED = (1n << 64n) - 1n;

/** A seed: a safe integer number, or a bigint up to 2^64 − 1. */
export type Seed = number | bigint;

/** Whether `seed` is a valid seed (0…2^64−1; numbers must be safe integers). */
export const isValidSeed = (seed: unknown): seed is Seed =>
  (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) || (typeof seed === 'bigint' && seed >= 0n && seed <= MAX_SEED);

/** As `torch.manual_seed(seed)` (CPU default generator); AppError INVALID_INPUT unless seed is a whole number 0…2^64−1. */
export function createTorchGenerator(seed: Seed): TorchGenerator {
  if (!isValidSeed(seed)) {
    throw new AppError('INVALID_INPUT', `seed must be a whole number from 0 to ${MAX_SEED}, got ${String(seed)}.`);
  }
  const mt = new Uint32Array(N);
  let index = N;
  // init_with_uint32(seed & 0xffffffff): ToUint32 is exactly that for safe integers; bigints take their low 32 bits.
  mt[0] = typeof seed === 'bigint' ? Number(BigInt.asUintN(32, seed)) : seed >>> 0;
  for (let i = 1; i < N; i++) {
    const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
    mt[i] = (Math.imul(prev, 1812433253) + i) >>> 0;
  }
  // at::normal_distribution<double> caches its second Box–Muller value on the generator (reset by manual_seed).
  let cachedNormal: number | null = null;

  function twist(): void {
    for (let i = 0; i < N; i++) {
      const y = (mt[i]! & 0x80000000) | (mt[(i + 1) % N]! & 0x7fffffff);
      let v = mt[(i + M) % N]! ^ (y >>> 1);
      if (y & 1) v ^= 0x9908b0df;
      mt[i] = v >>> 0;
    }
    index = 0;
  }

  function random(): number {
    if (index >= N) twist();
    let y = mt[index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** uniform_real_distribution<float>(0, 1): 24 random bits. */
  const uniformFloat = (): number => (random() & 0xffffff) / 16777216;

  /** uniform_real_distribution<double>(0, 1): the low 53 bits of random64() = (first << 32) | second. */
  function uniformDouble(): number {
    const hi = random();
    const lo = random();
    return ((hi & 0x1fffff) * 4294967296 + lo) / 9007199254740992;
  }

  /** at::normal_distribution<double>(0, 1), as used by the scalar randn path. */
  function normalDouble(): number {
    if (cachedNormal !== null) {
      const v = cachedNormal;
      cachedNormal = null;
      return v;
    }
    const u1 = uniformDouble();
    const u2 = uniformDouble();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = TWO_PI * u1;
    cachedNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** normal_fill_16<float>: Box–Muller on data[o+j], data[o+j+8], j < 8, in float32 steps (mean 0, std 1). */
  function normalFill16(data: Float32Array, o: number): void {
    for (let j = 0; j < 8; j++) {
      const u1 = f(1 - data[o + j]!);
      const u2 = data[o + j + 8]!;
      const radius = f(Math.sqrt(f(-2 * f(Math.log(u1)))));
      const theta = f(TWO_PI * u2);
      data[o + j] = f(radius * f(Math.cos(theta)));
      data[o + j + 8] = f(radius * f(Math.sin(theta)));
    }
  }

  function randn(shape: readonly number[]): Float32Array {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new AppError('INVALID_INPUT', `randn shape must be whole numbers ≥ 0, got [${shape.join(', ')}].`);
    }
    const numel = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(numel);
    if (numel >= 16) {
      for (let i = 0; i < numel; i++) out[i] = uniformFloat();
      for (let i = 0; i + 16 <= numel; i += 16) normalFill16(out, i);
      if (numel % 16 !== 0) {
        const start = numel - 16;
        for (let i = 0; i < 16; i++) out[start + i] = uniformFloat();
        normalFill16(out, start);
      }
    } else {
      for (let i = 0; i < numel; i++) out[i] = normalDouble();
    }
    return out;
  }

  return { random, randn };
}

/** Standard-normal noise of `shape` from a fresh seed: `torch.randn(shape, generator=torch.manual_seed(seed))`. */
export const seededRandn = (seed: Seed, shape: readonly number[]): Float32Array => createTorchGenerator(seed).randn(shape);

/**
 * The `randn` argument of Scheduler.step, drawing from `generator`: `n` values are exactly
 * `torch.randn(shape, generator=g)` for any shape with n elements (diffusers' randn_tensor on a CPU generator).
 */
export const stepRandn = (generator: TorchGenerator) => (n: number): Float32Array => generator.randn([n]);
