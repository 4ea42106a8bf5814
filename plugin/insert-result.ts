/// <reference path="../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * `insert-result` → the document. Everything is checked before the first write (size, PNG header, recipe size,
 * the source still there and the same size); if a write still fails, what this call created is removed again, so
 * the document is never half-written.
 *
 * - target 'new-layer', one image: a rectangle named after the prompt, covering the source's bounds, inserted just
 *   above the source in its parent (absolute-positioned in auto-layout; above the instance/boolean operation when the
 *   source is inside one). Generate with nothing selected: at the placement (centred in the view when prepared).
 * - batches (batchCount > 1): one frame per image in a grid on the page, to the right of the source (gap 24),
 *   or centred on the placement for Generate.
 * - Boost (recipe.mode 'boost'): a rectangle the source's size (the image has 2×/4× its pixels), named
 *   "<source> ×2", beside the source (GRID_GAP to its right) so the two can be compared.
 * - target 'replace-fill' (one image): the source's top-most IMAGE fill is replaced by the result (other fills
 *   are kept); without an image fill the result is added on top of the existing fills.
 * The image maps onto the node with `placement.content`: FILL when the content is the whole canvas, else CROP
 * with imageTransform = the content box in normalised image coordinates (so padding is cut off exactly).
 * Each result carries pluginData 'recipe' (JSON) and relaunch buttons 'regenerate' / 'variations'.
 */
import { AppError } from '../protocol/errors';
import { FIGMA_MAX_IMAGE_SIDE, type Recipe, type UiToPlugin } from '../protocol/messages';
import { invert, multiply, type Affine, type Box } from './geometry';
import { readPngSize } from './png';
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

/** Where a new layer for `source` goes: its parent, unless that cannot take children (instance, boolean op). */
function insertionPoint(source: SceneNode): { container: BaseNode & ChildrenMixin; anchor: SceneNode } {
  let anchor: SceneNode = source;
  let container = source.parent as (BaseNode & ChildrenMixin) | null;
  const blocked = (n: BaseNode): boolean => {
    for (let p: BaseNode | null = n; p && p.type !== 'PAGE'; p = p.parent) if (p.type === 'INSTANCE' || p.type === 'BOOLEAN_OPERATION') return true;
    return false;
  };
  while (container && container.type !== 'PAGE' && blocked(container)) {
    anchor = container as unknown as SceneNode;
    container = container.parent as (BaseNode & ChildrenMixin) | null;
  }
  if (!container) throw new AppError('SOURCE_CHANGED', `'${source.name}' is no longer in the document.`);
  return { container, anchor };
}

/** The absolute transform of the space a child of `container` is positioned in (groups don't have their own). */
function coordinateSpace(container: BaseNode): Affine {
  let n: BaseNode | null = container;
  while (n && (n.type === 'GROUP' || n.type === 'BOOLEAN_OPERATION')) n = n.parent;
  if (!n || n.type === 'PAGE' || n.type === 'DOCUMENT') return [[1, 0, 0], [0, 1, 0]];
  return (n as SceneNode).absoluteTransform as Affine;
}

/** Places a new child so its absolute top-left is (x, y), unrotated. */
function placeAbsolute(node: SceneNode & LayoutMixin, container: BaseNode, x: number, y: number): void {
  if ('layoutMode' in container && (container as FrameNode).layoutMode !== 'NONE' && 'layoutPositioning' in node) {
    (node as FrameNode).layoutPositioning = 'ABSOLUTE';
  }
  node.relativeTransform = multiply(invert(coordinateSpace(container)), [[1, 0, x], [0, 1, y]]) as Transform;
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
export async function insertResultAsync(figma: PluginAPI, msg: InsertResultMessage, snapshot: SourceSnapshot | undefined): Promise<InsertOutcome> {
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
  const header = readPngSize(msg.png);
  if (header.width !== msg.width || header.height !== msg.height) {
    throw new AppError('INVALID_MESSAGE', `The result PNG is ${header.width}×${header.height} px, but ${msg.width}×${msg.height} was announced. Nothing was inserted.`);
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
  const canvas = { width: msg.recipe.width, height: msg.recipe.height };
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
      if (top >= 0) fills[top] = paint;
      else fills.push(paint);
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
    if (batch) {
      const frame = figma.createFrame();
      created.push(frame);
      frame.name = `${layerName(msg.recipe.prompt)} · ${msg.batchIndex + 1}/${msg.batchCount}`;
      frame.resize(box.width, box.height);
      frame.fills = [paint];
      const cols = Math.ceil(Math.sqrt(msg.batchCount));
      const rows = Math.ceil(msg.batchCount / cols);
      const col = msg.batchIndex % cols;
      const row = Math.floor(msg.batchIndex / cols);
      const gridW = cols * box.width + (cols - 1) * GRID_GAP;
      const gridH = rows * box.height + (rows - 1) * GRID_GAP;
      const x0 = source ? box.x + box.width + GRID_GAP : box.x + box.width / 2 - gridW / 2;
      const y0 = source ? box.y : box.y + box.height / 2 - gridH / 2;
      figma.currentPage.appendChild(frame);
      frame.x = x0 + col * (box.width + GRID_GAP);
      frame.y = y0 + row * (box.height + GRID_GAP);
      tagResult(frame, json);
      return { nodeIds: [frame.id], notes };
    }
    const rect = figma.createRectangle();
    created.push(rect);
    const boost = msg.recipe.mode === 'boost';
    rect.name = boost && source ? `${source.name} ×${msg.recipe.upscale ?? 2}` : layerName(msg.recipe.prompt);
    rect.resize(box.width, box.height);
    rect.fills = [paint];
    if (source && boost) {
      // Boost: the same size as the source with more pixels, beside it (GRID_GAP to its right) for comparison.
      const { container, anchor } = insertionPoint(source);
      container.insertChild(container.children.indexOf(anchor) + 1, rect);
      placeAbsolute(rect, container, box.x + box.width + GRID_GAP, box.y);
    } else if (source) {
      const { container, anchor } = insertionPoint(source);
      // Inpaint: go above the mask shapes too, or the shape the user drew would hide the repainted pixels.
      let index = container.children.indexOf(anchor);
      for (const id of snapshot?.maskNodeIds ?? []) index = Math.max(index, container.children.findIndex((c) => c.id === id));
      container.insertChild(index + 1, rect);
      placeAbsolute(rect, container, box.x, box.y);
    } else {
      figma.currentPage.appendChild(rect);
      rect.x = box.x;
      rect.y = box.y;
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
