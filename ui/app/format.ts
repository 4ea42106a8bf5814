/** Plain-words formatting for the UI (pure). */
import type { ErrorCode, ErrorData } from '../../protocol/errors';
import type { ModelSummary } from '../contracts/engine';

/** 1536 → "1.5 KB", 2.1e9 → "2.1 GB" (decimal units, as file managers show). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? Math.round(v) : v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** Seconds → "4 s", "2 min 5 s", "1 h 3 min"; undefined/NaN → "—". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    const r = s % 60;
    return r ? `${m} min ${r} s` : `${m} min`;
  }
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

/**
 * A rough time for one image on the CPU (onnxruntime-web wasm, SIMD, `threads` threads), for SD-1.5-class models.
 * Measured orders of magnitude, not a promise: one UNet evaluation at 512² ≈ 25 s single-threaded, the VAE decoder
 * ≈ 40 s, the text encoder ≈ 2 s; classifier-free guidance (guidance > 1) doubles UNet evaluations; time scales with
 * the pixel count.
 */
export function estimateWasmSeconds(opts: { steps: number; guidance: number; width: number; height: number; threads?: number }): number {
  const UNET_EVAL_512 = 25;
  const VAE_DECODE_512 = 40;
  const TEXT_ENCODER = 2;
  const area = (opts.width * opts.height) / (512 * 512);
  const evals = Math.max(1, opts.steps) * (opts.guidance > 1 ? 2 : 1);
  const threads = Math.max(1, opts.threads ?? 1);
  return (TEXT_ENCODER + (evals * UNET_EVAL_512 + VAE_DECODE_512) * area) / Math.min(threads, 4) ** 0.8;
}

/** Parameters of an SD-1.5-class pipeline (UNet 860 M + VAE 84 M + text encoder 123 M), what the timings above are for. */
export const SD15_PARAMS = 1.07e9;

/**
 * "about 3 minutes per 512×512 image on this CPU" for a model's default settings. The SD-1.5 timings are scaled by
 * the model's size (parameters ≈ bytes / bytes per weight), so a small model is not promised SD-1.5's minutes; a time
 * measured on this device (`measuredSeconds`) wins over any estimate.
 */
export function wasmEstimateLine(
  model: Pick<ModelSummary, 'defaults' | 'name'> & { totalBytes?: number; dtype?: string } | null, threads = 1, measuredSeconds?: number,
): string {
  const steps = model?.defaults.steps ?? 20;
  const guidance = model?.defaults.guidance_scale ?? 7.5;
  const params = model?.totalBytes ? model.totalBytes / (model.dtype === 'float16' ? 2 : 4) : SD15_PARAMS;
  const scale = Math.min(4, params / SD15_PARAMS);
  const secs = measuredSeconds ?? estimateWasmSeconds({ steps, guidance, width: 512, height: 512, threads }) * scale;
  if (secs < 1) return `On the CPU, ${model ? model.name : 'this model'} takes under a second per image${measuredSeconds !== undefined ? ' (measured here)' : ''}.`;
  const minutes = secs / 60;
  const amount = minutes < 1.5 ? `about ${secs < 10 ? Math.max(1, Math.round(secs)) : Math.round(secs / 10) * 10} seconds` : `about ${Math.round(minutes)} minutes`;
  const who = model ? `${model.name} at ${steps} step${steps === 1 ? '' : 's'}` : `${steps} steps`;
  return `On the CPU this is ${secs > 30 ? 'slow' : 'usable'}: ${amount} per 512×512 image (${who}${measuredSeconds !== undefined ? ', measured here' : ''}).`;
}

/** "Hero image, mountain cabin at dusk" → at most `max` characters with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}

/** PNG bytes → data: URL (works under Figma's `default-src data:` CSP, unlike blob: URLs). */
export function pngDataUrl(png: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < png.length; i += 0x8000) bin += String.fromCharCode(...png.subarray(i, i + 0x8000));
  return `data:image/png;base64,${btoa(bin)}`;
}

/** What to do next, per error code, for errors that arrive without a hint of their own. */
const DEFAULT_HINTS: Readonly<Partial<Record<ErrorCode, string>>> = {
  INTERNAL: 'Try again. If it keeps happening, close and reopen the plugin.',
  INVALID_MESSAGE: 'Close and reopen the plugin.',
  IMAGE_DECODE_FAILED: 'Select the layer again, or flatten it, and retry.',
  MODEL_FETCH_FAILED: 'Check your connection and try the download again.',
  MODEL_NOT_READY: 'Open Models and download the model first.',
  INTEGRITY_MISMATCH: 'The download was damaged. Delete the model in Models and download it again.',
  QUOTA_EXCEEDED: 'Free some space: delete a model you no longer use in Models.',
  STORAGE_UNAVAILABLE: 'Models will be downloaded for this session only.',
  WEBGPU_UNAVAILABLE: 'The plugin can still run on the CPU, only more slowly.',
  DEVICE_LOST: 'The GPU was reset. Try again — the model will be loaded again.',
  MODEL_MISMATCH: 'This model’s files do not match its description. Delete it and download it again.',
  BAD_MODEL_OUTPUT: 'The GPU may not handle this model’s 16-bit maths. Try a 32-bit model, or the CPU.',
  NETWORK_NOT_ALLOWED: 'This host is not in the plugin’s allowed network list.',
  SOURCE_CHANGED: 'The layer changed or was deleted while generating. Select it again and retry.',
  DOCUMENT_WRITE_FAILED: 'Check that the layer is not locked and that you can edit this file, then retry.',
  INVALID_SELECTION: 'Change the selection, or pick another mode.',
};

/** The error with a hint: its own, or the default for its code. */
export function withHint(e: ErrorData): ErrorData {
  if (e.hint) return e;
  const hint = DEFAULT_HINTS[e.code];
  return hint ? { ...e, hint } : e;
}
