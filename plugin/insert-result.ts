/// <reference path="../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * `insert-result` → the document. Everything is checked before the first write (size, PNG header, recipe size,
 * the source still there and the same size); if a write still fails, what this call created is removed again, so
 * the document is never half-written.
 *
 * - target 'new-layer': every result is a rectangle named after the prompt (" · i/n" in a batch), at the source's
 *   size (or the image's own shape fitted into it when the user chose another shape — never cropped). It never
 *   covers existing work: it goes on the page beside the source, in the first free spot to its right (so a batch,
 *   and the next run, line up for comparison). Generate into an empty frame puts it inside that frame (a
 *   placeholder). Generate with nothing selected: centred in the view when free, else the first free spot right
 *   of it (a batch in a row).
 * - Boost (recipe.mode 'boost'): a rectangle the source's size (the image has 2×/4× its pixels), named
 *   "<source> ×2", beside the source on free space (as above) so the two can be compared.
 * - target 'replace-fill' (one image): the source's top-most IMAGE fill is replaced by the result (other fills
 *   are kept); without an image fill the result is added on top of the existing fills. An image of another shape
 *   than the layer is shown whole (scale mode FIT), not cropped.
 * The image maps onto the node with `placement.content`: FILL when the content is the whole canvas, else CROP
 * with imageTransform = the content box in normalised image coordinates (so padding is cut off exactly).
 * Each result carries pluginData 'recipe' (JSON) and relaunch buttons 'regenerate' / 'variations'.
 */
import { AppError } from '../protocol/errors';
import { FIGMA_MAX_IMAGE_SIDE, type Recipe, type UiToPlugin } from '../protocol/messages';
import type { Box } from './geometry';
import type { SourceSnapshot } from './prepare-job';
import { absoluteBox, isHidden, isLocked, pageOf } from './selection-plan';

export type InsertResultMessage = Extract<UiToPlugin, { type: 'insert-result' }>;

export const RECIPE_KEY = 'recipe';
/** Figma's per-entry pluginData cap is 100 kB; keep a margin. */
export const MAX_RECIPE_CHARS = 95_000;
export const GRID_GAP = 24;
export const RELAUNCH_DATA: Readonly<Record<string, string>> = {
  regenerate: 'Regenerate with the same recipe',
  variations: 'New seeds, same prompt',
};

export interface InsertOutcome {
  readonly nodeIds: string[];
  readonly notes: string[];
}

/**
 * A batch's row on the canvas: the first image finds free space for the whole row, the others take their places
 * in it (the caller keeps this per generation and passes it back for each image).
 */
export interface BatchRow {
  origin?: { x: number; y: number };
}

/** "a mountain cabin at dusk" → layer name (≤ 60 characters). */
/**
 * Invisible and direction-changing characters: zero-width spaces/joiners, word joiner, BOM, soft hyphen, and the bidi
 * embeddings/overrides/isolates (U+202E would make a layer name read backwards in the layers panel).
 */
export const INVISIBLE_CHARS = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\u061C\uFEFF]/g;

export function layerName(prompt: string): string {
  const p = prompt.replace(INVISIBLE_CHARS, '').replace(/\s+/g, ' ').trim();
  if (!p) return 'Generated image';
  return p.length > 60 ? `${p.slice(0, 59).trimEnd()}…` : p;
}

/** The recipe as pluginData JSON (< 100 kB), trimming outline ids first when needed. Throws INVALID_INPUT. */
export function recipeJson(recipe: Recipe): { json: string; trimmed: boolean } {
  let json = JSON.stringify(recipe);
  if (json.length <= MAX_RECIPE_CHARS) return { json, trimmed: false };
  const lean: Recipe = { ...recipe };
  delete lean.outlineNodeIds;
  json = JSON.stringify(lean);
  if (json.length <= MAX_RECIPE_CHARS) return { json, trimmed: true };
  throw new AppError('INVALID_INPUT', `The recipe is ${Math.round(json.length / 1000)} kB; a layer can store at most ${MAX_RECIPE_CHARS / 1000} kB.`, {
    hint: 'Shorten the prompt or select fewer layers.',
  });
}

/** The image paint that shows the canvas' `content` box over the node's whole bounds. */
export function resultPaint(imageHash: string, content: Box, canvas: { width: number; height: number }): ImagePaint {
  const full = Math.abs(content.x) < 0.5 && Math.abs(content.y) < 0.5 &&
    Math.abs(content.width - canvas.width) < 0.5 && Math.abs(content.height - canvas.height) < 0.5;
  if (full) return { type: 'IMAGE', imageHash, scaleMode: 'FILL' };
  const t: Transform = [
    [content.width / canvas.width, 0, content.x / canvas.width],
    [0, content.height / canvas.height, content.y / canvas.height],
  ];
  return { type: 'IMAGE', imageHash, scaleMode: 'CROP', imageTransform: t };
}

/** An empty frame (no children, no image): a placeholder a Generate result may fill. */
export function isEmptyPlaceholder(node: SceneNode): boolean {
  return node.type === 'FRAME' && node.children.length === 0 && !('fills' in node && Array.isArray(node.fills) && (node.fills as readonly Paint[]).some((p) => p.type === 'IMAGE'));
}

/**
 * The result's size on the canvas: the source's box when the image has the box's shape (content cut to it), else
 * the image's own shape fitted inside the box (never cropped).
 */
export function resultSize(box: Box, content: Box): { width: number; height: number } {
  const a = content.width / content.height;
  if (Math.abs(Math.log(a / (box.width / box.height))) < 0.01) return { width: box.width, height: box.height };
  const s = Math.min(box.width / content.width, box.height / content.height);
  return { width: Math.max(1, Math.round(content.width * s)), height: Math.max(1, Math.round(content.height * s)) };
}

const overlaps = (a: Box, b: Box, gap: number): boolean =>
  a.x < b.x + b.width + gap && b.x < a.x + a.width + gap && a.y < b.y + b.height + gap && b.y < a.y + a.height + gap;

/**
 * The first spot at `start` or right of it (same top) where a `size` box touches no top-level layer of `page`
 * (ignoring `selfId`), keeping GRID_GAP clear around it.
 */
export function freeSpot(page: PageNode, start: { x: number; y: number }, size: { width: number; height: number }, selfId: string): { x: number; y: number } {
  const boxes = page.children.filter((c) => c.id !== selfId).map((c) => absoluteBox(c));
  const spot = { x: start.x, y: start.y, width: size.width, height: size.height };
  for (let i = 0; i < 10_000; i++) {
    let right = -Infinity;
    for (const b of boxes) if (overlaps(spot, b, GRID_GAP - 0.5)) right = Math.max(right, b.x + b.width);
    if (right === -Infinity) break;
    spot.x = right + GRID_GAP;
  }
  return { x: spot.x, y: spot.y };
}

/** Where image `msg.batchIndex` of a batch goes: its place in the batch's row (found free for the whole row). */
function rowSpot(page: PageNode, start: { x: number; y: number }, size: { width: number; height: number }, selfId: string, msg: InsertResultMessage, row: BatchRow | undefined): { x: number; y: number } {
  const n = msg.batchCount;
  if (n <= 1 || !row) return freeSpot(page, start, size, selfId);
  const slot = size.width + GRID_GAP;
  if (!row.origin) {
    const whole = freeSpot(page, start, { width: n * size.width + (n - 1) * GRID_GAP, height: size.height }, selfId);
    row.origin = { x: whole.x - msg.batchIndex * slot, y: whole.y };
  }
  const want = { x: row.origin.x + msg.batchIndex * slot, y: row.origin.y };
  // Its place is still free (nothing moved in): take it; else the next free spot.
  return freeSpot(page, want, size, selfId);
}

/** Plain words for a snapshot/live size. */
const sizeText = (b: Box): string => `${Math.round(b.width)}×${Math.round(b.height)}`;

/** Resolves the source and checks it is still there and the same size. Throws SOURCE_CHANGED. */
async function checkSourceAsync(figma: PluginAPI, msg: InsertResultMessage, snapshot: SourceSnapshot | undefined): Promise<SceneNode | null> {
  const id = msg.placement.sourceNodeId;
  if (!id) return null;
  const name = snapshot?.name ?? id;
  const node = await figma.getNodeByIdAsync(id);
  const nothing = 'Nothing was inserted.';
  if (!node || node.removed || node.type === 'PAGE' || node.type === 'DOCUMENT') {
    throw new AppError('SOURCE_CHANGED', `'${name}' was deleted while the image was being made. ${nothing}`, { hint: 'Select the layer again and rerun.' });
  }
  const scene = node as SceneNode;
  const page = pageOf(scene);
  if (!page || page !== figma.currentPage) {
    throw new AppError('SOURCE_CHANGED', `'${scene.name}' is on page '${page?.name ?? '?'}', not on the open page. ${nothing}`, { hint: 'Go back to that page and rerun.' });
  }
  const then: Box = snapshot?.box ?? msg.placement;
  const now = absoluteBox(scene);
  if (Math.abs(now.width - then.width) > 0.5 || Math.abs(now.height - then.height) > 0.5) {
    throw new AppError('SOURCE_CHANGED', `'${scene.name}' was resized from ${sizeText(then)} to ${sizeText(now)} while the image was being made. ${nothing}`, {
      hint: 'Run it again for the new size.',
    });
  }
  return scene;
}

function tagResult(node: SceneNode, json: string): void {
  node.setPluginData(RECIPE_KEY, json);
  node.setRelaunchData({ ...RELAUNCH_DATA });
}

/**
 * Writes one result image. Throws AppError (INVALID_INPUT size > 4096 or recipe too big; INVALID_MESSAGE PNG
 * header ≠ declared size; IMAGE_DECODE_FAILED; SOURCE_CHANGED; INVALID_SELECTION replace-fill on a node without
 * fills; DOCUMENT_WRITE_FAILED) with the document untouched.
 */
export async function insertResultAsync(
  figma: PluginAPI, msg: InsertResultMessage, snapshot: SourceSnapshot | undefined, row?: BatchRow,
): Promise<InsertOutcome> {
  const notes: string[] = [];
  // 1. Check everything before writing anything.
  if (msg.width > FIGMA_MAX_IMAGE_SIDE || msg.height > FIGMA_MAX_IMAGE_SIDE) {
    throw new AppError('INVALID_INPUT', `The result is ${msg.width}×${msg.height} px, but Figma images can be at most ${FIGMA_MAX_IMAGE_SIDE} px per side. Nothing was inserted.`, {
      hint: `Choose a smaller size or upscale factor; the plugin window scales results down to ${FIGMA_MAX_IMAGE_SIDE} px before inserting them.`,
    });
  }
  if (msg.batchIndex >= msg.batchCount) {
    throw new AppError('INVALID_MESSAGE', `Batch image ${msg.batchIndex + 1} of ${msg.batchCount} does not exist.`);
  }
  const { json, trimmed } = recipeJson(msg.recipe);
  if (trimmed) notes.push('The recipe is stored without its list of outline layers (too long).');
  const source = await checkSourceAsync(figma, msg, snapshot);
  const batch = msg.batchCount > 1;
  let target = msg.target;
  if (target === 'replace-fill' && batch) {
    target = 'new-layer';
    notes.push('Replace fill works with one image at a time, so the batch was placed next to the source.');
  }
  if (target === 'replace-fill') {
    if (!source) throw new AppError('INVALID_SELECTION', 'Replace fill needs a selected layer; nothing was selected when the job started.', { hint: 'Use “New layer”, or select a layer first.' });
    if (!('fills' in source) || !Array.isArray(source.fills)) {
      throw new AppError('INVALID_SELECTION', `'${source.name}' (${source.type.toLowerCase()}) has no fills to replace. Nothing was inserted.`, { hint: 'Use “New layer” instead.' });
    }
    if (isLocked(source)) throw new AppError('SOURCE_CHANGED', `'${source.name}' was locked while the image was being made. Nothing was inserted.`, { hint: 'Unlock it and rerun.' });
    if (isHidden(source)) throw new AppError('SOURCE_CHANGED', `'${source.name}' was hidden while the image was being made. Nothing was inserted.`, { hint: 'Show it and rerun, or use “New layer”.' });
  }
  // The image's canvas: the working size, or the full-resolution size (the image is then exactly the content box).
  const full = msg.recipe.fullResolution;
  const canvas = full ? { width: full.width, height: full.height } : { width: msg.recipe.width, height: msg.recipe.height };
  if (Math.abs(canvas.width / canvas.height - msg.width / msg.height) > 0.02) {
    throw new AppError('INVALID_MESSAGE', `The result is ${msg.width}×${msg.height} px, which does not match the job's ${canvas.width}×${canvas.height} canvas. Nothing was inserted.`);
  }

  // 2. The image itself (Figma validates the bytes here; no node exists yet).
  let image: Image;
  try {
    image = figma.createImage(msg.png);
  } catch (err) {
    throw new AppError('IMAGE_DECODE_FAILED', `Figma could not read the result image (${err instanceof Error ? err.message : String(err)}). Nothing was inserted.`, { cause: err });
  }
  const header = await image.getSizeAsync();
  if (header.width !== msg.width || header.height !== msg.height) {
    throw new AppError('INVALID_MESSAGE', `The result PNG is ${header.width}×${header.height} px, but ${msg.width}×${msg.height} was announced. Nothing was inserted.`);
  }
  const paint = resultPaint(image.hash, msg.placement.content, canvas);
  const box: Box = source ? absoluteBox(source) : msg.placement;

  // 3. Write; undo our own writes if anything throws.
  const created: SceneNode[] = [];
  let restore: (() => void) | null = null;
  try {
    if (target === 'replace-fill' && source && 'fills' in source) {
      const fills = [...(source.fills as readonly Paint[])];
      let top = -1;
      for (let i = fills.length - 1; i >= 0; i--) if (fills[i]!.type === 'IMAGE') { top = i; break; }
      const whole = resultSize(box, msg.placement.content);
      const fillPaint: ImagePaint = whole.width === box.width && whole.height === box.height ? paint : { type: 'IMAGE', imageHash: image.hash, scaleMode: 'FIT' };
      if (top >= 0) fills[top] = fillPaint;
      else fills.push(fillPaint);
      const before = source.fills as readonly Paint[];
      const oldRecipe = source.getPluginData(RECIPE_KEY);
      const oldRelaunch = source.getRelaunchData();
      restore = () => {
        source.fills = before;
        source.setPluginData(RECIPE_KEY, oldRecipe);
        source.setRelaunchData(oldRelaunch);
      };
      source.fills = fills;
      tagResult(source, json);
      return { nodeIds: [source.id], notes };
    }
    // One node type for every result: a rectangle carrying the image.
    const rect = figma.createRectangle();
    created.push(rect);
    const boost = msg.recipe.mode === 'boost';
    rect.name = boost && source ? `${source.name} ×${msg.recipe.upscale ?? 2}`
      : batch ? `${layerName(msg.recipe.prompt)} · ${msg.batchIndex + 1}/${msg.batchCount}` : layerName(msg.recipe.prompt);
    // Boost: the source's size with more pixels; otherwise the source's size, or the image's own shape inside it.
    const size = boost ? { width: box.width, height: box.height } : resultSize(box, msg.placement.content);
    rect.resize(size.width, size.height);
    rect.fills = [paint];
    if (source && msg.recipe.mode === 'generate' && isEmptyPlaceholder(source)) {
      // Generate into an empty frame: the frame is a placeholder, so the image goes inside it, filling it.
      const frame = source as FrameNode;
      frame.appendChild(rect);
      if (frame.layoutMode !== 'NONE') rect.layoutPositioning = 'ABSOLUTE';
      rect.x = (frame.width - size.width) / 2;
      rect.y = (frame.height - size.height) / 2;
    } else if (source) {
      // Never on top of existing work: beside the source, in the first free spot to its right (later images of a
      // batch, and later runs, line up after it for comparison).
      figma.currentPage.appendChild(rect);
      const spot = rowSpot(figma.currentPage, { x: box.x + box.width + GRID_GAP, y: box.y }, size, rect.id, msg, row);
      rect.x = spot.x;
      rect.y = spot.y;
    } else {
      // Nothing selected: in the middle of the view when that is free, else the first free spot right of it (a
      // batch in a row there).
      figma.currentPage.appendChild(rect);
      const spot = rowSpot(figma.currentPage, { x: box.x, y: box.y }, size, rect.id, msg, row);
      rect.x = spot.x;
      rect.y = spot.y;
    }
    tagResult(rect, json);
    return { nodeIds: [rect.id], notes };
  } catch (err) {
    try {
      restore?.();
    } catch {
      // best effort: the node may be gone
    }
    for (const n of created) {
      try {
        if (!n.removed) n.remove();
      } catch {
        // already gone
      }
    }
    if (err instanceof AppError) throw err;
    throw new AppError('DOCUMENT_WRITE_FAILED', `Figma refused to insert the image (${err instanceof Error ? err.message : String(err)}). Nothing was inserted.`, { cause: err });
  }
}
