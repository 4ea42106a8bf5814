/**
 * The scheduler contract (diffusers' set_timesteps / scale_model_input / step / add_noise), as plain functions over
 * a schedule fixed at creation. Step index is explicit; no hidden step counter.
 */
export interface StepResult {
  readonly prevSample: Float32Array;
  readonly predOriginalSample: Float32Array;
}

export interface Scheduler {
  /** Values fed to the model as `timestep`, one per step (float for Euler, integer for DDIM/LCM). */
  readonly timesteps: readonly number[];
  /** Euler family: sigma per step plus a final 0. Absent for alpha-parametrised schedulers. */
  readonly sigmas?: Float32Array;
  /** Initial latents = noise × initNoiseSigma. */
  readonly initNoiseSigma: number;
  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array;
  /** One denoising step. `randn(n)` returns n standard normals (used by ancestral / LCM schedulers). */
  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, randn: (n: number) => Float32Array): StepResult;
  /** Noises a clean sample to the level of `timesteps[stepIndex]` (img2img start, inpaint blending). */
  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array;
}
