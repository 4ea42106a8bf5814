/**
 * Inference timestep spacing with numpy's exact numerics, shared by the Euler family and DDIM
 * (as diffusers EulerDiscreteScheduler.set_timesteps / DDIMScheduler.set_timesteps):
 * - "linspace": np.linspace(0, N-1, n)[::-1] (float64; Euler casts to float32, DDIM rounds half-to-even to int);
 * - "leading":  (np.arange(n) * (N // n))[::-1] + steps_offset;
 * - "trailing": np.round(np.arange(N, 0, -N/n)) - 1.
 * Values come back as float64 numbers; callers cast (Math.fround for Euler, they are already integers for DDIM).
 */
import { AppError } from '../../../protocol/errors';
import type { SchedulerConfig } from '../manifest';

/** np.round / np.rint: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** np.linspace(start, stop, num) in float64 (endpoint=True): `i * step + start`, last value exactly `stop`. */
export function numpyLinspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(i * step + start);
  out[num - 1] = stop;
  return out;
}

/** np.arange(start, stop, step) for a negative float step: `start + i * delta` with numpy's delta. */
function numpyArangeDown(start: number, step: number, count: number): number[] {
  const delta = start + step - start;
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(start + i * delta);
  return out;
}

/**
 * Timesteps for `n` steps, highest first. `rounding` = 'none' keeps linspace's fractional values (Euler),
 * 'half-even' rounds them (DDIM). np.arange(N, 0, -N/n) occasionally yields n + 1 values through float error
 * (e.g. N=1000, n=61); diffusers then runs an extra step at timestep -1. We keep the first n (the intent).
 */
export function spacedTimesteps(config: SchedulerConfig, n: number, rounding: 'none' | 'half-even'): number[] {
  const N = config.num_train_timesteps;
  switch (config.timestep_spacing) {
    case 'linspace': {
      const values = numpyLinspace(0, N - 1, n).reverse();
      return rounding === 'none' ? values : values.map(roundHalfEven);
    }
    case 'leading': {
      const ratio = Math.floor(N / n);
      const offset = config.steps_offset ?? 0;
      const out: number[] = [];
      for (let i = n - 1; i >= 0; i--) out.push(i * ratio + offset);
      return out;
    }
    case 'trailing':
      return numpyArangeDown(N, -(N / n), n).map((t) => roundHalfEven(t) - 1);
  }
}

/** Steps must be a whole number in [1, num_train_timesteps]; anything else is an AppError naming the value. */
export function checkNumInferenceSteps(config: SchedulerConfig, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > config.num_train_timesteps) {
    throw new AppError('INVALID_INPUT', `steps must be a whole number from 1 to ${config.num_train_timesteps}, got ${n}.`);
  }
}

/** Timesteps index ᾱ tables of length N: each must lie in [0, N-1] (a large steps_offset can push them out). */
export function checkTimestepRange(config: SchedulerConfig, timesteps: readonly number[]): void {
  const N = config.num_train_timesteps;
  const bad = timesteps.find((t) => t < 0 || t > N - 1);
  if (bad !== undefined) {
    throw new AppError('INVALID_MANIFEST', `Scheduler timestep ${bad} is outside 0…${N - 1}; check steps_offset (${config.steps_offset ?? 0}) and timestep_spacing "${config.timestep_spacing}".`);
  }
}

/** stepIndex must address an existing step of the schedule; data arrays must have matching lengths. */
export function checkStepArgs(stepIndex: number, numSteps: number, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (!Number.isInteger(stepIndex) || stepIndex < 0 || stepIndex >= numSteps) {
    throw new AppError('INVALID_INPUT', `step index must be a whole number from 0 to ${numSteps - 1}, got ${stepIndex}.`);
  }
  if (a.length !== b.length) {
    throw new AppError('INVALID_INPUT', `scheduler inputs differ in length: ${a.length} vs ${b.length} values.`);
  }
}
