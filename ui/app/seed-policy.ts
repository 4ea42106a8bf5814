/**
 * Seed policies (pure). A run of `batchCount` images uses consecutive seeds (seed, seed+1, …) so every image of a
 * batch differs and each one is reproducible on its own from its recipe.
 * - 'random':    a fresh random base seed every run.
 * - 'fixed':     the same base seed every run (regenerate exactly).
 * - 'increment': the base seed advances past the seeds used, so the next run continues (seed+1 each run for batch 1).
 */
export type SeedPolicy = 'random' | 'fixed' | 'increment';
export const SEED_POLICIES: readonly SeedPolicy[] = ['random', 'fixed', 'increment'];

/** Seeds are 32-bit unsigned (the torch generator's manual_seed range we use). */
export const MAX_SEED = 0xffffffff;

/** A random seed in [0, MAX_SEED] from a `random()` in [0, 1) (injected so tests are deterministic). */
export function randomSeed(random: () => number): number {
  return Math.floor(random() * (MAX_SEED + 1)) % (MAX_SEED + 1);
}

/** Wraps any integer into [0, MAX_SEED]. */
export function normalizeSeed(seed: number): number {
  if (!Number.isFinite(seed)) return 0;
  const n = Math.trunc(seed) % (MAX_SEED + 1);
  return n < 0 ? n + MAX_SEED + 1 : n;
}

export interface SeedPlan {
  /** One seed per batch image. */
  readonly seeds: readonly number[];
  /** The seed the form shows after this run starts. */
  readonly nextSeed: number;
}

/** Plans the seeds of one run. `seed` is the form's current seed; `random` is only called for 'random'. */
export function planSeeds(policy: SeedPolicy, seed: number, batchCount: number, random: () => number): SeedPlan {
  const count = Math.max(1, Math.trunc(batchCount));
  const base = policy === 'random' ? randomSeed(random) : normalizeSeed(seed);
  const seeds = Array.from({ length: count }, (_, i) => normalizeSeed(base + i));
  // 'random' shows the seed it used (so it can be copied); 'increment' moves on past this run's seeds.
  const nextSeed = policy === 'increment' ? normalizeSeed(base + count) : base;
  return { seeds, nextSeed };
}
