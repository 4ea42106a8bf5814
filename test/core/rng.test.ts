import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { ASSETS, ROOT } from '../helpers/paths';
import { createTorchGenerator, seededRandn, stepRandn } from '../../ui/core/rng/torch-generator';
import { AppError } from '../../protocol/errors';

/** Values printed by PyTorch (4 decimals), so compare at 1e-4. */
const close = (got: ArrayLike<number>, want: number[], tol = 1e-4) => {
  expect(got.length).toBe(want.length);
  const bad = want.map((w, i) => [i, got[i]!, w] as const).filter(([, g, w]) => !(Math.abs(g - w) <= tol));
  expect(bad).toEqual([]);
};

// torch.manual_seed(0); x = torch.randn(10, 4); W = torch.randn(4, 4); y = torch.randn(10, 4) — printed in a published
// PyTorch autograd walk-through (matrix-calculus notes, "PyTorch验证" section). 40 % 16 ≠ 0: both 10×4 draws take the
// tail re-draw path, and W shows where the stream continues afterwards.
const X_10x4 = [
  -1.1258, -1.1524, -0.2506, -0.4339, 0.8487, 0.692, -0.316, -2.1152, 0.3223, -1.2633, 0.35, 0.3081, 0.1198, 1.2377, 1.1168, -0.2473,
  -1.3527, -1.6959, 0.5667, 0.7935, 0.5988, -1.5551, -0.3414, 1.853, -0.2159, -0.7425, 0.5627, 0.2596, -0.174, -0.6787, 0.9383, 0.4889,
  1.2032, 0.0845, -1.2001, -0.0048, -0.5181, -0.3067, -1.581, 1.7066,
];
const W_4x4 = [0.2055, -0.4503, -0.5731, -0.5554, 0.5943, 1.5419, 0.5073, -0.591, -1.3253, 0.1886, -0.0691, -0.4949, -1.4959, -0.1938, 0.4455, 1.3253];
const Y_10x4 = [
  1.5091, 2.082, 1.7067, 2.3804, -1.1256, -0.317, -1.0925, -0.0852, 0.3276, -0.7607, -1.5991, 0.0185, -0.7504, 0.1854, 0.6211, 0.6382,
  -0.0033, -0.5344, 1.1687, 0.3945, 1.9415, 0.7915, -0.0203, -0.4372, -0.2188, -2.4351, -0.0729, -0.034, 0.9625, 0.3492, -0.9215, -0.0562,
  -0.6227, -0.4637, 1.9218, -0.4025, 0.1239, 1.1648, 0.9234, 1.3873,
];

describe('torch CPU generator emulation', () => {
  it('MT19937: seed 5489 gives 3499211612 first and 4123659995 as the 10000th output (C++ std::mt19937)', () => {
    const g = createTorchGenerator(5489);
    expect(g.random()).toBe(3499211612);
    let x = 0;
    for (let i = 1; i < 10000; i++) x = g.random();
    expect(x).toBe(4123659995);
  });

  it('torch.manual_seed(0); torch.randn(4, 4) (kornia docstring values, schedulers.md)', () => {
    close(createTorchGenerator(0).randn([4, 4]), [
      -1.1258, -1.1524, -0.2506, -0.4339, 0.8487, 0.692, -0.316, -2.1152,
      0.3223, -1.2633, 0.35, 0.3081, 0.1198, 1.2377, 1.1168, -0.2473,
    ]);
  });

  it('a second randn(4, 4) continues the stream (= rows 5–8 of randn(8, 4))', () => {
    const g = createTorchGenerator(0);
    g.randn([4, 4]);
    close(g.randn([4, 4]).slice(0, 8), [-1.3527, -1.6959, 0.5667, 0.7935, 0.5988, -1.5551, -0.3414, 1.853]);
  });

  it('randn(10, 4) → randn(4, 4) → randn(10, 4): 96 published values incl. two tail re-draws', () => {
    const g = createTorchGenerator(0);
    close(g.randn([10, 4]), X_10x4);
    close(g.randn([4, 4]), W_4x4);
    close(g.randn([10, 4]), Y_10x4);
  });

  it('tail path: randn(2, 3, 2, 2) (kornia RandomPlanckianJitter docstring) and randn(4, 5)', () => {
    close(seededRandn(0, [2, 3, 2, 2]).slice(0, 12), [-1.1258, -1.1524, -0.2506, -0.4339, 0.8487, 0.692, -0.316, -2.1152, 0.4681, -0.1577, 1.4437, 0.266]);
    close(seededRandn(0, [4, 5]), [
      -1.1258, -1.1524, -0.2506, -0.4339, 0.5988, -1.5551, -0.3414, 1.853, 0.4681, -0.1577,
      1.4437, 0.266, 1.3894, 1.5863, 0.9463, -0.8437, 0.9318, 1.259, 2.005, 0.0537,
    ]);
  });

  it('numel 48, no tail: randn(1, 1, 2, 4, 6) (kornia CenterCrop3D docstring)', () => {
    close(seededRandn(0, [1, 1, 2, 4, 6]).slice(16), [
      -1.3527, -1.6959, 0.5667, 0.7935, 0.5988, -1.5551, -0.3414, 1.853, 0.7502, -0.5855, -0.1734, 0.1835, 1.3894, 1.5863, 0.9463, -0.8437,
      -0.6136, 0.0316, -0.4927, 0.2484, 0.4397, 0.1124, 0.6408, 0.4412, -0.1023, 0.7924, -0.2897, 0.0525, 0.5229, 2.3022, -1.4689, -1.5867,
    ]);
  });

  it('the scalar path for fewer than 16 values: randn(3), randn(3, 4), seed 42 randn(2, 3)', () => {
    close(seededRandn(0, [3]), [1.541, -0.2934, -2.1788]);
    close(seededRandn(0, [3, 4]), [1.541, -0.2934, -2.1788, 0.5684, -1.0845, -1.3986, 0.4033, 0.838, -0.7193, -0.4033, -0.5966, 0.182]);
    close(seededRandn(42, [2, 3]), [0.3367, 0.1288, 0.2345, 0.2303, -1.1229, -0.1863]);
  });

  it('the scalar path caches the second Box–Muller value across calls (randn(1) ×3 = randn(3))', () => {
    const g = createTorchGenerator(0);
    const parts = [...g.randn([1]), ...g.randn([1]), ...g.randn([1])];
    expect(parts).toEqual(Array.from(seededRandn(0, [3])));
  });

  it('seed 42 randn(4, 4)', () => {
    close(seededRandn(42, [4, 4]), [1.9269, 1.4873, 0.9007, -2.1055, 0.6784, -1.2345, -0.0431, -1.6047, -0.7521, 1.6487, -0.3925, -1.4036, -0.7279, -0.5594, -0.7688, 0.7624]);
  });

  it('float32 Box–Muller steps land within 1e-6 of the full-precision emulation in the scheduler assets', () => {
    const golden = JSON.parse(fs.readFileSync(path.join(ASSETS, 'schedulers/diffusers_scheduler_expected.json'), 'utf8'));
    close(seededRandn(0, [4, 3, 8, 8]).slice(0, 16), golden.torch_randn_emulation_check.values, 1e-6);
  });

  it('only numel matters: randn(shape) equals randn([numel]); stepRandn draws from the shared stream', () => {
    expect(Array.from(seededRandn(7, [2, 4, 8, 8]))).toEqual(Array.from(seededRandn(7, [512])));
    const g = createTorchGenerator(7);
    const draw = stepRandn(g);
    const a = draw(512);
    const b = draw(512);
    const h = createTorchGenerator(7);
    expect(Array.from(a)).toEqual(Array.from(h.randn([1, 4, 8, 16])));
    expect(Array.from(b)).toEqual(Array.from(h.randn([512])));
  });

  it('seeds use the low 32 bits (torch mt19937 init_with_uint32: seed & 0xffffffff)', () => {
    const big = 2 ** 32 + 5;
    expect(Array.from(seededRandn(big, [16]))).toEqual(Array.from(seededRandn(5, [16])));
    expect(createTorchGenerator(Number.MAX_SAFE_INTEGER).random()).toBe(createTorchGenerator(0xffffffff).random());
  });

  it('is deterministic per seed and differs across seeds', () => {
    const a = seededRandn(1234, [1, 4, 8, 8]);
    expect(Array.from(a)).toEqual(Array.from(seededRandn(1234, [1, 4, 8, 8])));
    expect(Array.from(a)).not.toEqual(Array.from(seededRandn(1235, [1, 4, 8, 8])));
    const big = seededRandn(3, [64, 64]);
    const mean = big.reduce((s, v) => s + v, 0) / big.length;
    const variance = big.reduce((s, v) => s + (v - mean) ** 2, 0) / big.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });

  it('rejects bad seeds and shapes with an AppError naming the value', () => {
    for (const seed of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => createTorchGenerator(seed)).toThrow(AppError);
      expect(() => createTorchGenerator(seed)).toThrow(new RegExp(`seed must be a whole number .*got ${seed}`));
    }
    expect(() => createTorchGenerator(0).randn([2, -1])).toThrow(/shape .*\[2, -1\]/);
  });
});

describe('torch randn, bit for bit (test/fixtures/parity/randn.json, made by torch 2.13 on an AVX2 CPU)', () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/parity/randn.json'), 'utf8')) as {
    cpuCapability: string;
    draws: { seed: string; shape: number[]; values: string }[];
  };
  const decode = (b64: string): Float32Array => {
    const b = Buffer.from(b64, 'base64');
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  };
  const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer.slice(0)));

  it('the AVX2 kernel (default) gives torch’s exact bits for every draw, in sequence, tail re-draws and the scalar path included', () => {
    expect(fixture.cpuCapability).toBe('AVX2');
    const gens = new Map<string, ReturnType<typeof createTorchGenerator>>();
    let values = 0;
    for (const d of fixture.draws) {
      let g = gens.get(d.seed);
      if (!g) gens.set(d.seed, (g = createTorchGenerator(BigInt(d.seed))));
      const want = decode(d.values);
      expect(bits(g.randn(d.shape)), `seed ${d.seed} randn(${d.shape.join(', ')})`).toEqual(bits(want));
      values += want.length;
    }
    expect(values).toBeGreaterThan(20_000);
  });

  it('the scalar kernel (torch without AVX2) differs from AVX2 in the last bits only', () => {
    const d = fixture.draws.find((x) => x.shape.length === 4 && x.shape[2] === 32)!;
    const gens = [createTorchGenerator(BigInt(fixture.draws[0]!.seed), { kernel: 'scalar' }), createTorchGenerator(BigInt(fixture.draws[0]!.seed))];
    const scalar = gens[0]!.randn([1, 4, 32, 24]);
    const avx = gens[1]!.randn([1, 4, 32, 24]);
    let same = 0;
    let maxRel = 0;
    for (let i = 0; i < avx.length; i++) {
      if (scalar[i] === avx[i]) same++;
      maxRel = Math.max(maxRel, Math.abs(scalar[i]! - avx[i]!) / Math.max(1, Math.abs(avx[i]!)));
    }
    expect(same / avx.length).toBeGreaterThan(0.3);
    expect(same).toBeLessThan(avx.length);
    expect(maxRel).toBeLessThan(2e-6); // a few float32 ulps
    expect(d.values.length).toBeGreaterThan(0);
  });
});
