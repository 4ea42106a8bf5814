/**
 * Latent Consistency Model scheduler, as diffusers LCMScheduler: timesteps picked from the original
 * `original_inference_steps`-step distillation schedule; each step predicts x0, applies the consistency boundary
 * scalings (sigma_data = 0.5, timestep_scaling), and, except at the last step, re-noises to the next timestep with
 * fresh noise. `predOriginalSample` is the boundary-scaled `denoised` (what diffusers' LCM pipeline decodes).
 * clip_sample defaults to false and set_alpha_to_one to true, as in diffusers.
 */
import { AppError } from '../../../protocol/errors';
import type { SchedulerConfig } from '../manifest';
import { addNoiseAlpha } from './alpha-noise';
import { makeAlphasCumprod } from './betas';
import { checkNumInferenceSteps, checkStepArgs, checkTimestepRange } from './spacing';
import type { Scheduler } from './types';

const f = Math.fround;

/**
 * As diffusers LCMScheduler.set_timesteps(n, strength): origin = (arange(1, int(S·strength)+1) · (N // S) − 1)[::-1];
 * indices = floor(np.linspace(0, len(origin), n, endpoint=False)). E.g. S = 50: 1 step [999], 4 steps
 * [999, 759, 499, 259]; strength 0.5, 4 steps [499, 379, 259, 139] (LatentConsistencyModelImg2ImgPipeline rebuilds
 * the schedule from the strength and runs all of it). diffusers refuses n > int(S·strength); so do we (INVALID_INPUT).
 */
export function lcmTimesteps(config: SchedulerConfig, n: number, strength = 1): number[] {
  checkNumInferenceSteps(config, n);
  const original = config.original_inference_steps ?? 50;
  if (original > config.num_train_timesteps) {
    throw new AppError('INVALID_MANIFEST', `original_inference_steps must be at most num_train_timesteps (${config.num_train_timesteps}), got ${original}.`);
  }
  if (n > original) {
    throw new AppError('INVALID_INPUT', `steps must be at most ${original} for an LCM model, got ${n}.`);
  }
  if (!(strength > 0 && strength <= 1)) throw new AppError('INVALID_INPUT', `strength must be above 0 and at most 1, got ${strength}.`);
  const k = Math.floor(config.num_train_timesteps / original);
  const count = Math.floor(original * strength);
  if (count < n) {
    throw new AppError('INVALID_INPUT', `At strength ${strength} an LCM model can take at most ${count} steps, got ${n}.`, { hint: 'Use fewer steps or a higher strength.' });
  }
  const origin: number[] = [];
  for (let i = count; i >= 1; i--) origin.push(i * k - 1);
  const out: number[] = [];
  // np.linspace(0, L, n, endpoint=False) = i·(L/n) in float64, then floor.
  const step = origin.length / n;
  for (let i = 0; i < n; i++) out.push(origin[Math.floor(i * step)]!);
  checkTimestepRange(config, out);
  return out;
}

/** The most LCM steps diffusers' img2img accepts at `strength` (int(original_inference_steps · strength)). */
export const lcmMaxStepsAt = (config: SchedulerConfig, strength: number): number => Math.floor((config.original_inference_steps ?? 50) * strength);

/** Creates the LCM scheduler; AppError INVALID_INPUT when steps exceed original_inference_steps. */
export function createLcmScheduler(config: SchedulerConfig, numInferenceSteps: number, strength = 1): Scheduler {
  const ac = makeAlphasCumprod(config);
  const finalAlpha = config.set_alpha_to_one === false ? ac[0]! : 1;
  const timesteps = lcmTimesteps(config, numInferenceSteps, strength);
  const scaling = config.timestep_scaling ?? 10;
  const clip = config.clip_sample ?? false;
  return {
    timesteps,
    initNoiseSigma: 1,
    scaleModelInput(sample, stepIndex) {
      checkStepArgs(stepIndex, numInferenceSteps, sample, sample);
      return sample.slice();
    },
    step(modelOutput, stepIndex, sample, randn) {
      checkStepArgs(stepIndex, numInferenceSteps, modelOutput, sample);
      const t = timesteps[stepIndex]!;
      const last = stepIndex === timesteps.length - 1;
      const prevT = last ? t : timesteps[stepIndex + 1]!;
      const aT = ac[t]!;
      const aPrev = prevT >= 0 ? ac[prevT]! : finalAlpha;
      // get_scalings_for_boundary_condition_discrete: c_skip = σd²/((s·t)² + σd²), c_out = s·t/√((s·t)² + σd²).
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
        let x0 = config.prediction_type === 'epsilon' ? f(f(x - f(sqB * m)) / sqA) : f(f(sqA * x) - f(sqB * m));
        if (clip) x0 = Math.min(1, Math.max(-1, x0));
        denoised[i] = f(f(cOut * x0) + f(cSkip * x));
      }
      if (last) return { prevSample: denoised, predOriginalSample: denoised };
      const noise = randn(sample.length);
      if (noise.length !== sample.length) checkStepArgs(stepIndex, numInferenceSteps, noise, sample);
      return { prevSample: addNoiseAlpha(aPrev, denoised, noise), predOriginalSample: denoised };
    },
    addNoise(original, noise, stepIndex) {
      checkStepArgs(stepIndex, numInferenceSteps, original, noise);
      return addNoiseAlpha(ac[timesteps[stepIndex]!]!, original, noise);
    },
  };
}
