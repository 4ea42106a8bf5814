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
 *   transform them again. Which Box–Muller: `kernel` 'avx2' (default) is torch's normal_fill_16_AVX2, the kernel x86-64
 *   CPUs with AVX2 run (aten/src/ATen/native/cpu/DistributionTemplates.h, with avx_mathfun.h's cephes log256_ps and
 *   sincos256_ps, every multiply-add fused as GCC contracts them); bit-identical to torch 2.13 on 16 M values
 *   (tools/parity). 'scalar' is the default-capability kernel (normal_fill_16: std::log / std::cos / std::sin in
 *   float32), what torch runs without AVX2 (e.g. ARM) — "identical" then means to that kernel, within the last ulp.
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

/** Which CPU kernel's Box–Muller the emulation follows (see the module comment). */
export type RandnKernel = 'avx2' | 'scalar';

// ---------- torch's normal_fill_16_AVX2: avx_mathfun.h's log256_ps / sincos256_ps lane by lane ----------
const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

/** The float32 next to `r` (a finite float32) in the direction of `towards`. */
function neighbour32(r: number, towards: number): number {
  if (r === 0) return towards > 0 ? 2 ** -149 : -(2 ** -149);
  F32[0] = r;
  I32[0] = I32[0]! + ((towards > r) === (r > 0) ? 1 : -1);
  return F32[0]!;
}

/** fmaf(a, b, c): a·b + c rounded once to float32 (a, b, c float32). a·b is exact in double; TwoSum gives the rest. */
function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const bp = s - p;
  const err = (p - (s - bp)) + (c - bp);
  const r = Math.fround(s);
  if (err === 0 || r === s) return r;
  const other = neighbour32(r, s);
  if (s !== (r + other) / 2) return r; // not a float32 tie: rounding s is rounding the exact value
  return err > 0 ? Math.max(r, other) : Math.min(r, other);
}

const SQRTHF = f(0.707106781186547524);
const LOG_P = [7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1].map(f);
const LOG_Q1 = f(-2.12194440e-4);
const LOG_Q2 = f(0.693359375);
const FOPI = f(1.27323954473516);
const DP1 = f(-0.78515625);
const DP2 = f(-2.4187564849853515625e-4);
const DP3 = f(-3.77489497744594108e-8);
const COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f);
const SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f);
const TWO_PI_F = f(2 * Math.PI);

/** log256_ps for one lane, x in (0, 1]. */
function logAvx(x: number): number {
  F32[0] = x;
  const bits = I32[0]!;
  let e = f(((bits >>> 23) - 0x7f) + 1);
  I32[0] = (bits & ~0x7f800000) | 0x3f000000;
  let m = F32[0]!;
  const below = m < SQRTHF;
  const tmp = below ? m : 0;
  m = f(m - 1);
  if (below) e = f(e - 1);
  m = f(m + tmp);
  const z = f(m * m);
  let y = LOG_P[0]!;
  for (let k = 1; k < LOG_P.length; k++) y = fmaf(y, m, LOG_P[k]!);
  y = f(y * m);
  y = fmaf(y, z, f(e * LOG_Q1));
  y = f(y - f(z * 0.5));
  m = f(m + y);
  return fmaf(e, LOG_Q2, m);
}

/** sincos256_ps for one lane: [sin x, cos x]. */
function sincosAvx(x: number): [number, number] {
  let signSin = x < 0 || Object.is(x, -0);
  x = Math.abs(x);
  let j = Math.trunc(f(x * FOPI)) | 0;
  j = (j + 1) & ~1;
  const y = j;
  const swapSin = (j & 4) !== 0;
  const poly = (j & 2) === 0;
  x = fmaf(y, DP1, x);
  x = fmaf(y, DP2, x);
  x = fmaf(y, DP3, x);
  const signCos = (~(j - 2) & 4) !== 0;
  signSin = signSin !== swapSin;
  const z = f(x * x);
  let yc = fmaf(fmaf(COS_P[0]!, z, COS_P[1]!), z, COS_P[2]!);
  yc = f(yc * z);
  yc = fmaf(yc, z, -f(z * 0.5));
  yc = f(yc + 1);
  let ys = fmaf(fmaf(SIN_P[0]!, z, SIN_P[1]!), z, SIN_P[2]!);
  ys = f(ys * z);
  ys = fmaf(ys, x, x);
  const s = poly ? ys : yc;
  const c = poly ? yc : ys;
  return [signSin ? -s : s, signCos ? -c : c];
}

/** normal_fill_16_AVX2 (mean 0, std 1: its final fmadd(n, 1, 0) is exact). */
function normalFill16Avx2(data: Float32Array, o: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f(1 - data[o + j]!);
    const u2 = data[o + j + 8]!;
    const radius = f(Math.sqrt(f(-2 * logAvx(u1))));
    const [sin, cos] = sincosAvx(f(TWO_PI_F * u2));
    data[o + j] = f(radius * cos);
    data[o + j + 8] = f(radius * sin);
  }
}

/**
 * As `torch.manual_seed(seed)` (CPU default generator); AppError INVALID_INPUT unless seed is a whole number 0…2^64−1.
 * `kernel` picks the Box–Muller of randn for numel ≥ 16 (default 'avx2', torch on x86-64).
 */
export function createTorchGenerator(seed: Seed, opts: { kernel?: RandnKernel } = {}): TorchGenerator {
  const fill16 = (opts.kernel ?? 'avx2') === 'avx2' ? normalFill16Avx2 : normalFill16;
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
      for (let i = 0; i + 16 <= numel; i += 16) fill16(out, i);
      if (numel % 16 !== 0) {
        const start = numel - 16;
        for (let i = 0; i < 16; i++) out[start + i] = uniformFloat();
        fill16(out, start);
      }
    } else {
      for (let i = 0; i < numel; i++) out[i] = normalDouble();
    }
    return out;
  }

  return { random, randn };
}

/** Standard-normal noise of `shape` from a fresh seed: `torch.randn(shape, generator=torch.manual_seed(seed))`. */
export const seededRandn = (seed: Seed, shape: readonly number[], kernel: RandnKernel = 'avx2'): Float32Array => createTorchGenerator(seed, { kernel }).randn(shape);

/**
 * The `randn` argument of Scheduler.step, drawing from `generator`: `n` values are exactly
 * `torch.randn(shape, generator=g)` for any shape with n elements (diffusers' randn_tensor on a CPU generator).
 */
export const stepRandn = (generator: TorchGenerator) => (n: number): Float32Array => generator.randn([n]);
