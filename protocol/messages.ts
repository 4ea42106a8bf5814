/**
 * The one message protocol between plugin/ (Figma main thread) and ui/ (the iframe).
 * Discriminated unions on `type`; every message carries a `requestId` (replies echo the request's id).
 * Only plain data crosses: primitives, plain objects/arrays and Uint8Array (PNG bytes). One image per message.
 * Every receipt goes through `parseUiToPlugin` / `parsePluginToUi`; unknown or malformed messages are dropped
 * with a warning by the receiver (see `receive`).
 */
import { ERROR_CODES, type ErrorData } from './errors';
import * as v from './validate';

/** 'boost': super-resolution of the selected image (×2/×4), no diffusion model, no prompt. */
export const MODES = ['generate', 'edit', 'inpaint', 'wireframe', 'boost'] as const;
export type Mode = (typeof MODES)[number];

/** Largest PNG we accept across the boundary (a 4096² RGBA PNG worst case is ~64 MiB). */
export const MAX_PNG_BYTES = 80 * 1024 * 1024;
/** The style reference is read at most this many px a side (CLIP vision encoders look at 224–384 px). */
export const STYLE_MAX_SIDE = 512;
/** Figma's createImage cap, per side. */
export const FIGMA_MAX_IMAGE_SIDE = 4096;

const id = v.string({ minLength: 1, maxLength: 200 });
/** Longest requestId the protocol carries. */
export const REQUEST_ID_MAX = 100;
const requestId = v.string({ minLength: 1, maxLength: REQUEST_ID_MAX });
const png = v.uint8Array({ minBytes: 8, maxBytes: MAX_PNG_BYTES });
const side = v.number({ integer: true, min: 1, max: 16384 });
const finite = v.number();

export const errorData = v.object({
  code: v.oneOf(ERROR_CODES),
  message: v.string({ maxLength: 2000 }),
  hint: v.optional(v.string({ maxLength: 2000 })),
});

/**
 * How to reproduce a local image with diffusers (issue #11; built by ui/core/pipelines/reproduce.ts): the diffusers
 * pipeline class, the model repo and pinned revision, the scheduler config, the exact seed (decimal, 0…2^64−1) for
 * torch.Generator('cpu').manual_seed, the VAE-posterior and latent-mask conventions; `exact` says whether that
 * diffusers run gives the same image, `departures` names every known difference.
 */
export const diffusersRecipe = v.object({
  pipeline: v.string({ minLength: 1, maxLength: 80, pattern: /^[A-Za-z0-9]+$/, patternName: 'a diffusers class name' }),
  source: v.string({ maxLength: 300 }),
  revision: v.optional(v.string({ maxLength: 64, pattern: /^[0-9a-f]+$/, patternName: 'a commit hash' })),
  scheduler: v.refine(v.record(v.plainData()), (r) => {
    const keys = Object.keys(r);
    if (keys.length > 32) return 'at most 32 scheduler keys';
    for (const k of keys) if (k.length > 64 || !['string', 'number', 'boolean'].includes(typeof r[k])) return `scheduler.${k.slice(0, 64)} must be a string, number or boolean`;
    return null;
  }),
  seed: v.refine(v.string({ pattern: /^(0|[1-9][0-9]{0,19})$/, patternName: 'a decimal seed' }), (s) => (BigInt(s) < 2n ** 64n ? null : 'a seed below 2^64')),
  generator: v.literal('cpu'),
  encoder: v.optional(v.oneOf(['diffusers', 'posterior-mean', 'in-graph-sample'] as const)),
  latentMask: v.optional(v.oneOf(['nearest', 'max'] as const)),
  exact: v.boolean(),
  departures: v.array(v.string({ maxLength: 300 }), { maxLength: 8 }),
});
export type DiffusersRecipe = v.Infer<typeof diffusersRecipe>;

/** The generation recipe stored on each result layer (pluginData key `recipe`, JSON, < 100 kB). */
export const recipe = v.object({
  version: v.literal(1),
  mode: v.oneOf(MODES),
  prompt: v.string({ maxLength: 4000 }),
  negativePrompt: v.string({ maxLength: 4000 }),
  seed: v.number({ integer: true, min: 0, max: 2 ** 53 - 1 }),
  steps: v.number({ integer: true, min: 1, max: 150 }),
  guidance: v.number({ min: 0, max: 50 }),
  strength: v.optional(v.number({ min: 0, max: 1 })),
  width: side,
  height: side,
  modelId: v.string({ minLength: 1, maxLength: 200 }),
  modelSha256: v.optional(v.string({ maxLength: 64 })),
  controlType: v.optional(v.string({ maxLength: 40 })),
  controlScale: v.optional(v.number({ min: 0, max: 4 })),
  maskFeather: v.optional(v.number({ min: 0, max: 512 })),
  sourceNodeIds: v.array(id, { maxLength: 500 }),
  maskNodeIds: v.optional(v.array(id, { maxLength: 500 })),
  outlineNodeIds: v.optional(v.array(id, { maxLength: 5000 })),
  batchIndex: v.optional(v.number({ integer: true, min: 0, max: 63 })),
  batchCount: v.optional(v.number({ integer: true, min: 1, max: 64 })),
  /** Boost: the upscale factor. */
  upscale: v.optional(v.number({ integer: true, min: 2, max: 4 })),
  /**
   * Generate / Edit made at full resolution: the image's pixel size (the layer at 2×, ≤ 4096 px) and the refine pass's
   * img2img strength. `width`/`height` stay the size the model ran at, so a re-run runs the same way.
   */
  fullResolution: v.optional(v.object({ width: side, height: side, strength: v.number({ min: 0, max: 1 }) })),
  /** Which engine made it (absent = this device); server model file names and sha256 where the server reports them. */
  engine: v.optional(v.oneOf(['local', 'comfyui', 'swarmui'] as const)),
  serverModels: v.optional(v.array(v.string({ maxLength: 300 }), { maxLength: 8 })),
  serverModelHashes: v.optional(v.record(v.string({ maxLength: 64 }))),
  /** SwarmUI: the backend that served the image. */
  backend: v.optional(v.string({ maxLength: 200 })),
  /** Local engine: how to reproduce this image with diffusers. */
  diffusers: v.optional(diffusersRecipe),
  /** Style reference (server engines): the layer whose look was applied (read again by id on Re-run) and how strongly. */
  styleNodeId: v.optional(id),
  styleStrength: v.optional(v.number({ min: 0, max: 1 })),
  pluginVersion: v.string({ maxLength: 40 }),
  createdAt: v.string({ maxLength: 40 }),
});
export type Recipe = v.Infer<typeof recipe>;

const nodeSummary = v.object({
  id,
  name: v.string({ maxLength: 1000 }),
  type: v.string({ maxLength: 40 }),
  width: finite,
  height: finite,
});
export type NodeSummary = v.Infer<typeof nodeSummary>;

/** What the plugin understood of the current selection. */
export const selectionInfo = v.object({
  proposedMode: v.oneOf(MODES),
  /** Modes that can run with this selection. */
  availableModes: v.array(v.oneOf(MODES)),
  nodes: v.array(nodeSummary, { maxLength: 10000 }),
  /** One line for the UI: "Frame 'Hero' 1440×900". */
  hint: v.string({ maxLength: 500 }),
  /** Why the selection cannot be used as it is, in plain words (locked, hidden, too large…). */
  problem: v.optional(v.string({ maxLength: 500 })),
  /** The layer a job would read (the image under the mask shapes, …), so the UI can show the real run size. */
  source: v.optional(nodeSummary),
});
export type SelectionInfo = v.Infer<typeof selectionInfo>;

/** How a job's working canvas maps back to the Figma node: working px → node-local px. */
export const placement = v.object({
  /** The node the result belongs to (absent for Generate with nothing selected). */
  sourceNodeId: v.optional(id),
  /** Absolute bounds (canvas coordinates) the result should cover. */
  x: finite,
  y: finite,
  width: v.number({ min: 0.01 }),
  height: v.number({ min: 0.01 }),
  /** Where the node's content sits inside the working canvas, in working px (for crop/pad mapping). */
  content: v.object({ x: finite, y: finite, width: v.number({ min: 0 }), height: v.number({ min: 0 }) }),
});
export type Placement = v.Infer<typeof placement>;

/** One vector path in working-canvas pixels (SVG path data after the node's absolute transform). */
export const pathData = v.object({
  d: v.string({ maxLength: 2_000_000 }),
  windingRule: v.oneOf(['NONZERO', 'EVENODD'] as const),
  /** 'fill' paths are filled; 'stroke' paths are outlines already expanded to fill geometry; 'box' = text bounds. */
  kind: v.oneOf(['fill', 'stroke', 'box'] as const),
  nodeId: id,
});
export type PathData = v.Infer<typeof pathData>;

export const workingSizeRequest = v.object({
  /** Largest side the model supports (e.g. 768). */
  maxSide: v.number({ integer: true, min: 64, max: 4096 }),
  /** Sizes must be multiples of this (64 for SD). */
  multiple: v.number({ integer: true, min: 8, max: 256 }),
  /** Preferred area, in pixels, e.g. 512*512: the working size keeps the aspect ratio near this area. */
  targetArea: v.number({ integer: true, min: 4096, max: 4096 * 4096 }),
  /** Static-shape models: the only sizes they run at (manifest sizes.fixed); the plugin picks the closest aspect. */
  fixed: v.optional(v.array(v.object({ width: side, height: side }), { minLength: 1, maxLength: 32 })),
});
export type WorkingSizeRequest = v.Infer<typeof workingSizeRequest>;

// ---------------------------------------------------------------------------------------------------------------
// UI → plugin
// ---------------------------------------------------------------------------------------------------------------

export const uiToPlugin = v.taggedUnion('type', {
  /** The UI finished loading; the plugin answers with `init`. */
  'ui-ready': v.object({ type: v.literal('ui-ready'), requestId }),
  /** Ask for the inputs of a job from the current selection; the plugin answers `job-inputs` or `error`. */
  'prepare-job': v.object({
    type: v.literal('prepare-job'),
    requestId,
    mode: v.oneOf(MODES),
    size: workingSizeRequest,
    /** Generate only: the size the user asked for (absent: match the selection's aspect; square with nothing selected). */
    generateSize: v.optional(v.object({ width: side, height: side })),
    /**
     * Re-run on these layers instead of the live selection (History Re-run/Vary, relaunch buttons): the plugin finds
     * them by id, selects them (an empty list: nothing selected), and fails with SOURCE_CHANGED when any is gone.
     */
    sourceNodeIds: v.optional(v.array(id, { maxLength: 500 })),
    /** Where the result will go, so a target that cannot work (fill with nothing selected) fails before any model runs. */
    target: v.optional(v.oneOf(['new-layer', 'replace-fill'] as const)),
    /** Boost only: the upscale factor (the source is exported at 1×, capped so the result fits 4096 px). */
    boostScale: v.optional(v.number({ integer: true, min: 2, max: 4 })),
    /** Style reference: the layer whose look to apply; the plugin exports it (≤ STYLE_MAX_SIDE px) into `job-inputs.style`. */
    styleNodeId: v.optional(id),
  }),
  /**
   * Style reference: read one layer — the one selected, or `nodeId` (a recipe's) — for the Style reference control.
   * The plugin answers `style-picked` (its id, name and a thumbnail) or `error` (nothing / several selected, hidden, gone).
   */
  'pick-style': v.object({ type: v.literal('pick-style'), requestId, nodeId: v.optional(id) }),
  /** One result image to write into the document. */
  'insert-result': v.object({
    type: v.literal('insert-result'),
    requestId,
    /** Groups the images of one generation (one undo step). */
    jobId: id,
    png,
    width: side,
    height: side,
    placement,
    recipe,
    target: v.oneOf(['new-layer', 'replace-fill'] as const),
    batchIndex: v.number({ integer: true, min: 0, max: 63 }),
    batchCount: v.number({ integer: true, min: 1, max: 64 }),
  }),
  'notify': v.object({
    type: v.literal('notify'),
    requestId,
    message: v.string({ minLength: 1, maxLength: 500 }),
    error: v.optional(v.boolean()),
  }),
  'save-settings': v.object({ type: v.literal('save-settings'), requestId, settings: v.plainData() }),
  'get-history': v.object({ type: v.literal('get-history'), requestId }),
  'focus-node': v.object({ type: v.literal('focus-node'), requestId, nodeId: id }),
  /** The plugin window: show it (a quick action that ran hidden needs the user), or close the plugin (done). */
  'window': v.object({
    type: v.literal('window'),
    requestId,
    action: v.oneOf(['show', 'close'] as const),
    message: v.optional(v.string({ maxLength: 200 })),
  }),
  'resize': v.object({
    type: v.literal('resize'),
    requestId,
    width: v.number({ integer: true, min: 240, max: 1200 }),
    height: v.number({ integer: true, min: 200, max: 1600 }),
  }),
});
export type UiToPlugin = v.Infer<typeof uiToPlugin>;

// ---------------------------------------------------------------------------------------------------------------
// plugin → UI
// ---------------------------------------------------------------------------------------------------------------

export const historyEntry = v.object({
  nodeId: id,
  name: v.string({ maxLength: 1000 }),
  recipe,
  /** Small PNG thumbnail (≤ 128 px side), when the node could be exported. */
  thumbnail: v.optional(png),
});
export type HistoryEntry = v.Infer<typeof historyEntry>;

export const pluginToUi = v.taggedUnion('type', {
  'init': v.object({
    type: v.literal('init'),
    requestId,
    pluginVersion: v.string({ maxLength: 40 }),
    theme: v.oneOf(['light', 'dark'] as const),
    selection: selectionInfo,
    settings: v.plainData(),
    /** Set when the plugin was opened from a result's relaunch button. */
    relaunch: v.optional(v.object({ action: v.oneOf(['regenerate', 'variations'] as const), nodeId: id, recipe })),
    /**
     * How the plugin was started when not from a relaunch button: a menu command's mode, or a quick action's prompt
     * (`headless`: the window is hidden; the UI runs at once when a model is ready, else asks to be shown).
     */
    launch: v.optional(v.object({
      mode: v.optional(v.oneOf(MODES)),
      prompt: v.optional(v.string({ maxLength: 4000 })),
      headless: v.optional(v.boolean()),
      /** What went wrong with the launch itself (a relaunch button on a layer without a recipe), shown in the panel. */
      problem: v.optional(errorData),
    })),
  }),
  'selection-changed': v.object({ type: v.literal('selection-changed'), requestId, selection: selectionInfo }),
  'job-inputs': v.object({
    type: v.literal('job-inputs'),
    requestId,
    mode: v.oneOf(MODES),
    /** Working canvas size (multiples of the requested `multiple`). */
    width: side,
    height: side,
    placement,
    /**
     * The source as Figma exported it at working scale, at its own shape (Edit / Inpaint / Boost): `width`×`height` is
     * the PNG's size and `placement.content` where it sits on the canvas. The UI pads it onto the canvas (edge pixels
     * repeated); the plugin does no pixel work.
     */
    image: v.optional(v.object({ png, width: side, height: side })),
    /** Inpaint: the mask's geometry in working px; white = change. */
    mask: v.optional(v.object({ paths: v.array(pathData, { minLength: 1 }), nodeIds: v.array(id) })),
    /** Wireframe: the design's outlines in working px. */
    outlines: v.optional(v.object({ paths: v.array(pathData), nodeIds: v.array(id) })),
    /** Style reference: the reference layer exported at its own aspect, at most STYLE_MAX_SIDE px a side. */
    style: v.optional(v.object({ png, width: side, height: side, nodeId: id })),
    sourceNodeIds: v.array(id),
    notes: v.array(v.string({ maxLength: 500 })),
  }),
  /** The layer chosen as the style reference: its id, name and a ≤ 128 px thumbnail. */
  'style-picked': v.object({
    type: v.literal('style-picked'),
    requestId,
    nodeId: id,
    name: v.string({ maxLength: 1000 }),
    thumbnail: v.optional(png),
  }),
  'insert-done': v.object({
    type: v.literal('insert-done'),
    requestId,
    jobId: id,
    nodeIds: v.array(id),
    notes: v.array(v.string({ maxLength: 500 })),
  }),
  'history': v.object({ type: v.literal('history'), requestId, entries: v.array(historyEntry, { maxLength: 500 }) }),
  'theme': v.object({ type: v.literal('theme'), requestId, theme: v.oneOf(['light', 'dark'] as const) }),
  'ack': v.object({ type: v.literal('ack'), requestId }),
  'error': v.object({ type: v.literal('error'), requestId, error: errorData }),
});
export type PluginToUi = v.Infer<typeof pluginToUi>;

export type Parsed<T> = { ok: true; message: T } | { ok: false; reason: string };

function parseWith<T>(validator: v.Validator<T>, data: unknown): Parsed<T> {
  try {
    return { ok: true, message: validator.validate(data) };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

export const parseUiToPlugin = (data: unknown): Parsed<UiToPlugin> => parseWith(uiToPlugin, data);
export const parsePluginToUi = (data: unknown): Parsed<PluginToUi> => parseWith(pluginToUi, data);

/** Validates a received message; drops it with a warning (returns null) when malformed or unknown. */
export function receive<T>(parse: (d: unknown) => Parsed<T>, data: unknown, warn: (text: string) => void): T | null {
  const parsed = parse(data);
  if (parsed.ok) return parsed.message;
  warn(`Dropped a malformed message: ${parsed.reason}`);
  return null;
}

/**
 * For a message that failed validation: the requestId to answer it on, when it carries one that is itself valid (a
 * reply must pass the protocol too), and a short label of what was asked ("prepare-job" or "a message"). Reads only
 * own data properties, so a getter or a prototype trick cannot run code or smuggle an id.
 */
export function refusalTarget(data: unknown): { requestId: string; label: string } | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  const own = (key: string): unknown => {
    const d = Object.getOwnPropertyDescriptor(data, key);
    return d && 'value' in d ? d.value : undefined;
  };
  const rid = own('requestId');
  if (typeof rid !== 'string' || rid.length < 1 || rid.length > REQUEST_ID_MAX) return null;
  const type = own('type');
  const label = typeof type === 'string' && /^[a-z][a-z-]{0,39}$/.test(type) ? `"${type}"` : 'a message';
  return { requestId: rid, label };
}

/** The error a receiver answers a malformed request with: INVALID_MESSAGE naming the field that was wrong. */
export function refusalError(label: string, reason: string, by: 'plugin' | 'UI'): ErrorData {
  const message = `The ${by} refused ${label}: ${reason}`;
  return {
    code: 'INVALID_MESSAGE',
    message: message.length > 2000 ? `${message.slice(0, 1999)}…` : message,
    hint: 'If a custom model is selected, its manifest may ask for values the plugin cannot take (sizes, ids); otherwise reopen the plugin.',
  };
}

let counter = 0;
/** A fresh request id ("r-<time>-<n>"). */
export const newRequestId = (prefix = 'r'): string => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** The Figma origin a hosted UI posts to and accepts messages from (overridable at build time for the harness). */
export const FIGMA_ORIGIN_DEFAULT = 'https://www.figma.com';

export type { ErrorData };
