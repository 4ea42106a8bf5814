/**
 * DDIM scheduler (eta = 0), as diffusers DDIMScheduler: integer timesteps (leading/linspace/trailing spacing, steps
 * offset), epsilon or v prediction, optional clipping of x0 to [-1, 1], final ᾱ = 1 when set_alpha_to_one.
 */
import type { SchedulerConfig } from '../manifest';
import { addNoiseAlpha } from './alpha-noise';
import { makeAlphasCumprod } from './betas';
import type { Scheduler } from './types';

const f = Math.fround;

/** Integer timesteps as diffusers DDIMScheduler.set_timesteps. */
export function ddimTimesteps(config: SchedulerConfig, n: number): number[] {
  const N = config.num_train_timesteps;
  const offset = config.steps_offset ?? 0;
  if (config.timestep_spacing === 'linspace') {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(Math.round(n === 1 ? 0 : ((N - 1) * i) / (n - 1)));
    return out.reverse();
  }
  if (config.timestep_spacing === 'leading') {
    const ratio = Math.floor(N / n);
    const out: number[] = [];
    for (let i = n - 1; i >= 0; i--) out.push(i * ratio + offset);
    return out;
  }
  const ratio = N / n;
  const out: number[] = [];
  for (let t = N; t > 0 && out.length < n; t -= ratio) out.push(Math.round(t) - 1);
  return out;
}

export function createDdimScheduler(config: SchedulerConfig, numInferenceSteps: number): Scheduler {
  const ac = makeAlphasCumprod(config);
  const finalAlpha = config.set_alpha_to_one === false ? ac[0]! : 1;
  const timesteps = ddimTimesteps(config, numInferenceSteps);
  const stride = Math.floor(config.num_train_timesteps / numInferenceSteps);
  const clip = config.clip_sample ?? true;
  return {
    timesteps,
    initNoiseSigma: 1,
    scaleModelInput: (sample) => sample,
    step(modelOutput, stepIndex, sample) {
      // As diffusers DDIMScheduler.step with eta = 0.
      const t = timesteps[stepIndex]!;
      const prevT = t - stride;
      const aT = ac[t]!;
      const aPrev = prevT >= 0 ? ac[prevT]! : finalAlpha;
      const bT = f(1 - aT);
      const sqA = f(Math.sqrt(aT));
      const sqB = f(Math.sqrt(bT));
      const x0 = new Float32Array(sample.length);
      const eps = new Float32Array(sample.length);
      for (let i = 0; i < sample.length; i++) {
        const x = sample[i]!;
        const m = modelOutput[i]!;
        if (config.prediction_type === 'epsilon') {
          x0[i] = f(f(x - f(sqB * m)) / sqA);
          eps[i] = m;
        } else {
          x0[i] = f(f(sqA * x) - f(sqB * m));
          eps[i] = f(f(sqA * m) + f(sqB * x));
        }
        if (clip) x0[i] = Math.min(1, Math.max(-1, x0[i]!));
      }
      const dirScale = f(Math.sqrt(f(1 - aPrev)));
      const sqPrev = f(Math.sqrt(aPrev));
      const prev = x0.map((v, i) => f(f(sqPrev * v) + f(dirScale * eps[i]!)));
      return { prevSample: prev, predOriginalSample: x0 };
    },
    addNoise: (original, noise, stepIndex) => addNoiseAlpha(ac[timesteps[stepIndex]!]!, original, noise),
  };
}
