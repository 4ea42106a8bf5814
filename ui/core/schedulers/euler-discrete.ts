/**
 * Euler discrete scheduler (k-diffusion Algorithm 2), as diffusers EulerDiscreteScheduler with s_churn = 0:
 * linspace / leading / trailing spacing, optional Karras sigmas, epsilon or v prediction.
 * Timesteps are float32 values (e.g. 999, 977.11…); sigmas float32 with a final 0.
 */
import type { SchedulerConfig } from '../manifest';
import { makeAlphasCumprod } from './betas';
import type { Scheduler } from './types';

const f = Math.fround;

/** numpy.interp over integer xp = 0..n-1 (float64). */
function interpIndex(x: number, fp: Float32Array): number {
  if (x <= 0) return fp[0]!;
  const last = fp.length - 1;
  if (x >= last) return fp[last]!;
  const i = Math.floor(x);
  const w = x - i;
  return fp[i]! + (fp[i + 1]! - fp[i]!) * w;
}

/** diffusers _sigma_to_t: piecewise-linear interpolation in log-sigma over the training sigmas. */
function sigmaToT(sigma: number, logSigmas: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let low = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i]! >= 0) low = i;
  low = Math.min(low, logSigmas.length - 2);
  const lo = logSigmas[low]!;
  const hi = logSigmas[low + 1]!;
  const w = Math.min(1, Math.max(0, (lo - logSigma) / (lo - hi)));
  return (1 - w) * low + w * (low + 1);
}

/** Inference timesteps (float64 values before the float32 cast) for the three spacings, as diffusers set_timesteps. */
export function eulerTimesteps(config: SchedulerConfig, n: number): number[] {
  const N = config.num_train_timesteps;
  const offset = config.steps_offset ?? 0;
  if (config.timestep_spacing === 'linspace') {
    // np.linspace(0, N-1, n, dtype=float32)[::-1]
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(f(n === 1 ? 0 : ((N - 1) * i) / (n - 1)));
    return out.reverse();
  }
  if (config.timestep_spacing === 'leading') {
    const ratio = Math.floor(N / n);
    const out: number[] = [];
    for (let i = n - 1; i >= 0; i--) out.push(f(Math.round(i * ratio) + offset));
    return out;
  }
  // trailing: np.arange(N, 0, -N/n).round() - 1
  const ratio = N / n;
  const out: number[] = [];
  for (let t = N; t > 0 && out.length < n; t -= ratio) out.push(f(Math.round(t) - 1));
  return out;
}

/** Sigmas (length n + 1, last 0) and timesteps for Euler-family schedulers. */
export function eulerSchedule(config: SchedulerConfig, n: number): { timesteps: number[]; sigmas: Float32Array } {
  const ac = makeAlphasCumprod(config);
  // ((1 - ac) / ac) ** 0.5 in float32, indexed by training timestep.
  const trainSigmas = ac.map((a) => f(Math.sqrt(f(f(1 - a) / a))));
  let timesteps = eulerTimesteps(config, n);
  let sig = timesteps.map((t) => interpIndex(t, trainSigmas));
  if (config.use_karras_sigmas) {
    const rho = 7;
    const sMin = sig[sig.length - 1]!;
    const sMax = sig[0]!;
    const minInv = sMin ** (1 / rho);
    const maxInv = sMax ** (1 / rho);
    sig = sig.map((_, i) => {
      const ramp = n === 1 ? 0 : i / (n - 1);
      return (maxInv + ramp * (minInv - maxInv)) ** rho;
    });
    const logSigmas = trainSigmas.map((s) => f(Math.log(s)));
    timesteps = sig.map((s) => f(sigmaToT(s, logSigmas)));
  }
  const sigmas = new Float32Array(n + 1);
  sig.forEach((s, i) => (sigmas[i] = s));
  sigmas[n] = 0;
  return { timesteps, sigmas };
}

/** diffusers init_noise_sigma: max sigma for linspace/trailing spacing, else sqrt(max² + 1). */
export function eulerInitNoiseSigma(config: SchedulerConfig, sigmas: Float32Array): number {
  let max = 0;
  for (const s of sigmas) max = Math.max(max, s);
  return config.timestep_spacing === 'linspace' || config.timestep_spacing === 'trailing' ? max : f(Math.sqrt(f(max * max + 1)));
}

/** x0 prediction from the model output at sigma (float32 ops, as diffusers). */
export function eulerPredictX0(config: SchedulerConfig, sigma: number, modelOutput: Float32Array, sample: Float32Array): Float32Array {
  const x0 = new Float32Array(sample.length);
  if (config.prediction_type === 'epsilon') {
    for (let i = 0; i < x0.length; i++) x0[i] = f(sample[i]! - f(sigma * modelOutput[i]!));
  } else {
    const a = f(-sigma / f(Math.sqrt(f(f(sigma * sigma) + 1))));
    const b = f(f(sigma * sigma) + 1);
    for (let i = 0; i < x0.length; i++) x0[i] = f(f(modelOutput[i]! * a) + f(sample[i]! / b));
  }
  return x0;
}

export function createEulerDiscreteScheduler(config: SchedulerConfig, numInferenceSteps: number): Scheduler {
  const { timesteps, sigmas } = eulerSchedule(config, numInferenceSteps);
  return {
    timesteps,
    sigmas,
    initNoiseSigma: eulerInitNoiseSigma(config, sigmas),
    scaleModelInput(sample, stepIndex) {
      const sigma = sigmas[stepIndex]!;
      const d = f(Math.sqrt(f(f(sigma * sigma) + 1)));
      return sample.map((x) => f(x / d));
    },
    step(modelOutput, stepIndex, sample) {
      // As diffusers EulerDiscreteScheduler.step with gamma = 0 (sigma_hat = sigma).
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
      const sigma = sigmas[stepIndex]!;
      return original.map((x, i) => f(x + f(noise[i]! * sigma)));
    },
  };
}
