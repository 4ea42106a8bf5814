/**
 * The engine contract: what the app asks of an engine (local ORT in a worker today) and what it gets back.
 * Shared by ui/app (the caller) and ui/runtime (the implementations), so it lives below both.
 */
import type { ErrorData } from '../../protocol/errors';
import type { Mode } from '../../protocol/messages';
import type { RawManifest } from '../core/manifest';
import type { RgbaImage } from '../core/image';

export type { RgbaImage };

/** What the device can do, and which execution provider the engine chose (and why). */
export interface EngineCapabilities {
  readonly webgpu: boolean;
  readonly adapterName?: string;
  readonly shaderF16: boolean;
  readonly provider: 'webgpu' | 'wasm';
  /** One sentence: why this provider ("WebGPU adapter found", "navigator.gpu is missing in this window", …). */
  readonly reason: string;
  readonly crossOriginIsolated: boolean;
  /** Whether downloaded models survive closing the plugin. */
  readonly persistentStorage: boolean;
  /** Why they do not (inline mode: "Figma's plugin window has no storage"). */
  readonly storageReason?: string;
  /** wasm threads the engine will use (1 without cross-origin isolation). */
  readonly wasmThreads?: number;
}

/** `paused`: a download stopped part-way (Pause, Cancel, the plugin closed); its `.part`s wait for a resume. */
export type ModelStatus = 'not-downloaded' | 'downloading' | 'paused' | 'ready' | 'failed';

export interface DownloadProgress {
  readonly bytes: number;
  readonly total: number;
  /** Bytes per second (smoothed). */
  readonly rate: number;
  /** Seconds left; undefined while unknown. */
  readonly etaSeconds?: number;
  /** Present while a failed try waits to be retried: "retrying in 4 s (try 2 of 5): no data for 30 s". */
  readonly retry?: { readonly attempt: number; readonly of: number; readonly inSeconds: number; readonly reason: string };
}

/** The manifest fields the UI shows and takes defaults from (snake_case, exactly as in models/*.json). */
export type ModelSummary = Pick<
  RawManifest,
  'id' | 'name' | 'description' | 'licence' | 'dtype' | 'capabilities' | 'sizes' | 'defaults'
> & {
  /** Sum of all file sizes, bytes. */
  readonly totalBytes: number;
  /** Tokenizer max length incl. BOS/EOS (77 for CLIP); optional, 77 when absent. */
  readonly maxTokens?: number;
};

export interface ModelEntry extends ModelSummary {
  readonly status: ModelStatus;
  readonly progress?: DownloadProgress;
  readonly error?: ErrorData;
}

export interface StorageInfo {
  readonly usedBytes: number;
  readonly quotaBytes?: number;
}

/** One generation (one image). Images are already decoded/rasterised at working size (see ui/app/job.ts). */
export interface GenerateRequest {
  readonly modelId: string;
  readonly mode: Mode;
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly width: number;
  readonly height: number;
  readonly steps: number;
  readonly guidanceScale: number;
  readonly seed: number;
  /** Edit / Inpaint (and Wireframe with an init image): 0..1. */
  readonly strength?: number;
  /** Edit / Inpaint: the source at working size. */
  readonly image?: RgbaImage;
  /** Inpaint: white = change, feather already applied. */
  readonly mask?: RgbaImage;
  /** Wireframe: the control image (outlines drawn as lines). */
  readonly control?: RgbaImage;
  readonly controlScale?: number;
  readonly controlType?: string;
}

export interface GenerateProgress {
  readonly step: number;
  readonly total: number;
  readonly stage: 'text' | 'encode' | 'denoise' | 'decode';
  /** A cheap preview of the current latents (optional; not every step needs one). */
  readonly preview?: RgbaImage;
}

export interface GenerateResult {
  /** PNG bytes of the final image, width × height. */
  readonly png: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly seed: number;
  /** Prompt tokens beyond the tokenizer's limit that were ignored. */
  readonly droppedTokens: number;
}

/** The engine as the app uses it. Implemented by ui/runtime/engine-client.ts (local ORT in a worker). */
export interface EngineClient {
  capabilitiesAsync(): Promise<EngineCapabilities>;
  listModelsAsync(): Promise<readonly ModelEntry[]>;
  /** Resolves when the model is stored and verified; rejects with AppError (CANCELLED after Pause/Cancel). */
  downloadModelAsync(id: string, onProgress: (p: DownloadProgress) => void): Promise<void>;
  /** Stops a running download at once (the network too), keeping what was downloaded; status becomes `paused`. */
  pauseDownloadAsync?(id: string): Promise<void>;
  /** Like pause (what was downloaded is kept for a later resume); Delete removes it. */
  cancelDownloadAsync?(id: string): Promise<void>;
  deleteModelAsync(id: string): Promise<void>;
  storageAsync(): Promise<StorageInfo>;
  /** Rejects with AppError('CANCELLED') soon (within one step) after `signal` aborts. */
  generateAsync(
    request: GenerateRequest,
    opts: { onProgress?: (p: GenerateProgress) => void; signal?: AbortSignal },
  ): Promise<GenerateResult>;
  /** Content tokens of `text` for the model's tokenizer (no BOS/EOS). */
  tokenCountAsync(modelId: string, text: string): Promise<number>;
  /**
   * Optional: load a model's files from a local folder the user picked (inline mode, where nothing can be stored).
   * Files are matched by their manifest path (e.g. "unet/model.onnx") against `webkitRelativePath` or name.
   */
  loadModelFromFilesAsync?(id: string, files: readonly File[], onProgress: (p: DownloadProgress) => void): Promise<void>;
  /** Optional: add a model by manifest URL or manifest JSON (object); resolves with its list entry. */
  addCustomModelAsync?(input: string | object): Promise<ModelEntry>;
}
