/**
 * The engine contract: what the app asks of an engine (local ORT in a worker today) and what it gets back.
 * Shared by ui/app (the caller) and ui/runtime (the implementations), so it lives below both.
 */
import type { ErrorData } from '../../protocol/errors';
import type { DiffusersRecipe, Mode } from '../../protocol/messages';
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

/** Where a generation runs: this device (ORT in the plugin window) or a server the user configured. */
export type EngineKind = 'local' | 'comfyui' | 'swarmui';

/** A server the user pointed the plugin at (Models → Server). Nothing is sent anywhere until one is set. */
export interface ServerConfig {
  readonly kind: 'comfyui' | 'swarmui';
  /** Base URL, e.g. http://127.0.0.1:8188 (ComfyUI) or http://127.0.0.1:7801 (SwarmUI). */
  readonly url: string;
  /** Optional `Authorization: Bearer …` (a reverse proxy's or SwarmUI's token). */
  readonly token?: string;
}

/** What a server can do for each mode, in plain words (from ComfyUI /system_stats + /object_info). */
export interface ServerModeReadiness {
  readonly ready: boolean;
  /** Nodes and models the mode needs and the server lacks ("node ControlNetApplyAdvanced", "a ControlNet model"). */
  readonly missing: readonly string[];
}

export interface ServerHealth {
  readonly kind: 'comfyui' | 'swarmui';
  readonly url: string;
  /** "ComfyUI 0.3.64 on cuda:0 NVIDIA RTX 4090" */
  readonly summary: string;
  readonly queueRemaining?: number;
  /** Checkpoints (generation models) the server lists. */
  readonly checkpoints: readonly string[];
  readonly controlnets: readonly string[];
  readonly modes: Readonly<Record<Mode | 'style', ServerModeReadiness>>;
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
  /** Which engine runs it; absent = 'local'. Server models are listed beside the local ones. */
  readonly engine?: EngineKind;
  /** Server models: the server's own file name and the family that picks the workflow's defaults. */
  readonly server?: { readonly modelName: string; readonly family: 'sd15' | 'sdxl' | 'flux' };
};

export interface ModelEntry extends ModelSummary {
  readonly status: ModelStatus;
  /**
   * Files whose manifest pins no sha256: the sha256 recorded when each was first downloaded (from the host's advertised
   * hash, or trust on first use). A later, different file from the same URL is refused; shown so a user can compare.
   */
  readonly recordedHashes?: readonly { readonly path: string; readonly sha256: string; readonly source: 'host' | 'first-download' }[];
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
  /** Boost: the upscale factor (2 or 4); `image` is the source at its own size, the result is `upscale`× larger. */
  readonly upscale?: number;
  /**
   * Boost: after upscaling, refine with this diffusion model (img2img at `strength`, tiled at the model's size, with
   * this request's prompt/steps/guidance/seed) — Krita's "upscale + refine". Absent: upscale only.
   */
  readonly refineModelId?: string;
  /**
   * Generate / Edit, this device only: after the image, make it the layer's pixels at 2× — crop the working image to
   * `crop` (the part that shows in the layer, working px), resize it to `width`×`height` and refine it with this
   * request's model (img2img at `strength`, in model-sized tiles with blended seams). Progress of that pass is stage
   * 'refine' (step = tiles done).
   */
  readonly fullResolution?: {
    readonly width: number;
    readonly height: number;
    readonly crop: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
    readonly strength: number;
  };
  /** Inpaint on a server: grow the mask by this many working px before sampling (the feather is already in `mask`). */
  readonly maskGrow?: number;
  /** Style reference (server engines): the look to apply, and how strongly (0..1). */
  readonly styleImage?: RgbaImage;
  readonly styleStrength?: number;
}

export interface GenerateProgress {
  readonly step: number;
  readonly total: number;
  /** 'refine': the full-resolution pass (step = tiles done of total). */
  readonly stage: 'queued' | 'text' | 'encode' | 'denoise' | 'decode' | 'refine';
  /** A cheap preview of the current latents (optional; not every step needs one). */
  readonly preview?: RgbaImage;
  /** stage 'queued': prompts ahead of this one in the server's queue (0 = next). */
  readonly queuePosition?: number;
}

/** Which engine made a result, for the recipe: engine, server model names and hashes (where the server reports them). */
export interface ResultProvenance {
  readonly engine: EngineKind;
  /** Server model files the workflow used (checkpoint first, then ControlNet / style models). */
  readonly models: readonly string[];
  /** sha256 by model name, where the server reports one (safetensors `modelspec.hash_sha256`, SwarmUI metadata). */
  readonly modelHashes?: Readonly<Record<string, string>>;
  /** SwarmUI: the backend that served the image. */
  readonly backend?: string;
}

export interface GenerateResult {
  /** PNG bytes of the final image, width × height. */
  readonly png: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly seed: number;
  /** Prompt tokens beyond the tokenizer's limit that were ignored. */
  readonly droppedTokens: number;
  /** Absent = this device. */
  readonly provenance?: ResultProvenance;
  /** Local engine: how to reproduce the image with diffusers (goes into the layer's recipe). */
  readonly reproduce?: DiffusersRecipe;
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
  /**
   * Optional: point the engine at a server (null = none). Resolves with its health check (the server's models then
   * appear in listModelsAsync beside the local ones); rejects with AppError in plain words (down, CORS, token, …).
   */
  configureServerAsync?(config: ServerConfig | null): Promise<ServerHealth | null>;
}
