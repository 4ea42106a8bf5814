/**
 * ComfyUI's wire protocol as data: the API-format prompt, the JSON the server answers with, the websocket events and
 * the binary preview frame. Shapes follow ComfyUI's server.py / execution.py / main.py / protocol.py (read, not
 * copied): every websocket JSON message is `{type, data}`; binary messages start with a big-endian uint32 event type.
 * Pure: no network, no DOM.
 */

/** One node of an API-format prompt: inputs are literals or links `[nodeId, outputIndex]`. */
export interface ApiNode {
  readonly class_type: string;
  readonly inputs: Record<string, unknown>;
  readonly _meta?: { readonly title: string };
}
export type ApiPrompt = Record<string, ApiNode>;
export type Link = readonly [string, number];

/** POST /prompt → 200 */
export interface PromptAccepted {
  readonly prompt_id: string;
  readonly number: number;
  readonly node_errors: Record<string, unknown>;
}

/** One validation error (execution.py validate_inputs / validate_prompt). */
export interface ComfyErrorItem {
  readonly type: string;
  readonly message: string;
  readonly details: string;
  readonly extra_info?: Record<string, unknown>;
}

/** POST /prompt → 400: `{error, node_errors: {id: {errors, dependent_outputs, class_type}}}`. */
export interface PromptRejected {
  readonly error: ComfyErrorItem | string;
  readonly node_errors: Record<string, { readonly errors: readonly ComfyErrorItem[]; readonly class_type: string; readonly dependent_outputs?: readonly string[] }>;
}

/** A queue entry as /queue and /history list it: [number, prompt_id, prompt, extra_data, outputs_to_execute]. */
export type QueueItem = readonly [number, string, ApiPrompt, Record<string, unknown>, readonly string[]];

export interface QueueInfo {
  readonly queue_running: readonly QueueItem[];
  readonly queue_pending: readonly QueueItem[];
}

export interface ImageRef {
  readonly filename: string;
  readonly subfolder: string;
  readonly type: 'output' | 'temp' | 'input';
}

export interface HistoryEntry {
  readonly prompt: QueueItem;
  readonly outputs: Record<string, { readonly images?: readonly ImageRef[] } & Record<string, unknown>>;
  readonly status: { readonly status_str: 'success' | 'error'; readonly completed: boolean; readonly messages: readonly (readonly [string, Record<string, unknown>])[] } | null;
  readonly meta?: Record<string, unknown>;
}

/** The websocket JSON events the client follows. */
export type ComfyEvent =
  | { type: 'status'; data: { status: { exec_info: { queue_remaining: number } }; sid?: string } }
  | { type: 'execution_start'; data: { prompt_id: string; timestamp?: number } }
  | { type: 'execution_cached'; data: { nodes: string[]; prompt_id: string; timestamp?: number } }
  | { type: 'executing'; data: { node: string | null; display_node?: string; prompt_id?: string } }
  | { type: 'progress'; data: { value: number; max: number; prompt_id?: string; node?: string } }
  | { type: 'executed'; data: { node: string; display_node?: string; output: Record<string, unknown> | null; prompt_id: string } }
  | { type: 'execution_success'; data: { prompt_id: string; timestamp?: number } }
  | { type: 'execution_error'; data: { prompt_id: string; node_id: string; node_type: string; exception_message: string; exception_type: string; traceback?: string[]; executed?: string[] } }
  | { type: 'execution_interrupted'; data: { prompt_id: string; node_id: string; node_type: string; executed?: string[] } }
  | { type: string; data: unknown };

/** protocol.py BinaryEventTypes. */
export const BinaryEventType = { PREVIEW_IMAGE: 1, UNENCODED_PREVIEW_IMAGE: 2, TEXT: 3, PREVIEW_IMAGE_WITH_METADATA: 4 } as const;
/** server.py send_image: the second uint32 of a PREVIEW_IMAGE frame. */
export const PreviewFormat = { JPEG: 1, PNG: 2 } as const;

export type BinaryFrame =
  | { kind: 'preview'; mime: 'image/jpeg' | 'image/png'; bytes: Uint8Array; metadata?: Record<string, unknown> }
  | { kind: 'text'; nodeId: string; text: string }
  | { kind: 'unknown'; event: number };

/**
 * Parses one binary websocket message. PREVIEW_IMAGE (1): `>I event, >I format (1 JPEG, 2 PNG), image bytes` — the
 * 8-byte header; PREVIEW_IMAGE_WITH_METADATA (4): `>I event, >I json length, json, image bytes`; TEXT (3):
 * `>I event, >I node id length, node id, utf-8 text`. Returns null for a frame too short to hold its header.
 */
export function parseBinaryFrame(buf: Uint8Array): BinaryFrame | null {
  if (buf.byteLength < 4) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const event = view.getUint32(0, false);
  if (event === BinaryEventType.PREVIEW_IMAGE) {
    if (buf.byteLength < 8) return null;
    const format = view.getUint32(4, false);
    return { kind: 'preview', mime: format === PreviewFormat.PNG ? 'image/png' : 'image/jpeg', bytes: buf.subarray(8) };
  }
  if (event === BinaryEventType.PREVIEW_IMAGE_WITH_METADATA) {
    if (buf.byteLength < 8) return null;
    const len = view.getUint32(4, false);
    if (8 + len > buf.byteLength) return null;
    let metadata: Record<string, unknown> = {};
    try {
      metadata = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + len))) as Record<string, unknown>;
    } catch {
      return null;
    }
    const mime = metadata.image_type === 'image/png' ? 'image/png' : 'image/jpeg';
    return { kind: 'preview', mime, bytes: buf.subarray(8 + len), metadata };
  }
  if (event === BinaryEventType.TEXT) {
    if (buf.byteLength < 8) return null;
    const len = view.getUint32(4, false);
    if (8 + len > buf.byteLength) return null;
    const dec = new TextDecoder();
    return { kind: 'text', nodeId: dec.decode(buf.subarray(8, 8 + len)), text: dec.decode(buf.subarray(8 + len)) };
  }
  return { kind: 'unknown', event };
}

/** Builds a PREVIEW_IMAGE frame exactly as server.py does (the stand-in server and tests use it). */
export function encodePreviewFrame(format: 'JPEG' | 'PNG', image: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + image.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, BinaryEventType.PREVIEW_IMAGE, false);
  view.setUint32(4, PreviewFormat[format], false);
  out.set(image, 8);
  return out;
}

/**
 * Prompts ahead of `promptId` in the server's queue: every running prompt plus every pending one with a lower number
 * (ComfyUI pops its heap by number). null when the prompt is neither pending nor running (finished or deleted).
 */
export function queuePosition(queue: QueueInfo, promptId: string): number | null {
  if (queue.queue_running.some((q) => q[1] === promptId)) return 0;
  const mine = queue.queue_pending.find((q) => q[1] === promptId);
  if (!mine) return null;
  const ahead = queue.queue_pending.filter((q) => q[1] !== promptId && q[0] < mine[0]).length;
  return queue.queue_running.length + ahead;
}

/** The options of a combo input in /object_info, in both the classic `[[...options]]` and the `["COMBO", {options}]` form. */
export function comboOptions(spec: unknown): string[] {
  if (!Array.isArray(spec)) return [];
  const first = spec[0];
  if (Array.isArray(first)) return first.filter((x): x is string => typeof x === 'string');
  if (first === 'COMBO' && spec[1] && typeof spec[1] === 'object') {
    const opts = (spec[1] as { options?: unknown }).options;
    return Array.isArray(opts) ? opts.filter((x): x is string => typeof x === 'string') : [];
  }
  return [];
}

/** PNG width/height from the IHDR chunk (no decode): results come back as PNG files from /view. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.byteLength < 24 || sig.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16, false), height: view.getUint32(20, false) };
}
