/**
 * Euler ancestral scheduler, as diffusers EulerAncestralDiscreteScheduler.step: an Euler step to sigma_down, then
 * fresh noise × sigma_up. Same timesteps, sigmas and init_noise_sigma as EulerDiscreteScheduler (Karras sigmas are
 * not offered by diffusers' ancestral scheduler and are ignored here). Noise is drawn on every step, also the last
 * where sigma_up = 0, exactly like diffusers, so a seed gives diffusers' sequence of draws.
 */
import type { SchedulerConfig } from '../manifest';
import { eulerAddNoise, eulerInitNoiseSigma, eulerPredictX0, eulerScaleModelInput, eulerSchedule } from './euler-discrete';
import { checkStepArgs } from './spacing';
import type { Scheduler } from './types';

const f = Math.fround;

/** Creates the Euler-ancestral scheduler; AppError INVALID_INPUT for a bad step count. */
export function createEulerAncestralDiscreteScheduler(config: SchedulerConfig, numInferenceSteps: number): Scheduler {
  const { timesteps, sigmas } = eulerSchedule({ ...config, use_karras_sigmas: false }, numInferenceSteps);
  return {
    timesteps,
    sigmas,
    initNoiseSigma: eulerInitNoiseSigma(config, sigmas),
    scaleModelInput(sample, stepIndex) {
      checkStepArgs(stepIndex, numInferenceSteps, sample, sample);
      return eulerScaleModelInput(sigmas[stepIndex]!, sample);
    },
    step(modelOutput, stepIndex, sample, randn) {
      checkStepArgs(stepIndex, numInferenceSteps, modelOutput, sample);
      const sigmaFrom = sigmas[stepIndex]!;
      const sigmaTo = sigmas[stepIndex + 1]!;
      const x0 = eulerPredictX0(config, sigmaFrom, modelOutput, sample);
      // sigma_up = √(σ_to² (σ_from² − σ_to²) / σ_from²); sigma_down = √(σ_to² − sigma_up²), in float32.
      const from2 = f(sigmaFrom * sigmaFrom);
      const to2 = f(sigmaTo * sigmaTo);
      const sigmaUp = f(Math.sqrt(f(f(to2 * f(from2 - to2)) / from2)));
      const sigmaDown = f(Math.sqrt(f(to2 - f(sigmaUp * sigmaUp))));
      const dt = f(sigmaDown - sigmaFrom);
      const noise = randn(sample.length);
      if (noise.length !== sample.length) checkStepArgs(stepIndex, numInferenceSteps, noise, sample);
      const prev = new Float32Array(sample.length);
      for (let i = 0; i < prev.length; i++) {
        const derivative = f(f(sample[i]! - x0[i]!) / sigmaFrom);
        const p = f(sample[i]! + f(derivative * dt));
        prev[i] = f(p + f(noise[i]! * sigmaUp));
      }
      return { prevSample: prev, predOriginalSample: x0 };
    },
    addNoise(original, noise, stepIndex) {
      checkStepArgs(stepIndex, numInferenceSteps, original, noise);
      return eulerAddNoise(sigmas[stepIndex]!, original, noise);
    },
  };
}
