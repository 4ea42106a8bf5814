/**
 * Scheduler factory: picks the algorithm from the manifest's diffusers `_class_name`. Missing optional keys take
 * diffusers' defaults (steps_offset 0, use_karras_sigmas false, DDIM clip_sample true / LCM false,
 * set_alpha_to_one true, original_inference_steps 50, timestep_scaling 10).
 */
import { AppError } from '../../../protocol/errors';
import type { SchedulerConfig } from '../manifest';
import { createDdimScheduler } from './ddim';
import { createEulerAncestralDiscreteScheduler } from './euler-ancestral-discrete';
import { createEulerDiscreteScheduler } from './euler-discrete';
import { createLcmScheduler } from './lcm';
import type { Scheduler } from './types';

export type { Scheduler, StepResult } from './types';

/**
 * The scheduler for `numInferenceSteps` steps of the manifest's config (as diffusers `set_timesteps(n)`).
 * Throws AppError INVALID_INPUT for a step count outside 1…num_train_timesteps (LCM: 1…original_inference_steps).
 */
export function createScheduler(config: SchedulerConfig, numInferenceSteps: number): Scheduler {
  switch (config._class_name) {
    case 'EulerDiscreteScheduler':
      return createEulerDiscreteScheduler(config, numInferenceSteps);
    case 'EulerAncestralDiscreteScheduler':
      return createEulerAncestralDiscreteScheduler(config, numInferenceSteps);
    case 'DDIMScheduler':
      return createDdimScheduler(config, numInferenceSteps);
    case 'LCMScheduler':
      return createLcmScheduler(config, numInferenceSteps);
    default:
      throw new AppError('INVALID_MANIFEST', `Unknown scheduler "${String((config as { _class_name?: unknown })._class_name)}"; expected EulerDiscreteScheduler, EulerAncestralDiscreteScheduler, DDIMScheduler or LCMScheduler.`);
  }
}

/**
 * img2img start index, as diffusers StableDiffusionImg2ImgPipeline.get_timesteps:
 * init_timestep = min(int(steps × strength), steps); t_start = max(steps − init_timestep, 0).
 * Denoising runs timesteps[t_start…]. Returns `numSteps` (no step at all) when steps × strength < 1, e.g. strength 0;
 * the pipeline decides how to treat that (it enforces at least one step).
 * Throws AppError INVALID_INPUT for steps < 1 or strength outside [0, 1].
 */
export function getImg2ImgStartIndex(numSteps: number, strength: number): number {
  if (!Number.isInteger(numSteps) || numSteps < 1) {
    throw new AppError('INVALID_INPUT', `steps must be a whole number ≥ 1, got ${numSteps}.`);
  }
  if (!(strength >= 0 && strength <= 1)) {
    throw new AppError('INVALID_INPUT', `strength must be between 0 and 1, got ${strength}.`);
  }
  const init = Math.min(Math.floor(numSteps * strength), numSteps);
  return Math.max(numSteps - init, 0);
}
