/**
 * Euler discrete scheduler (Karras et al. 2022, Algorithm 2), as diffusers EulerDiscreteScheduler with s_churn = 0:
 * linspace / leading / trailing spacing, optional Karras sigmas, epsilon or v prediction, final sigma 0.
 * Timesteps are float32 values (e.g. 999, 977.11…); sigmas float32 with a final 0. Arithmetic follows torch's
 * float32 ops step by step (Math.fround), the schedule follows numpy's float64 maths, so diffusers' golden sums
 * reproduce.
 */
import type { SchedulerConfig } from '../manifest';
import { makeAlphasCumprod } from './betas';
import { checkNumInferenceSteps, checkStepArgs, numpyLinspace, spacedTimesteps } from './spacing';
import type { Scheduler } from './types';

const f = Math.fround;

/** np.interp(x, arange(len(fp)), fp) in float64. */
function interpIndex(x: number, fp: Float32Array): number {
  if (x <= 0) return fp[0]!;
  const last = fp.length - 1;
  if (x >= last) return fp[last]!;
  const i = Math.floor(x);
  const w = x - i;
  return fp[i]! + (fp[i + 1]! - fp[i]!) * w;
}

/** As diffusers EulerDiscreteScheduler._sigma_to_t: piecewise-linear in log-sigma over the training sigmas. */
function sigmaToT(sigma: number, logSigmas: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  // np.cumsum(dists >= 0).argmax(): the last index whose log-sigma is ≤ logSigma (0 when none).
  let low = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i]! >= 0) low = i;
  low = Math.min(low, logSigmas.length - 2);
  const lo = logSigmas[low]!;
  const hi = logSigmas[low + 1]!;
  // (low - high) is float32 - float32 in numpy, hence the fround.
  const w = Math.min(1, Math.max(0, (lo - logSigma) / f(lo - hi)));
  return (1 - w) * low + w * (low + 1);
}

/**
 * Timesteps and sigmas (length n + 1, last 0) for the Euler family, as diffusers set_timesteps:
 * sigmas_train = √((1-ᾱ)/ᾱ) (float32), interpolated at the timesteps in float64, then cast to float32.
 */
export function eulerSchedule(config: SchedulerConfig, n: number): { timesteps: number[]; sigmas: Float32Array } {
  checkNumInferenceSteps(config, n);
  const ac = makeAlphasCumprod(config);
  const trainSigmas = ac.map((a) => f(Math.sqrt(f(f(1 - a) / a))));
  let timesteps = spacedTimesteps(config, n, 'none').map(f);
  let sig = timesteps.map((t) => interpIndex(t, trainSigmas));
  if (config.use_karras_sigmas) {
    // As diffusers _convert_to_karras (rho = 7), then timesteps back through _sigma_to_t.
    const rho = 7;
    const minInv = sig[sig.length - 1]! ** (1 / rho);
    const maxInv = sig[0]! ** (1 / rho);
    const ramp = numpyLinspace(0, 1, n);
    sig = ramp.map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
    const logSigmas = trainSigmas.map((s) => Math.log(s));
    timesteps = sig.map((s) => f(sigmaToT(s, logSigmas)));
  }
  const sigmas = new Float32Array(n + 1);
  sigmas.set(sig);
  return { timesteps, sigmas };
}

/** As diffusers init_noise_sigma: max sigma for "linspace" and "trailing" spacing, else √(max² + 1) (float32). */
export function eulerInitNoiseSigma(config: SchedulerConfig, sigmas: Float32Array): number {
  let max = 0;
  for (const s of sigmas) max = Math.max(max, s);
  if (config.timestep_spacing === 'linspace' || config.timestep_spacing === 'trailing') return max;
  return f(Math.sqrt(f(f(max * max) + 1)));
}

/** As diffusers EulerDiscreteScheduler.scale_model_input: sample / √(σ² + 1). */
export function eulerScaleModelInput(sigma: number, sample: Float32Array): Float32Array {
  const d = f(Math.sqrt(f(f(sigma * sigma) + 1)));
  return sample.map((x) => x / d);
}

/** x0 from the model output at sigma: epsilon `x - σ·ε`; v `v·(-σ/√(σ²+1)) + x/(σ²+1)` (float32 ops). */
export function eulerPredictX0(config: SchedulerConfig, sigma: number, modelOutput: Float32Array, sample: Float32Array): Float32Array {
  const x0 = new Float32Array(sample.length);
  if (config.prediction_type === 'epsilon') {
    for (let i = 0; i < x0.length; i++) x0[i] = f(sample[i]! - f(sigma * modelOutput[i]!));
  } else {
    const s2p1 = f(f(sigma * sigma) + 1);
    const a = f(-sigma / f(Math.sqrt(s2p1)));
    for (let i = 0; i < x0.length; i++) x0[i] = f(f(modelOutput[i]! * a) + f(sample[i]! / s2p1));
  }
  return x0;
}

/** Euler `x0 + σ·noise` (diffusers EulerDiscreteScheduler.add_noise). */
export function eulerAddNoise(sigma: number, original: Float32Array, noise: Float32Array): Float32Array {
  return original.map((x, i) => f(x + f(noise[i]! * sigma)));
}

/** Creates the Euler scheduler for `numInferenceSteps` steps; AppError INVALID_INPUT for a bad step count. */
export function createEulerDiscreteScheduler(config: SchedulerConfig, numInferenceSteps: number): Scheduler {
  const { timesteps, sigmas } = eulerSchedule(config, numInferenceSteps);
  return {
    timesteps,
    sigmas,
    initNoiseSigma: eulerInitNoiseSigma(config, sigmas),
    scaleModelInput(sample, stepIndex) {
      checkStepArgs(stepIndex, numInferenceSteps, sample, sample);
      return eulerScaleModelInput(sigmas[stepIndex]!, sample);
    },
    step(modelOutput, stepIndex, sample) {
      // As diffusers EulerDiscreteScheduler.step with gamma = 0 (sigma_hat = sigma).
      checkStepArgs(stepIndex, numInferenceSteps, modelOutput, sample);
      const sigma = sigmas[stepIndex]!;
      const dt = f(sigmas[stepIndex + 1]! - sigma);
      const x0 = eulerPredictX0(config, sigma, modelOutput, sample);
      const prev = new Float32Array(sample.length);
      for (let i = 0; i < prev.length; i++) {
        const derivative = f(f(sample[i]! - x0[i]!) / sigma);
        prev[i] = f(sample[i]! + f(derivative * dt));
      }
      return { prevSample: prev, predOriginalSample: x0 };
    },
    addNoise(original, noise, stepIndex) {
      checkStepArgs(stepIndex, numInferenceSteps, original, noise);
      return eulerAddNoise(sigmas[stepIndex]!, original, noise);
    },
  };
}
