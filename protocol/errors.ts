/**
 * The one error type of the product. Every failure a user can see has a `code` and a plain-words message that
 * names the bad value and what is allowed. Converts to and from plain data so it can cross postMessage.
 */

export type ErrorCode =
  | 'INVALID_INPUT' // a user-supplied value is out of range (prompt, steps, strength, size, …)
  | 'INVALID_SELECTION' // the Figma selection cannot be used for the requested mode
  | 'INVALID_MESSAGE' // a message between plugin and UI failed validation
  | 'INVALID_MANIFEST' // a model manifest failed validation
  | 'IMAGE_DECODE_FAILED'
  | 'MODEL_FETCH_FAILED'
  | 'MODEL_NOT_READY'
  | 'INTEGRITY_MISMATCH'
  | 'QUOTA_EXCEEDED'
  | 'STORAGE_UNAVAILABLE'
  | 'WEBGPU_UNAVAILABLE'
  | 'DEVICE_LOST'
  | 'MODEL_MISMATCH' // a loaded session's inputs/outputs differ from the manifest
  | 'BAD_MODEL_OUTPUT' // all-zero or non-finite output (e.g. fp16 on an adapter without shader-f16)
  | 'NETWORK_NOT_ALLOWED' // a host not listed in manifest.json networkAccess
  | 'CANCELLED'
  | 'SOURCE_CHANGED' // the source node was deleted or changed while generating
  | 'DOCUMENT_WRITE_FAILED'
  | 'SERVER_UNREACHABLE' // a configured ComfyUI / SwarmUI server cannot be reached or refuses the plugin (CORS, token)
  | 'SERVER_ERROR' // the server answered with an error (validation, a node failed, busy)
  | 'INTERNAL';

export const ERROR_CODES: readonly ErrorCode[] = [
  'INVALID_INPUT', 'INVALID_SELECTION', 'INVALID_MESSAGE', 'INVALID_MANIFEST', 'IMAGE_DECODE_FAILED',
  'MODEL_FETCH_FAILED', 'MODEL_NOT_READY', 'INTEGRITY_MISMATCH', 'QUOTA_EXCEEDED', 'STORAGE_UNAVAILABLE',
  'WEBGPU_UNAVAILABLE', 'DEVICE_LOST', 'MODEL_MISMATCH', 'BAD_MODEL_OUTPUT', 'NETWORK_NOT_ALLOWED', 'CANCELLED',
  'SOURCE_CHANGED', 'DOCUMENT_WRITE_FAILED', 'SERVER_UNREACHABLE', 'SERVER_ERROR', 'INTERNAL',
];

/** Plain-data form of an AppError, safe for postMessage and pluginData. */
export interface ErrorData {
  readonly code: ErrorCode;
  readonly message: string;
  /** What the user can do next, in plain words. */
  readonly hint?: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    if (options.hint !== undefined) this.hint = options.hint;
    if (options.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }

  toData(): ErrorData {
    return this.hint === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, hint: this.hint };
  }

  static fromData(data: ErrorData): AppError {
    return new AppError(data.code, data.message, data.hint === undefined ? {} : { hint: data.hint });
  }
}

/** Converts anything thrown into an AppError; unknown errors become INTERNAL with their message, never a stack. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err && typeof err === 'object' && (err as { name?: string }).name === 'AbortError') {
    return new AppError('CANCELLED', 'Cancelled.');
  }
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : 'Something went wrong.';
  return new AppError('INTERNAL', message || 'Something went wrong.', { cause: err });
}

export const isCancelled = (err: unknown): boolean => err instanceof AppError && err.code === 'CANCELLED';
