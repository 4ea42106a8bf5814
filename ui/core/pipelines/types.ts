import type { ModelManifest } from '../manifest';
import type { SessionSource } from '../session';
import type { ClipTokenizer } from '../tokenizer/clip-tokenizer';
import type { RgbaImage } from '../image';

export interface PipelineProgress {
  readonly step: number;
  readonly total: number;
  readonly stage: 'text' | 'encode' | 'denoise' | 'decode';
  /** A cheap preview of the current x0 estimate (latent → RGB), during 'denoise'. */
  readonly preview?: RgbaImage;
}

export interface PipelineContext {
  readonly manifest: ModelManifest;
  readonly sessions: SessionSource;
  readonly tokenizer: ClipTokenizer;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: PipelineProgress) => void;
}

/** Options every task shares. Sizes in pixels; `seed` seeds torch-identical CPU noise. */
export interface BaseOptions {
  readonly prompt: string;
  readonly negativePrompt?: string;
  readonly width: number;
  readonly height: number;
  readonly steps: number;
  readonly guidanceScale: number;
  readonly seed: number;
}

export interface TextToImageOptions extends BaseOptions {}
export interface ImageToImageOptions extends BaseOptions {
  readonly image: RgbaImage;
  readonly strength: number;
}
export interface InpaintOptions extends BaseOptions {
  readonly image: RgbaImage;
  /** White = change. Soft (feathered) edges are kept for the final composite. */
  readonly mask: RgbaImage;
  readonly strength: number;
}
export interface ControlNetOptions extends BaseOptions {
  /** Conditioning image (e.g. white lines on black), at width × height. */
  readonly control: RgbaImage;
  readonly controlScale: number;
  /** Optional img2img start for the control run. */
  readonly image?: RgbaImage;
  readonly strength?: number;
}

export interface PipelineResult {
  readonly image: RgbaImage;
  readonly seed: number;
  /** Prompt tokens dropped beyond the model's 77-token window (tell the user). */
  readonly droppedTokens: number;
  /** Denoising steps that actually ran. */
  readonly stepsRun: number;
}
