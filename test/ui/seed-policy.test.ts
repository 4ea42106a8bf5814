import { describe, expect, it } from 'vitest';
import { MAX_SEED, normalizeSeed, planSeeds, randomSeed } from '../../ui/app/seed-policy';

const seq = (...values: number[]) => { let i = 0; return () => values[i++ % values.length] as number; };

describe('seed policies', () => {
  it('random: a fresh base seed from the injected source each run, consecutive within a batch', () => {
    const a = planSeeds('random', 7, 3, seq(0.5));
    expect(a.seeds).toEqual([2147483648, 2147483649, 2147483650]);
    expect(a.nextSeed).toBe(2147483648);
    const b = planSeeds('random', 7, 1, seq(0.25));
    expect(b.seeds).toEqual([1073741824]);
  });

  it('fixed: the same seeds every run and the form keeps the seed', () => {
    const r1 = planSeeds('fixed', 1234, 2, seq(0.9));
    const r2 = planSeeds('fixed', r1.nextSeed, 2, seq(0.1));
    expect(r1.seeds).toEqual([1234, 1235]);
    expect(r2.seeds).toEqual(r1.seeds);
    expect(r1.nextSeed).toBe(1234);
  });

  it('increment: +1 each run for single images; past the batch for batches', () => {
    const r1 = planSeeds('increment', 10, 1, seq(0));
    const r2 = planSeeds('increment', r1.nextSeed, 1, seq(0));
    expect([r1.seeds, r2.seeds]).toEqual([[10], [11]]);
    const b = planSeeds('increment', 10, 4, seq(0));
    expect(b.seeds).toEqual([10, 11, 12, 13]);
    expect(b.nextSeed).toBe(14);
  });

  it('wraps at 2^32 and never leaves [0, MAX_SEED]', () => {
    expect(planSeeds('increment', MAX_SEED, 2, seq(0)).seeds).toEqual([MAX_SEED, 0]);
    expect(normalizeSeed(-1)).toBe(MAX_SEED);
    expect(normalizeSeed(Number.NaN)).toBe(0);
    expect(randomSeed(() => 0.9999999999)).toBeLessThanOrEqual(MAX_SEED);
    expect(planSeeds('fixed', 5, 0, seq(0)).seeds).toEqual([5]);
  });
});
