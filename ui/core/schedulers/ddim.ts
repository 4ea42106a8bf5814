/**
 * DDIM scheduler with eta = 0, as diffusers DDIMScheduler: integer timesteps (linspace / leading / trailing spacing,
 * steps_offset), epsilon or v prediction, x0 clipped to [-1, 1] when clip_sample (diffusers' default: true), final
 * ᾱ = 1 when set_alpha_to_one (default: true) else ᾱ_0. The previous timestep is `t − N // steps` for every spacing,
 * as in diffusers.
 */
import type { SchedulerConfig } from '../manifest';
import { addNoiseAlpha } from './alpha-noise';
import { makeAlphasCumprod } from './betas';
import { checkNumInferenceSteps, checkStepArgs, checkTimestepRange, spacedTimesteps } from './spacing';
import type { Scheduler } from './types';

const f = Math.fround;

/** Integer timesteps as diffusers DDIMScheduler.set_timesteps (np.round is half-to-even). */
export function ddimTimesteps(config: SchedulerConfig, n: number): number[] {
  checkNumInferenceSteps(config, n);
  const timesteps = spacedTimesteps(config, n, 'half-even');
  checkTimestepRange(config, timesteps);
  return timesteps;
}

/** Creates the DDIM scheduler; AppError INVALID_INPUT for a bad step count, INVALID_MANIFEST for timesteps out of range. */
export function createDdimScheduler(config: SchedulerConfig, numInferenceSteps: number): Scheduler {
  const ac = makeAlphasCumprod(config);
  const finalAlpha = config.set_alpha_to_one === false ? ac[0]! : 1;
  const timesteps = ddimTimesteps(config, numInferenceSteps);
  const stride = Math.floor(config.num_train_timesteps / numInferenceSteps);
  const clip = config.clip_sample ?? true;
  return {
    timesteps,
    initNoiseSigma: 1,
    scaleModelInput(sample, stepIndex) {
      checkStepArgs(stepIndex, numInferenceSteps, sample, sample);
      return sample.slice();
    },
    step(modelOutput, stepIndex, sample) {
      // As diffusers DDIMScheduler.step with eta = 0 (std_dev_t = 0, no noise drawn).
      checkStepArgs(stepIndex, numInferenceSteps, modelOutput, sample);
      const t = timesteps[stepIndex]!;
      const prevT = t - stride;
      const aT = ac[t]!;
      const aPrev = prevT >= 0 ? ac[prevT]! : finalAlpha;
      const sqA = f(Math.sqrt(aT));
      const sqB = f(Math.sqrt(f(1 - aT)));
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
      const sqPrev = f(Math.sqrt(aPrev));
      const dirScale = f(Math.sqrt(f(1 - aPrev)));
      const prev = x0.map((v, i) => f(f(sqPrev * v) + f(dirScale * eps[i]!)));
      return { prevSample: prev, predOriginalSample: x0 };
    },
    addNoise(original, noise, stepIndex) {
      checkStepArgs(stepIndex, numInferenceSteps, original, noise);
      return addNoiseAlpha(ac[timesteps[stepIndex]!]!, original, noise);
    },
  };
}
