/**
 * Shared setup for the pipeline tests (test/core/pipelines-*.test.ts): proof models per scheduler, a context over
 * onnxruntime-web in Node, and the schedulers used.
 */
import { afterAll } from 'vitest';
import type { SchedulerConfig } from '../../ui/core/manifest';
import type { PipelineContext, PipelineProgress } from '../../ui/core/pipelines';
import type { SessionSource } from '../../ui/core/session';
import { createOrtNodeSource, type OrtNodeSource, type OrtNodeSourceOptions } from '../helpers/ort-node-source';
import { createColourProofModel, loadClipTokenizer } from './proof-fixture';
import { SD_TURBO_SCHEDULER, type ProofModel, type ProofModelOptions } from './proof-model';

export const tokenizer = loadClipTokenizer();

export const EULER_LINSPACE: SchedulerConfig = { ...SD_TURBO_SCHEDULER, timestep_spacing: 'linspace', steps_offset: 0 };
export const EULER_ANCESTRAL: SchedulerConfig = { ...SD_TURBO_SCHEDULER, _class_name: 'EulerAncestralDiscreteScheduler' };
export const LCM: SchedulerConfig = {
  _class_name: 'LCMScheduler', num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear',
  prediction_type: 'epsilon', timestep_spacing: 'leading', steps_offset: 1, original_inference_steps: 50, set_alpha_to_one: true, clip_sample: false,
};
export const DDIM: SchedulerConfig = {
  _class_name: 'DDIMScheduler', num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear',
  prediction_type: 'epsilon', timestep_spacing: 'leading', steps_offset: 1, set_alpha_to_one: true, clip_sample: false,
};

const modelCache = new Map<string, ProofModel>();
/** A (cached) colour proof model. */
export function proof(opts: ProofModelOptions = {}): ProofModel {
  const key = JSON.stringify(opts);
  let m = modelCache.get(key);
  if (!m) modelCache.set(key, (m = createColourProofModel(opts)));
  return m;
}

const open: OrtNodeSource[] = [];
afterAll(async () => {
  for (const s of open.splice(0)) await s.closeAsync();
});

export interface TestRun {
  readonly ctx: PipelineContext;
  readonly src: OrtNodeSource;
  readonly progress: PipelineProgress[];
}

/** A pipeline context over a fresh ORT source for `pm`. */
export function runFor(pm: ProofModel, opts: OrtNodeSourceOptions & { signal?: AbortSignal; onProgress?: (p: PipelineProgress) => void } = {}): TestRun {
  const src = createOrtNodeSource(pm.models, opts);
  open.push(src);
  const progress: PipelineProgress[] = [];
  const ctx: PipelineContext = {
    manifest: pm.manifest,
    sessions: src,
    tokenizer,
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: (p) => {
      progress.push(p);
      opts.onProgress?.(p);
    },
  };
  return { ctx, src, progress };
}

/** A context whose SessionSource fails if touched (input validation must come first). */
export function untouchable(pm: ProofModel, sessions: SessionSource): PipelineContext {
  return { manifest: pm.manifest, sessions, tokenizer };
}

export const BASE = { prompt: 'a red cat', width: 64, height: 64, steps: 1, guidanceScale: 0, seed: 42 } as const;
