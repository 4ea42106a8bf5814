import { describe, expect, it } from 'vitest';
import { createTorchGenerator } from '../../ui/core/rng/torch-generator';

const close = (got: ArrayLike<number>, want: number[], tol = 1e-4) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i]! - w), `index ${i}: ${got[i]} vs ${w}`).toBeLessThan(tol));
};

describe('torch CPU generator emulation', () => {
  it('MT19937 seeded with 5489 gives the reference first output', () => {
    expect(createTorchGenerator(5489).random()).toBe(3499211612);
  });

  it('torch.manual_seed(0); torch.randn(4, 4)', () => {
    const g = createTorchGenerator(0);
    close(g.randn([4, 4]), [
      -1.1258, -1.1524, -0.2506, -0.4339, 0.8487, 0.692, -0.316, -2.1152,
      0.3223, -1.2633, 0.35, 0.3081, 0.1198, 1.2377, 1.1168, -0.2473,
    ]);
  });

  it('rows 5–6 of torch.manual_seed(0); torch.randn(10, 4) (non-multiple-of-16 tail path)', () => {
    const x = createTorchGenerator(0).randn([10, 4]);
    close(x.slice(16, 24), [-1.3527, -1.6959, 0.5667, 0.7935, 0.5988, -1.5551, -0.3414, 1.853]);
  });

  it('the scalar path for fewer than 16 values: torch.manual_seed(0); torch.randn(3)', () => {
    close(createTorchGenerator(0).randn([3]), [1.541, -0.2934, -2.1788]);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const a = createTorchGenerator(1234).randn([1, 4, 8, 8]);
    const b = createTorchGenerator(1234).randn([1, 4, 8, 8]);
    const c = createTorchGenerator(1235).randn([1, 4, 8, 8]);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.3);
  });

  it('rejects seeds that are not non-negative safe integers', () => {
    expect(() => createTorchGenerator(-1)).toThrow(/seed must be an integer/);
    expect(() => createTorchGenerator(1.5)).toThrow(/seed must be an integer/);
  });
});
