import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { ASSETS } from '../helpers/paths';
import { createScheduler, getImg2ImgStartIndex } from '../../ui/core/schedulers';
import { torchLinspaceF32 } from '../../ui/core/schedulers/betas';
import { createTorchGenerator } from '../../ui/core/rng/torch-generator';
import type { SchedulerConfig } from '../../ui/core/manifest';
import { AppError } from '../../protocol/errors';

const golden = JSON.parse(fs.readFileSync(path.join(ASSETS, 'schedulers/diffusers_scheduler_expected.json'), 'utf8'));
const f = Math.fround;
const B = 4, C = 3, H = 8, W = 8, N = B * C * H * W;

/** diffusers' dummy_sample_deter (reversed = dummy_noise_deter), laid out NCHW. */
function deter(reversed = false): Float32Array {
  const out = new Float32Array(N);
  for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    const k = c * H * W * B + h * W * B + w * B + b;
    out[((b * C + c) * H + h) * W + w] = f((reversed ? N - 1 - k : k) / N);
  }
  return out;
}
/** dummy_model: sample * t / (t + 1) in float32. */
const dummyModel = (x: Float32Array, t: number) => x.map((v) => f(f(v * t) / f(t + 1)));
const absSum = (x: Float32Array) => x.reduce((s, v) => s + Math.abs(v), 0);

function configOf(c: { scheduler: string; config: Record<string, unknown> }): SchedulerConfig {
  const { ['(defaults)']: _d, ...rest } = c.config;
  const base = {
    _class_name: c.scheduler,
    prediction_type: 'epsilon',
    timestep_spacing: c.scheduler === 'DDIMScheduler' || c.scheduler === 'LCMScheduler' ? 'leading' : 'linspace',
  };
  return { ...base, ...rest } as SchedulerConfig;
}

function runCase(c: { scheduler: string; test: string; num_inference_steps: number; config: Record<string, unknown> }): Float32Array {
  const config = configOf(c);
  const s = createScheduler(config, c.num_inference_steps);
  const gen = createTorchGenerator(0);
  const randn = (n: number) => gen.randn([n]);
  const withNoise = c.test === 'test_full_loop_with_noise';
  const start = withNoise ? 8 : 0;
  let sample = deter();
  if (c.scheduler.startsWith('Euler')) {
    sample = sample.map((v) => f(v * s.initNoiseSigma));
    if (withNoise) sample = s.addNoise(sample, deter(true), start);
    for (let i = start; i < s.timesteps.length; i++) {
      // diffusers' Euler test loop feeds the *scaled* sample back into step().
      sample = s.scaleModelInput(sample, i);
      const out = dummyModel(sample, s.timesteps[i]!);
      sample = s.step(out, i, sample, randn).prevSample;
    }
  } else {
    if (withNoise) sample = s.addNoise(sample, deter(true), start);
    for (let i = start; i < s.timesteps.length; i++) {
      const out = dummyModel(sample, s.timesteps[i]!);
      sample = s.step(out, i, sample, randn).prevSample;
    }
  }
  return sample;
}

describe('schedulers vs diffusers golden numbers', () => {
  it('has the 14 cases', () => expect(golden.cases.length).toBe(14));
  for (const c of golden.cases) {
    it(`${c.scheduler} ${c.test}`, () => {
      const x = runCase(c);
      expect(Math.abs(absSum(x) - c.expected_sum)).toBeLessThan(c.tol_sum);
      expect(Math.abs(absSum(x) / N - c.expected_mean)).toBeLessThan(c.tol_mean);
    });
  }
});

describe('scheduler details', () => {
  const turbo: SchedulerConfig = {
    _class_name: 'EulerDiscreteScheduler', num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012,
    beta_schedule: 'scaled_linear', prediction_type: 'epsilon', timestep_spacing: 'trailing',
  };
  const classes = ['EulerDiscreteScheduler', 'EulerAncestralDiscreteScheduler', 'DDIMScheduler', 'LCMScheduler'] as const;
  const configFor = (cls: (typeof classes)[number]): SchedulerConfig => ({
    ...turbo, _class_name: cls, timestep_spacing: cls.startsWith('Euler') ? 'trailing' : 'leading', clip_sample: false,
  });

  it('SD-Turbo: trailing spacing, 1 step = timestep 999, sigma 14.6146; init sigma = max sigma (diffusers: linspace/trailing)', () => {
    const s = createScheduler(turbo, 1);
    expect(s.timesteps).toEqual([999]);
    expect(s.sigmas![0]).toBeCloseTo(14.6146, 3);
    expect(s.sigmas![1]).toBe(0);
    expect(s.initNoiseSigma).toBe(s.sigmas![0]);
    expect(createScheduler(turbo, 4).timesteps).toEqual([999, 749, 499, 249]);
  });

  it('Euler linspace timesteps are float32 values (1099, 976.89…, …, 0)', () => {
    // np.linspace(0, 1099, 10, dtype=float32)[::-1]: i · (1099 / 9), so the second value is 8 · 122.11… = 976.888…
    const s = createScheduler({ ...turbo, num_train_timesteps: 1100, timestep_spacing: 'linspace' }, 10);
    expect(s.timesteps[0]).toBe(1099);
    expect(s.timesteps[1]).toBe(f(8 * (1099 / 9)));
    expect(s.timesteps[1]).toBeCloseTo(976.8889, 3);
    expect(s.timesteps[9]).toBe(0);
    expect(s.initNoiseSigma).toBe(s.sigmas![0]);
  });

  it('leading spacing honours steps_offset, and init sigma is √(σmax² + 1) there', () => {
    const ddim: SchedulerConfig = { ...turbo, _class_name: 'DDIMScheduler', timestep_spacing: 'leading', steps_offset: 1 };
    expect(createScheduler(ddim, 5).timesteps).toEqual([801, 601, 401, 201, 1]);
    const euler = createScheduler({ ...turbo, timestep_spacing: 'leading', steps_offset: 1 }, 4);
    expect(euler.timesteps).toEqual([751, 501, 251, 1]);
    expect(euler.initNoiseSigma).toBeCloseTo(Math.sqrt(euler.sigmas![0]! ** 2 + 1), 4);
    expect(euler.initNoiseSigma).toBeGreaterThan(euler.sigmas![0]!);
  });

  it('rounds like numpy (half to even): DDIM linspace 7 steps, trailing 16 steps', () => {
    const ddim: SchedulerConfig = { ...turbo, _class_name: 'DDIMScheduler', timestep_spacing: 'linspace' };
    // np.linspace(0, 999, 7).round() = [0, 166, 333, 500, 666, 832, 999]: 166.5 → 166, 832.5 → 832.
    expect(createScheduler(ddim, 7).timesteps).toEqual([999, 832, 666, 500, 333, 166, 0]);
    // np.round(np.arange(1000, 0, -62.5)) - 1: 812.5 → 812 → 811, 687.5 → 688 → 687.
    const trailing = [999, 937, 874, 811, 749, 687, 624, 561, 499, 437, 374, 311, 249, 187, 124, 61];
    expect(createScheduler({ ...ddim, timestep_spacing: 'trailing' }, 16).timesteps).toEqual(trailing);
    expect(createScheduler(turbo, 16).timesteps).toEqual(trailing);
  });

  it('trailing spacing gives exactly n steps where np.arange would add one (N = 1000, n = 61)', () => {
    const s = createScheduler(turbo, 61);
    expect(s.timesteps.length).toBe(61);
    expect(s.timesteps[0]).toBe(999);
    expect(Math.min(...s.timesteps)).toBeGreaterThanOrEqual(0);
  });

  it('Karras sigmas: ρ = 7 ramp between the schedule ends, timesteps mapped back through log-sigma', () => {
    const plain = createScheduler({ ...turbo, timestep_spacing: 'linspace' }, 8);
    const karras = createScheduler({ ...turbo, timestep_spacing: 'linspace', use_karras_sigmas: true }, 8);
    expect(karras.sigmas![0]).toBe(plain.sigmas![0]);
    expect(karras.sigmas![7]).toBe(plain.sigmas![7]);
    const inv = (x: number) => x ** (1 / 7);
    const mid = (inv(plain.sigmas![0]!) + (3 / 7) * (inv(plain.sigmas![7]!) - inv(plain.sigmas![0]!))) ** 7;
    expect(karras.sigmas![3]).toBeCloseTo(mid, 4);
    expect(karras.timesteps[0]).toBe(999);
    expect(karras.timesteps[7]).toBe(0);
    for (let i = 1; i < 8; i++) expect(karras.timesteps[i]!).toBeLessThan(karras.timesteps[i - 1]!);
    // More steps at low noise than the plain linspace schedule.
    expect(karras.timesteps[4]!).toBeLessThan(plain.timesteps[4]!);
  });

  it('LCM picks timesteps from the 50-step origin schedule', () => {
    const lcm: SchedulerConfig = { ...turbo, _class_name: 'LCMScheduler', timestep_spacing: 'leading', original_inference_steps: 50, timestep_scaling: 10 };
    expect(createScheduler(lcm, 1).timesteps).toEqual([999]);
    expect(createScheduler(lcm, 4).timesteps).toEqual([999, 759, 499, 259]);
    expect(createScheduler(lcm, 10).timesteps).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    expect(() => createScheduler(lcm, 51)).toThrow(AppError);
    expect(() => createScheduler(lcm, 51)).toThrow(/at most 50 .*got 51/);
  });

  it('torch.linspace float32 matches the two-sided formula', () => {
    const x = torchLinspaceF32(0.0001, 0.02, 1000);
    expect(x[0]).toBe(f(0.0001));
    expect(x[999]).toBe(f(0.02));
    const step = f(f(f(0.02) - f(0.0001)) / 999);
    expect(x[10]).toBe(f(f(0.0001) + f(step * 10)));
    expect(x[990]).toBe(f(f(0.02) - f(step * 9)));
  });

  it('img2img start index is diffusers get_timesteps (floor); strength 0 → no step', () => {
    expect(getImg2ImgStartIndex(10, 0.5)).toBe(5);
    expect(getImg2ImgStartIndex(10, 0.55)).toBe(5);
    expect(getImg2ImgStartIndex(4, 0.3)).toBe(3);
    expect(getImg2ImgStartIndex(10, 0.3)).toBe(7); // int(10 × 0.3) = int(3.0000000000000004) = 3
    expect(getImg2ImgStartIndex(10, 1)).toBe(0);
    expect(getImg2ImgStartIndex(10, 0.05)).toBe(10);
    expect(getImg2ImgStartIndex(10, 0)).toBe(10);
    expect(getImg2ImgStartIndex(1, 0.99)).toBe(1);
    expect(() => getImg2ImgStartIndex(10, 1.5)).toThrow(/strength .*got 1.5/);
    expect(() => getImg2ImgStartIndex(0, 0.5)).toThrow(AppError);
  });

  it('addNoise then a step with the true noise as ε recovers x0 (every scheduler, img2img start)', () => {
    const x0 = new Float32Array(64).map((_, i) => Math.sin(i) * 0.5);
    const noise = createTorchGenerator(3).randn([64]);
    for (const cls of classes) {
      const s = createScheduler(configFor(cls), 8);
      const start = getImg2ImgStartIndex(8, 0.5);
      const noisy = s.addNoise(x0, noise, start);
      if (s.sigmas) {
        noisy.forEach((v, i) => expect(v).toBeCloseTo(x0[i]! + s.sigmas![start]! * noise[i]!, 5));
      }
      const { predOriginalSample } = s.step(noise, start, noisy, (n) => new Float32Array(n));
      const err = Math.max(...predOriginalSample.map((v, i) => Math.abs(v - x0[i]!)));
      // LCM's `denoised` mixes in c_skip·x (≈ 1e-5 at t = 499).
      expect(err, cls).toBeLessThan(cls === 'LCMScheduler' ? 1e-3 : 1e-4);
    }
  });

  it('a perfect ε predictor lands on x0 after the full loop (Euler, ancestral, DDIM, LCM)', () => {
    const x0 = new Float32Array(64).map((_, i) => Math.sin(i) * 0.5);
    for (const cls of classes) {
      const cfg = configFor(cls);
      const s = createScheduler(cfg, 4);
      const gen = createTorchGenerator(7);
      const randn = (n: number) => gen.randn([n]);
      let x: Float32Array = gen.randn([64]).map((v) => v * s.initNoiseSigma);
      for (let i = 0; i < s.timesteps.length; i++) {
        // ε consistent with x0 at this step, in each parametrisation (Euler: x = x0 + σε; DDPM: x = √ᾱ x0 + √(1-ᾱ) ε).
        const ac = alphaAt(cfg, s.timesteps[i]!);
        const eps = s.sigmas
          ? x.map((v, k) => (v - x0[k]!) / s.sigmas![i]!)
          : x.map((v, k) => (v - Math.sqrt(ac) * x0[k]!) / Math.sqrt(1 - ac));
        x = s.step(eps, i, x, randn).prevSample;
      }
      const err = Math.max(...x.map((v, k) => Math.abs(v - x0[k]!)));
      expect(err, cls).toBeLessThan(cls === 'LCMScheduler' ? 1e-3 : 1e-4);
    }
  });

  it('Euler ancestral draws noise on every step and LCM on every step but the last (diffusers order)', () => {
    for (const [cls, expected] of [['EulerAncestralDiscreteScheduler', [64, 64, 64, 64]], ['LCMScheduler', [64, 64, 64]], ['EulerDiscreteScheduler', []], ['DDIMScheduler', []]] as const) {
      const s = createScheduler(configFor(cls), 4);
      const calls: number[] = [];
      let x: Float32Array = new Float32Array(64).fill(0.1);
      for (let i = 0; i < 4; i++) {
        x = s.step(new Float32Array(64).fill(0.2), i, x, (n) => (calls.push(n), new Float32Array(n))).prevSample;
      }
      expect(calls, cls).toEqual(expected);
    }
  });

  it('scaleModelInput is x/√(σ²+1) for Euler and a copy for DDIM / LCM', () => {
    const x = new Float32Array([1, -2, 3]);
    const e = createScheduler(turbo, 2);
    const y = e.scaleModelInput(x, 0);
    expect(y[1]).toBeCloseTo(-2 / Math.sqrt(e.sigmas![0]! ** 2 + 1), 6);
    const d = createScheduler(configFor('DDIMScheduler'), 2).scaleModelInput(x, 0);
    expect(Array.from(d)).toEqual([1, -2, 3]);
    expect(d).not.toBe(x);
  });

  it('bad steps, step indices and lengths are AppErrors naming the value', () => {
    expect(() => createScheduler(turbo, 0)).toThrow(/steps .*got 0/);
    expect(() => createScheduler(turbo, 2.5)).toThrow(AppError);
    expect(() => createScheduler(turbo, 1001)).toThrow(/from 1 to 1000, got 1001/);
    const s = createScheduler(turbo, 2);
    const x = new Float32Array(4);
    expect(() => s.step(x, 2, x, (n) => new Float32Array(n))).toThrow(/step index .*0 to 1, got 2/);
    expect(() => s.step(new Float32Array(3), 0, x, (n) => new Float32Array(n))).toThrow(/3 vs 4/);
    expect(() => s.addNoise(x, x, -1)).toThrow(AppError);
    const ddim: SchedulerConfig = { ...turbo, _class_name: 'DDIMScheduler', timestep_spacing: 'leading', steps_offset: 500 };
    expect(() => createScheduler(ddim, 2)).toThrow(/timestep 1000 is outside 0…999/);
  });
});

function alphaAt(cfg: SchedulerConfig, t: number): number {
  const roots = torchLinspaceF32(Math.sqrt(cfg.beta_start), Math.sqrt(cfg.beta_end), cfg.num_train_timesteps);
  let acc = 1;
  for (let i = 0; i <= t; i++) acc *= f(1 - f(roots[i]! * roots[i]!));
  return f(acc);
}
