/**
 * Pipeline options, context and results (see ui/core/pipelines/index.ts for the entry points).
 */
import type { ModelManifest } from '../manifest';
import type { SessionSource } from '../session';
import type { ClipTokenizer } from '../tokenizer/clip-tokenizer';
import type { RgbaImage } from '../image';
import type { Seed } from '../rng/torch-generator';

export type PipelineStage = 'text' | 'encode' | 'denoise' | 'decode';

/**
 * Progress: 'text' / 'encode' / 'decode' report step 0 then 1 of total 1 (start, done); 'denoise' reports
 * step k of total (the steps that actually run) after each step, with a cheap latent preview of the current x0
 * estimate at latent resolution (H/8 × W/8).
 */
export interface PipelineProgress {
  readonly step: number;
  readonly total: number;
  readonly stage: PipelineStage;
  readonly preview?: RgbaImage;
}

export interface PipelineContext {
  readonly manifest: ModelManifest;
  readonly sessions: SessionSource;
  readonly tokenizer: ClipTokenizer;
  /** Checked between stages and steps; aborting gives AppError CANCELLED. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: PipelineProgress) => void;
}

/** Options every task shares. Sizes in pixels (multiples of 8 and of the manifest's sizes.multiple). */
export interface BaseOptions {
  readonly prompt: string;
  /** Used only when classifier-free guidance is on (guidanceScale > 1, model without a guidance embedding). */
  readonly negativePrompt?: string;
  readonly width: number;
  readonly height: number;
  /** 1…150 (LCM: ≤ original_inference_steps). */
  readonly steps: number;
  /** 0…50; > 1 turns on classifier-free guidance (LCM: feeds the guidance embedding instead). */
  readonly guidanceScale: number;
  /**
   * 0…2^64−1 (a safe-integer number or a bigint); seeds torch-identical CPU noise
   * (`torch.Generator('cpu').manual_seed(seed)`, then diffusers' randn_tensor draws).
   */
  readonly seed: Seed;
}

export interface TextToImageOptions extends BaseOptions {}

export interface ImageToImageOptions extends BaseOptions {
  /** Source image; resized (bilinear) to width × height when its size differs. */
  readonly image: RgbaImage;
  /** 0…1: 0 returns the image unchanged (no model runs); any value > 0 runs at least one step. */
  readonly strength: number;
}

export interface InpaintOptions extends BaseOptions {
  readonly image: RgbaImage;
  /** Same size as `image`. White = change; soft (feathered) edges are kept for the final composite. */
  readonly mask: RgbaImage;
  /** 0…1, as img2img (1 = start from pure noise inside the mask). */
  readonly strength: number;
  /**
   * Pixel → latent mask: 'nearest' (default, diffusers' F.interpolate: the image equals diffusers' for the seed) or
   * 'max' (any masked pixel marks its latent cell: thin strokes always repaint; no longer diffusers' image).
   */
  readonly latentMask?: 'nearest' | 'max';
}

export interface ControlNetOptions extends BaseOptions {
  /** Conditioning image (e.g. white lines on black), resized to width × height when its size differs. */
  readonly control: RgbaImage;
  /** 0…4; 0 gives exactly the image the model makes without control. */
  readonly controlScale: number;
  /** Optional img2img start for the control run. */
  readonly image?: RgbaImage;
  /** With `image`: 0…1 (default 1 = ignore the image). */
  readonly strength?: number;
}

export interface PipelineResult {
  /** width × height, opaque (inpaint: the original's bytes outside the mask). */
  readonly image: RgbaImage;
  readonly seed: Seed;
  /** Prompt tokens dropped beyond the model's token window (tell the user). */
  readonly droppedTokens: number;
  /** Denoising steps that actually ran (0 when strength 0 returned the input). */
  readonly stepsRun: number;
}
