import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { ASSETS } from '../helpers/paths';
import { createScheduler, getImg2ImgStartIndex } from '../../ui/core/schedulers';
import { torchLinspaceF32 } from '../../ui/core/schedulers/betas';
import { createTorchGenerator } from '../../ui/core/rng/torch-generator';
import type { SchedulerConfig } from '../../ui/core/manifest';

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

  it('SD-Turbo: trailing spacing, 1 step = timestep 999, sigma 14.6146, init sigma = max sigma', () => {
    const s = createScheduler(turbo, 1);
    expect(s.timesteps).toEqual([999]);
    expect(s.sigmas![0]).toBeCloseTo(14.6146, 3);
    expect(s.sigmas![1]).toBe(0);
    expect(s.initNoiseSigma).toBeCloseTo(14.6146, 3);
    expect(createScheduler(turbo, 4).timesteps).toEqual([999, 749, 499, 249]);
  });

  it('leading spacing honours steps_offset (DDIM [801, 601, 401, 201, 1])', () => {
    const ddim: SchedulerConfig = { ...turbo, _class_name: 'DDIMScheduler', timestep_spacing: 'leading', steps_offset: 1 };
    expect(createScheduler(ddim, 5).timesteps).toEqual([801, 601, 401, 201, 1]);
    const euler = createScheduler({ ...turbo, timestep_spacing: 'leading', steps_offset: 1 }, 4);
    expect(euler.timesteps).toEqual([751, 501, 251, 1]);
    expect(euler.initNoiseSigma).toBeCloseTo(Math.sqrt(euler.sigmas![0]! ** 2 + 1), 4);
  });

  it('LCM picks timesteps from the 50-step origin schedule', () => {
    const lcm: SchedulerConfig = { ...turbo, _class_name: 'LCMScheduler', timestep_spacing: 'leading', original_inference_steps: 50, timestep_scaling: 10 };
    expect(createScheduler(lcm, 1).timesteps).toEqual([999]);
    expect(createScheduler(lcm, 4).timesteps).toEqual([999, 759, 499, 259]);
    expect(() => createScheduler(lcm, 51)).toThrow(/at most 50/);
  });

  it('torch.linspace float32 matches the two-sided formula', () => {
    const x = torchLinspaceF32(0.0001, 0.02, 1000);
    expect(x[0]).toBe(f(0.0001));
    expect(x[999]).toBe(f(0.02));
  });

  it('img2img start index is diffusers get_timesteps (floor)', () => {
    expect(getImg2ImgStartIndex(10, 0.5)).toBe(5);
    expect(getImg2ImgStartIndex(10, 0.55)).toBe(5);
    expect(getImg2ImgStartIndex(4, 0.3)).toBe(3);
    expect(getImg2ImgStartIndex(10, 1)).toBe(0);
    expect(getImg2ImgStartIndex(10, 0.05)).toBe(10);
    expect(getImg2ImgStartIndex(10, 0)).toBe(10);
  });

  it('a perfect epsilon predictor lands on x0 for every scheduler (Euler, ancestral, DDIM, LCM)', () => {
    const x0 = new Float32Array(64).map((_, i) => Math.sin(i) * 0.5);
    const classes = ['EulerDiscreteScheduler', 'EulerAncestralDiscreteScheduler', 'DDIMScheduler', 'LCMScheduler'] as const;
    for (const cls of classes) {
      const cfg: SchedulerConfig = { ...turbo, _class_name: cls, timestep_spacing: cls.startsWith('Euler') ? 'trailing' : 'leading', clip_sample: false };
      const s = createScheduler(cfg, 4);
      const gen = createTorchGenerator(7);
      let x: Float32Array = gen.randn([64]).map((v) => v * s.initNoiseSigma);
      for (let i = 0; i < s.timesteps.length; i++) {
        const xin = s.scaleModelInput(x, i);
        // epsilon consistent with x0 at this step, in each parametrisation.
        const eps = s.sigmas
          ? x.map((v, k) => (v - x0[k]!) / s.sigmas![i]!)
          : (() => {
              const ac = alphaAt(cfg, s.timesteps[i]!);
              return xin.map((v, k) => (v - Math.sqrt(ac) * x0[k]!) / Math.sqrt(1 - ac));
            })();
        x = s.step(Float32Array.from(eps), i, xin === x ? x : x, (n) => gen.randn([n])).prevSample;
      }
      const err = Math.max(...x.map((v, k) => Math.abs(v - x0[k]!)));
      // LCM's boundary scaling mixes in c_skip·x (tiny at t ≥ 259): within 1e-3.
      expect(err, cls).toBeLessThan(cls === 'LCMScheduler' ? 1e-3 : 1e-4);
    }
  });
});

function alphaAt(cfg: SchedulerConfig, t: number): number {
  const roots = torchLinspaceF32(Math.sqrt(cfg.beta_start), Math.sqrt(cfg.beta_end), cfg.num_train_timesteps);
  let acc = 1;
  for (let i = 0; i <= t; i++) acc *= f(1 - f(roots[i]! * roots[i]!));
  return f(acc);
}
