/**
 * Scheduler factory: picks the algorithm from the manifest's diffusers `_class_name`.
 */
import type { SchedulerConfig } from '../manifest';
import { createDdimScheduler } from './ddim';
import { createEulerAncestralDiscreteScheduler } from './euler-ancestral-discrete';
import { createEulerDiscreteScheduler } from './euler-discrete';
import { createLcmScheduler } from './lcm';
import type { Scheduler } from './types';

export type { Scheduler, StepResult } from './types';

export function createScheduler(config: SchedulerConfig, numInferenceSteps: number): Scheduler {
  if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
    throw new RangeError(`steps must be an integer ≥ 1, got ${numInferenceSteps}`);
  }
  switch (config._class_name) {
    case 'EulerDiscreteScheduler':
      return createEulerDiscreteScheduler(config, numInferenceSteps);
    case 'EulerAncestralDiscreteScheduler':
      return createEulerAncestralDiscreteScheduler(config, numInferenceSteps);
    case 'DDIMScheduler':
      return createDdimScheduler(config, numInferenceSteps);
    case 'LCMScheduler':
      return createLcmScheduler(config, numInferenceSteps);
  }
}

/**
 * img2img start index, as diffusers StableDiffusionImg2ImgPipeline.get_timesteps:
 * init_timestep = min(int(steps × strength), steps); t_start = max(steps − init_timestep, 0).
 * Returns `steps` when no step would run (strength small); callers decide how to treat that.
 */
export function getImg2ImgStartIndex(numSteps: number, strength: number): number {
  const init = Math.min(Math.floor(numSteps * strength), numSteps);
  return Math.max(numSteps - init, 0);
}
