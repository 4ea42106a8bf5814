/**
 * Latent Consistency Model scheduler, as diffusers LCMScheduler: timesteps picked from the original 50-step
 * schedule; each step predicts x0, applies the consistency boundary scalings, and (except at the last step) re-noises
 * to the next timestep with fresh noise. `predOriginalSample` is the boundary-scaled `denoised` value.
 */
import type { SchedulerConfig } from '../manifest';
import { addNoiseAlpha } from './alpha-noise';
import { makeAlphasCumprod } from './betas';
import type { Scheduler } from './types';

const f = Math.fround;

export function lcmTimesteps(config: SchedulerConfig, n: number): number[] {
  const original = config.original_inference_steps ?? 50;
  const k = Math.floor(config.num_train_timesteps / original);
  const origin: number[] = [];
  for (let i = original; i >= 1; i--) origin.push(i * k - 1);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(origin[Math.floor((i * origin.length) / n)]!);
  return out;
}

export function createLcmScheduler(config: SchedulerConfig, numInferenceSteps: number): Scheduler {
  if (numInferenceSteps > (config.original_inference_steps ?? 50)) {
    throw new RangeError(`LCM runs at most ${config.original_inference_steps ?? 50} steps, got ${numInferenceSteps}`);
  }
  const ac = makeAlphasCumprod(config);
  const finalAlpha = config.set_alpha_to_one === false ? ac[0]! : 1;
  const timesteps = lcmTimesteps(config, numInferenceSteps);
  const scaling = config.timestep_scaling ?? 10;
  return {
    timesteps,
    initNoiseSigma: 1,
    scaleModelInput: (sample) => sample,
    step(modelOutput, stepIndex, sample, randn) {
      const t = timesteps[stepIndex]!;
      const last = stepIndex === timesteps.length - 1;
      const prevT = last ? t : timesteps[stepIndex + 1]!;
      const aT = ac[t]!;
      const aPrev = prevT >= 0 ? ac[prevT]! : finalAlpha;
      // get_scalings_for_boundary_condition_discrete, sigma_data = 0.5
      const st = f(t * scaling);
      const st2 = f(f(st * st) + 0.25);
      const cSkip = f(0.25 / st2);
      const cOut = f(st / f(Math.sqrt(st2)));
      const sqA = f(Math.sqrt(aT));
      const sqB = f(Math.sqrt(f(1 - aT)));
      const denoised = new Float32Array(sample.length);
      for (let i = 0; i < sample.length; i++) {
        const x = sample[i]!;
        const m = modelOutput[i]!;
        const x0 = config.prediction_type === 'epsilon' ? f(f(x - f(sqB * m)) / sqA) : f(f(sqA * x) - f(sqB * m));
        denoised[i] = f(f(cOut * x0) + f(cSkip * x));
      }
      if (last) return { prevSample: denoised, predOriginalSample: denoised };
      const noise = randn(sample.length);
      return { prevSample: addNoiseAlpha(aPrev, denoised, noise), predOriginalSample: denoised };
    },
    addNoise: (original, noise, stepIndex) => addNoiseAlpha(ac[timesteps[stepIndex]!]!, original, noise),
  };
}
