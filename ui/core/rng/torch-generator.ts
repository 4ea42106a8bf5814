/**
 * torch's CPU generator, emulated: `torch.manual_seed(seed)` + `torch.randn(shape)` give the same float32 values here.
 * - MT19937 seeded with init_genrand on the low 32 bits of the seed (torch's mt19937 takes a uint64 seed and
 *   initialises its state from `seed & 0xffffffff`).
 * - Uniforms: 24 bits of a 32-bit draw, `(r & 0xFFFFFF) * 2^-24` (float32 path).
 * - numel ≥ 16: normal_fill — fill all with uniforms, Box-Muller in blocks of 16 (j, j+8), redo the last 16 when
 *   numel % 16 ≠ 0. numel < 16: the scalar path (53-bit double uniforms, Box-Muller with a cached second sample).
 * Source: PyTorch aten/src/ATen/native/cpu/DistributionTemplates.h normal_fill / at::normal_distribution<double>;
 * see ../shared/reference/schedulers.md §4.
 */

export interface TorchGenerator {
  /** Next tempered 32-bit MT19937 output. */
  random(): number;
  /** Standard normals of `shape`, float32, in torch's order. */
  randn(shape: readonly number[]): Float32Array;
}

const N = 624;
const M = 397;

export function createTorchGenerator(seed: number): TorchGenerator {
  if (!Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`seed must be an integer in [0, ${Number.MAX_SAFE_INTEGER}], got ${seed}`);
  }
  const mt = new Uint32Array(N);
  let index = N;
  mt[0] = seed >>> 0; // low 32 bits (seed % 2^32 for non-negative integers up to 2^53)
  if (seed > 0xffffffff) mt[0] = seed % 0x100000000;
  for (let i = 1; i < N; i++) {
    const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
    // 1812433253 * prev + i, modulo 2^32, without losing precision.
    mt[i] = (((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) + (prev & 0x0000ffff) * 1812433253 + i) >>> 0;
  }
  // torch::normal_distribution<double> caches the second Box-Muller sample on the generator.
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

  /** uniform_real_distribution<float>(0,1): 24 random bits. */
  const uniformFloat = (): number => (random() & 0xffffff) * (1 / 16777216);

  /** uniform_real_distribution<double>(0,1): 53 bits of random64(). */
  function uniformDouble(): number {
    // CPUGeneratorImpl::random64: make64BitsFrom32Bits(first, second) = (first << 32) | second; keep 53 low bits.
    const hi = random();
    const lo = random();
    const r53 = (hi & 0x1fffff) * 4294967296 + lo;
    return r53 * (1 / 9007199254740992);
  }

  /** at::normal_distribution<double>(0, 1) as used by the scalar randn path. */
  function normalDouble(): number {
    if (cachedNormal !== null) {
      const v = cachedNormal;
      cachedNormal = null;
      return v;
    }
    const u1 = uniformDouble();
    const u2 = uniformDouble();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = 2 * Math.PI * u1;
    cachedNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  function normalFill16(data: Float32Array, offset: number): void {
    for (let j = 0; j < 8; j++) {
      const u1 = 1 - data[offset + j]!;
      const u2 = data[offset + j + 8]!;
      const radius = Math.sqrt(-2 * Math.log(u1));
      const theta = 2 * Math.PI * u2;
      data[offset + j] = radius * Math.cos(theta);
      data[offset + j + 8] = radius * Math.sin(theta);
    }
  }

  function randn(shape: readonly number[]): Float32Array {
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

/** Standard-normal noise of `shape` from a seed, as `torch.randn(shape, generator=torch.manual_seed(seed))`. */
export const seededRandn = (seed: number, shape: readonly number[]): Float32Array => createTorchGenerator(seed).randn(shape);
