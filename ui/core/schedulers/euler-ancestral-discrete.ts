/**
 * Euler ancestral scheduler, as diffusers EulerAncestralDiscreteScheduler: Euler to sigma_down, then fresh noise
 * × sigma_up. Noise is drawn every step (also the last, where sigma_up = 0), like diffusers, so seeds line up.
 */
import type { SchedulerConfig } from '../manifest';
import { eulerInitNoiseSigma, eulerPredictX0, eulerSchedule } from './euler-discrete';
import type { Scheduler } from './types';

const f = Math.fround;

export function createEulerAncestralDiscreteScheduler(config: SchedulerConfig, numInferenceSteps: number): Scheduler {
  const { timesteps, sigmas } = eulerSchedule({ ...config, use_karras_sigmas: false }, numInferenceSteps);
  return {
    timesteps,
    sigmas,
    initNoiseSigma: eulerInitNoiseSigma(config, sigmas),
    scaleModelInput(sample, stepIndex) {
      const sigma = sigmas[stepIndex]!;
      const d = f(Math.sqrt(f(f(sigma * sigma) + 1)));
      return sample.map((x) => f(x / d));
    },
    step(modelOutput, stepIndex, sample, randn) {
      const sigmaFrom = sigmas[stepIndex]!;
      const sigmaTo = sigmas[stepIndex + 1]!;
      const x0 = eulerPredictX0(config, sigmaFrom, modelOutput, sample);
      const from2 = f(sigmaFrom * sigmaFrom);
      const to2 = f(sigmaTo * sigmaTo);
      const sigmaUp = f(Math.sqrt(f(f(to2 * f(from2 - to2)) / from2)));
      const sigmaDown = f(Math.sqrt(f(to2 - f(sigmaUp * sigmaUp))));
      const dt = f(sigmaDown - sigmaFrom);
      const noise = randn(sample.length);
      const prev = new Float32Array(sample.length);
      for (let i = 0; i < prev.length; i++) {
        const derivative = f(f(sample[i]! - x0[i]!) / sigmaFrom);
        const p = f(sample[i]! + f(derivative * dt));
        prev[i] = f(p + f(noise[i]! * sigmaUp));
      }
      return { prevSample: prev, predOriginalSample: x0 };
    },
    addNoise(original, noise, stepIndex) {
      const sigma = sigmas[stepIndex]!;
      return original.map((x, i) => f(x + f(noise[i]! * sigma)));
    },
  };
}
