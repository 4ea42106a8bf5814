/**
 * The only way the pure core talks to models. Implemented by ui/runtime (onnxruntime-web) and by test fakes.
 */
import type { Tensor } from './tensor';

/** The model components a pipeline may use; keys of a manifest's `components`. */
export type ModelRole = 'text_encoder' | 'unet' | 'vae_decoder' | 'vae_encoder' | 'controlnet' | 'preview_decoder';

export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * Runs the model. Host tensors in, tensors out; an output may come back as a DeviceTensor when the runtime keeps
   * it on the GPU (then the caller owns it and must dispose it, or pass it to another run).
   */
  runAsync(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>>;
  releaseAsync(): Promise<void>;
}

/**
 * Gives pipelines their sessions. The runtime decides whether sessions stay warm ("fast") or are released between
 * stages ("low memory"): pipelines call `acquireAsync` before a stage and `doneWithAsync` after it.
 */
export interface SessionSource {
  acquireAsync(role: ModelRole): Promise<ModelSession>;
  doneWithAsync(role: ModelRole): Promise<void>;
}
