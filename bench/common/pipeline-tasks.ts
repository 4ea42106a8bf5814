/**
 * The four pipeline runs the overhead figure measures (text-to-image, image-to-image, inpaint, ControlNet), run
 * through the real ui/core pipelines with a timed SessionSource. Pure: shared by the Node bench and the page.
 */
import type { ClipTokenizer } from '../../ui/core/tokenizer/clip-tokenizer';
import type { ModelManifest } from '../../ui/core/manifest';
import type { RgbaImage } from '../../ui/core/image';
import { controlNetAsync, imageToImageAsync, inpaintAsync, textToImageAsync } from '../../ui/core/pipelines';
import type { PipelineContext, PipelineProgress, PipelineResult } from '../../ui/core/pipelines';
import { sum, type OrtRunHook, type TimedSource } from './timed-source';

export type TaskName = 'text-to-image' | 'image-to-image' | 'inpaint' | 'controlnet';
export const TASKS: readonly TaskName[] = ['text-to-image', 'image-to-image', 'inpaint', 'controlnet'];

export interface TaskImages {
  readonly width: number;
  readonly height: number;
  readonly photo: RgbaImage;
  /** White = repaint. */
  readonly mask: RgbaImage;
  /** White lines on black. */
  readonly control: RgbaImage;
}

export interface TaskTiming {
  readonly task: TaskName;
  readonly steps: number;
  readonly wallMs: number;
  /** Σ SessionSource runAsync (the runtime's session wrapper, including its tensor conversion). */
  readonly modelOuterMs: number;
  /** Σ ort InferenceSession.run (the model alone); null when no ORT hook was installed. */
  readonly modelInnerMs: number | null;
  readonly runsByRole: Readonly<Record<string, number>>;
  /** Σ runAsync ms per role. */
  readonly msByRole: Readonly<Record<string, number>>;
  /** Call → first onProgress callback. */
  readonly firstCallbackMs: number | null;
  /** Call → first onProgress carrying a preview image. */
  readonly firstPreviewMs: number | null;
  /** Σ model runs that had finished when the first preview arrived. */
  readonly modelMsBeforePreview: number | null;
  readonly result: PipelineResult;
}

export interface TaskContext {
  readonly tokenizer: ClipTokenizer;
  readonly base: { manifest: ModelManifest; timed: TimedSource };
  readonly control: { manifest: ModelManifest; timed: TimedSource };
  readonly ortHook: OrtRunHook | null;
  /** Called on every onProgress (memory sampling, GPU read counting). */
  readonly onProgress?: (p: PipelineProgress) => void;
}

const PROMPT = 'a cosy wooden cabin in a snowy forest at golden hour, detailed, warm light';

/** Step counts: txt2img is the SD-Turbo single step; the others run 2-step schedules (1 or 2 UNet steps). */
export const TASK_STEPS: Readonly<Record<TaskName, number>> = {
  'text-to-image': 1,
  'image-to-image': 2,
  inpaint: 2,
  controlnet: 2,
};

export async function runTaskAsync(task: TaskName, tc: TaskContext, images: TaskImages, seed = 42): Promise<TaskTiming> {
  const which = task === 'controlnet' ? tc.control : tc.base;
  which.timed.reset();
  tc.ortHook?.reset();
  let firstCallbackMs: number | null = null;
  let firstPreviewMs: number | null = null;
  let modelMsBeforePreview: number | null = null;
  const t0 = performance.now();
  const ctx: PipelineContext = {
    manifest: which.manifest,
    sessions: which.timed.source,
    tokenizer: tc.tokenizer,
    onProgress: (p) => {
      const now = performance.now() - t0;
      if (firstCallbackMs === null) firstCallbackMs = now;
      if (p.preview && firstPreviewMs === null) {
        firstPreviewMs = now;
        modelMsBeforePreview = sum(which.timed.runs.map((r) => r.ms));
      }
      tc.onProgress?.(p);
    },
  };
  const base = { prompt: PROMPT, width: images.width, height: images.height, steps: TASK_STEPS[task], guidanceScale: 0, seed };
  let result: PipelineResult;
  switch (task) {
    case 'text-to-image':
      result = await textToImageAsync(ctx, base);
      break;
    case 'image-to-image':
      result = await imageToImageAsync(ctx, { ...base, image: images.photo, strength: 0.5 });
      break;
    case 'inpaint':
      result = await inpaintAsync(ctx, { ...base, image: images.photo, mask: images.mask, strength: 1 });
      break;
    case 'controlnet':
      result = await controlNetAsync(ctx, { ...base, control: images.control, controlScale: 1 });
      break;
  }
  const wallMs = performance.now() - t0;
  const runsByRole: Record<string, number> = {};
  const msByRole: Record<string, number> = {};
  for (const r of which.timed.runs) {
    runsByRole[r.role] = (runsByRole[r.role] ?? 0) + 1;
    msByRole[r.role] = Math.round((msByRole[r.role] ?? 0) + r.ms);
  }
  return {
    task,
    steps: result.stepsRun,
    wallMs,
    modelOuterMs: sum(which.timed.runs.map((r) => r.ms)),
    modelInnerMs: tc.ortHook ? sum(tc.ortHook.runs) : null,
    runsByRole,
    msByRole,
    firstCallbackMs,
    firstPreviewMs,
    modelMsBeforePreview,
    result,
  };
}
