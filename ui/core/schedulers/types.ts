/**
 * The scheduler contract (diffusers' set_timesteps / scale_model_input / step / add_noise), as plain functions over
 * a schedule fixed at creation. The step index is explicit; there is no hidden step counter, so a Scheduler value
 * can be shared and reused. All samples are flat float32 arrays (e.g. latents [1,4,H/8,W/8] NCHW, row-major).
 */
export interface StepResult {
  /** x_{t-1}: the sample for the next step, same length as the input sample (float32). */
  readonly prevSample: Float32Array;
  /** The model's estimate of the clean sample x0 (LCM: the boundary-scaled `denoised`, what its pipeline decodes). */
  readonly predOriginalSample: Float32Array;
}

export interface Scheduler {
  /** Values fed to the model as `timestep`, one per step, highest first (float32 values for Euler, e.g. 977.11;
   * integers for DDIM / LCM). */
  readonly timesteps: readonly number[];
  /** Euler family: sigma per step plus a final 0 (length steps + 1, float32). Absent for DDIM / LCM. */
  readonly sigmas?: Float32Array;
  /** Initial latents = standard normal noise × initNoiseSigma. */
  readonly initNoiseSigma: number;
  /** The model input for step `stepIndex` (Euler: sample / √(σ²+1); identity for DDIM / LCM). Returns a new array. */
  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array;
  /**
   * One denoising step from timesteps[stepIndex]. `randn(n)` must return n standard normals; it is called at most
   * once per step, exactly where diffusers draws `randn_tensor(shape, generator)` (Euler ancestral: every step;
   * LCM: every step but the last), so `(n) => generator.randn([n])` reproduces diffusers' noise for a seed.
   */
  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, randn: (n: number) => Float32Array): StepResult;
  /** Noises a clean sample to the level of `timesteps[stepIndex]` (img2img start, inpaint blending): Euler
   * `x0 + σ·noise`; DDIM / LCM `√ᾱ·x0 + √(1-ᾱ)·noise`. */
  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array;
}
