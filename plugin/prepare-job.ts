/// <reference path="../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * `prepare-job` → `job-inputs`: the working canvas size, where the result goes (placement), the source exported at
 * working scale at its own shape (the UI pads it onto the canvas by edge repetition when its aspect differs), the
 * inpaint mask and the wireframe outlines in working px. Reads the document only; never writes.
 */
import { AppError } from '../protocol/errors';
import { boostSizes } from '../protocol/boost-size';
import { FIGMA_MAX_IMAGE_SIDE, type Mode, type PathData, type Placement, type PluginToUi, type UiToPlugin } from '../protocol/messages';
import { boundsToContent, coverage, transformPath, type Box } from './geometry';
import { nodePaths, outlinePaths, type NodePathsResult } from './node-paths';
import { absoluteBox, describeNode, pageOf, type SelectionPlan } from './selection-plan';
import { computeWorkingSize, fitConstraint, fitContent, type Size } from './working-size';

export type PrepareJobMessage = Extract<UiToPlugin, { type: 'prepare-job' }>;
export type JobInputsMessage = Extract<PluginToUi, { type: 'job-inputs' }>;

/** Below this share of the source the mask counts as empty; above 1 − this, as covering everything. */
export const MASK_MIN_COVERAGE = 0.001;

/** What insert-result compares against to detect a source deleted or changed during generation. */
export interface SourceSnapshot {
  readonly nodeId: string;
  readonly name: string;
  readonly pageId: string;
  /** Absolute bounds at prepare time. */
  readonly box: Box;
  /** Inpaint: the mask layers (the result goes above them, or they would hide it). */
  readonly maskNodeIds?: readonly string[];
}

export interface PreparedJob {
  readonly reply: JobInputsMessage;
  readonly snapshot: SourceSnapshot | null;
}

const MODE_NEEDS: Readonly<Record<Exclude<Mode, 'generate'>, string>> = {
  edit: 'Edit needs one frame, image or shape selected',
  inpaint: 'Inpaint needs an image with a shape over it (the area to change), or a mask layer',
  wireframe: 'Wireframe needs a frame (or shape) with shapes or text in it',
  boost: 'Boost needs one image, frame or shape selected',
};

function checkGenerateSize(size: { width: number; height: number }, req: PrepareJobMessage['size']): Size {
  if (req.fixed && req.fixed.length > 0) {
    if (req.fixed.some((f) => f.width === size.width && f.height === size.height)) return { width: size.width, height: size.height };
    throw new AppError('INVALID_INPUT', `The image size ${size.width}×${size.height} is not allowed: this model only runs at ${req.fixed.map((f) => `${f.width}×${f.height}`).join(', ')}.`, {
      hint: 'Pick one of the sizes offered for this model.',
    });
  }
  const maxGrid = Math.floor(req.maxSide / req.multiple) * req.multiple;
  for (const [label, v] of [['width', size.width], ['height', size.height]] as const) {
    if (v % req.multiple !== 0 || v < req.multiple || v > maxGrid) {
      throw new AppError('INVALID_INPUT', `The image ${label} ${v} px is not allowed: it must be a multiple of ${req.multiple} between ${req.multiple} and ${maxGrid}.`, {
        hint: 'Pick one of the sizes offered for this model.',
      });
    }
  }
  return { width: size.width, height: size.height };
}

/** Aspect difference (|log ratio|) under which a canvas counts as the layer's own shape: ≈ one 64 px size step. */
export const SAME_ASPECT = 0.12;

/** “Fill of the selection” needs one usable layer with fills. Throws INVALID_SELECTION before any model runs. */
function checkFillTarget(plan: SelectionPlan): void {
  const source = plan.source;
  if (!source) {
    throw new AppError('INVALID_SELECTION', plan.problem
      ? `“Fill of the selection” can't be used: ${plan.problem}`
      : '“Fill of the selection” needs a selected layer, and nothing is selected.', {
      hint: 'Select a frame or shape, or set “Insert as” to “New layer”.',
    });
  }
  if (!('fills' in source) || !Array.isArray(source.fills)) {
    throw new AppError('INVALID_SELECTION', `'${source.name}' (${source.type.toLowerCase()}) has no fill to put the image in.`, {
      hint: 'Set “Insert as” to “New layer”, or select a frame or shape.',
    });
  }
}

function snapshotOf(node: SceneNode): SourceSnapshot {
  return { nodeId: node.id, name: node.name, pageId: pageOf(node)?.id ?? '', box: absoluteBox(node) };
}

/**
 * Exports `node` at the canvas' fit size and returns the PNG as Figma made it (its own shape, no pixel work here: the
 * main thread only moves bytes) with its content box on the canvas; the UI pads it onto the canvas by edge repetition.
 * The exported pixel size comes from Figma itself (Image.getSizeAsync), since Figma rounds the fitted side.
 */
async function exportSourceAsync(figma: PluginAPI, node: SceneNode, box: Box, canvas: Size, notes: string[]): Promise<{ png: Uint8Array; exported: Size; content: Box }> {
  let bytes: Uint8Array;
  try {
    bytes = await node.exportAsync({ format: 'PNG', constraint: fitConstraint(box.width, box.height, canvas), useAbsoluteBounds: true, colorProfile: 'SRGB' });
  } catch (err) {
    throw new AppError('INVALID_SELECTION', `Figma could not export '${node.name}' (${err instanceof Error ? err.message : String(err)}).`, {
      hint: 'Check that the layer is visible and on the open page, then try again.',
      cause: err,
    });
  }
  let exported: Size;
  try {
    exported = await figma.createImage(bytes).getSizeAsync();
  } catch (err) {
    throw new AppError('IMAGE_DECODE_FAILED', `Figma could not read its own export of '${node.name}' (${err instanceof Error ? err.message : String(err)}).`, {
      hint: 'Try again; if it repeats, export the layer as PNG to check it.',
      cause: err,
    });
  }
  const content = fitContent(box.width, box.height, canvas, exported);
  if (exported.width !== canvas.width || exported.height !== canvas.height) {
    notes.push(`'${node.name}' (${exported.width}×${exported.height} at working scale) was padded to ${canvas.width}×${canvas.height}; the result is cropped back to its bounds.`);
  }
  return { png: bytes, exported, content };
}

function maskPaths(plan: SelectionPlan, toWorking: ReturnType<typeof boundsToContent>, content: Box, source: SceneNode): { paths: PathData[]; nodeIds: string[] } {
  const out: NodePathsResult = { paths: [], skipped: [] };
  for (const m of plan.maskNodes) nodePaths(m, toWorking, 'mask', out);
  const names = plan.maskNodes.map((m) => `'${m.name}'`).slice(0, 3).join(', ');
  if (out.skipped.length > 0) {
    throw new AppError('INVALID_SELECTION', `The mask shape ${out.skipped.map((s) => `'${s}'`).join(', ')} is too complex to use.`, {
      hint: 'Simplify the shape (fewer points) or use a simpler mask shape.',
    });
  }
  const toContent: ReturnType<typeof boundsToContent> = [[1, 0, -content.x], [0, 1, -content.y]];
  const share = out.paths.length === 0 ? 0 : coverage(
    out.paths.map((p) => ({ d: transformPath(p.d, toContent), windingRule: p.windingRule })),
    content.width,
    content.height,
  );
  if (share < MASK_MIN_COVERAGE) {
    throw new AppError('INVALID_SELECTION', `The mask ${names} covers none of '${source.name}', so there is nothing to change.`, {
      hint: 'Draw a filled shape over the part of the image to change and select both.',
    });
  }
  if (share > 1 - MASK_MIN_COVERAGE) {
    throw new AppError('INVALID_SELECTION', `The mask ${names} covers all of '${source.name}'. Inpaint changes only part of an image.`, {
      hint: 'Use Edit to change the whole image, or make the mask shape smaller.',
    });
  }
  return { paths: out.paths, nodeIds: [...new Set(out.paths.map((p) => p.nodeId))] };
}

/**
 * Builds the job inputs for `request` from the selection `plan` (computed from the live selection at the time of
 * the request; insert-result later uses the returned snapshot's ids, never the live selection).
 * Throws AppError: INVALID_SELECTION (mode not possible, problem with the selection, empty or all-covering mask,
 * wireframe without outlines, export failure), INVALID_INPUT (generate size), IMAGE_DECODE_FAILED.
 */
export async function prepareJobAsync(figma: PluginAPI, request: PrepareJobMessage, plan: SelectionPlan): Promise<PreparedJob> {
  const { mode, size: sizeRequest, requestId } = request;
  const notes: string[] = [];

  // 0. The insert target must be possible before anything runs.
  if (request.target === 'replace-fill') checkFillTarget(plan);

  // 1. Generate: the asked size, or (no size asked) the selected layer's own aspect, so the picture fits it.
  if (mode === 'generate') {
    const source = plan.source;
    const box = source ? absoluteBox(source) : null;
    const canvas = request.generateSize
      ? checkGenerateSize(request.generateSize, sizeRequest)
      : box ? computeWorkingSize(box.width, box.height, sizeRequest) : computeWorkingSize(1, 1, sizeRequest);
    if (plan.problem) notes.push(`The selection was not used (${plan.problem}) — the image goes in the middle of the view.`);
    let placement: Placement;
    if (source && box) {
      // Same shape (within a size step): the image fills the layer exactly. A different shape the user chose: the
      // whole picture is kept (never cropped) and the result keeps its own shape.
      const same = Math.abs(Math.log((canvas.width / canvas.height) / (box.width / box.height))) < SAME_ASPECT;
      const content = same ? fitContent(box.width, box.height, canvas) : { x: 0, y: 0, width: canvas.width, height: canvas.height };
      placement = { sourceNodeId: source.id, ...box, content };
      if (!same) {
        notes.push(`The image keeps its ${canvas.width}×${canvas.height} shape; ${describeNode(source)} has another shape. Choose the size “Match selection” to fill it.`);
      }
    } else {
      const c = figma.viewport.center;
      placement = {
        x: Math.round(c.x - canvas.width / 2),
        y: Math.round(c.y - canvas.height / 2),
        width: canvas.width,
        height: canvas.height,
        content: { x: 0, y: 0, width: canvas.width, height: canvas.height },
      };
    }
    return {
      reply: { type: 'job-inputs', requestId, mode, ...canvas, placement, sourceNodeIds: source ? [source.id] : [], notes },
      snapshot: source ? snapshotOf(source) : null,
    };
  }

  // 2. Check the selection can run this mode.
  if (plan.problem) throw new AppError('INVALID_SELECTION', plan.problem);
  const source = plan.source;
  if (!source || !plan.info.availableModes.includes(mode)) {
    throw new AppError('INVALID_SELECTION', `${MODE_NEEDS[mode]}; the selection is ${plan.info.hint}.`, {
      hint: `Change the selection, or choose ${plan.info.availableModes.filter((m) => m !== mode).join(' or ') || 'Generate'}.`,
    });
  }
  const page = pageOf(source);
  if (page !== figma.currentPage) {
    throw new AppError('INVALID_SELECTION', `'${source.name}' is on page '${page?.name ?? '?'}', which is not the open page.`, { hint: 'Open that page and try again.' });
  }

  // 3. Boost: the source at 1× its bounds (capped so the result fits 4096 px), no padding, covering the node.
  if (mode === 'boost') {
    const box = absoluteBox(source);
    const scale = request.boostScale ?? 2;
    const { source: size, result, capped } = boostSizes(box.width, box.height, scale);
    const { png, exported, content } = await exportSourceAsync(figma, source, box, size, notes);
    if (capped) notes.push(`'${source.name}' was read at ${size.width}×${size.height} so the ×${scale} result (${result.width}×${result.height}) stays within Figma's ${FIGMA_MAX_IMAGE_SIDE}-px limit.`);
    return {
      reply: {
        type: 'job-inputs', requestId, mode, ...size, placement: { sourceNodeId: source.id, ...box, content },
        image: { png, width: exported.width, height: exported.height }, sourceNodeIds: [source.id], notes,
      },
      snapshot: snapshotOf(source),
    };
  }

  // 4. Working size and the source image on the canvas.
  const box = absoluteBox(source);
  const canvas = computeWorkingSize(box.width, box.height, sizeRequest);
  const { png, exported, content } = await exportSourceAsync(figma, source, box, canvas, notes);
  const toWorking = boundsToContent(box, content);
  const placement: Placement = { sourceNodeId: source.id, ...box, content };
  const reply: JobInputsMessage = {
    type: 'job-inputs', requestId, mode, ...canvas, placement,
    image: { png, width: exported.width, height: exported.height },
    sourceNodeIds: [source.id],
    notes,
  };

  // 4. Mode-specific geometry.
  if (mode === 'inpaint') {
    reply.mask = maskPaths(plan, toWorking, content, source);
  } else if (mode === 'wireframe') {
    const outlines = outlinePaths(source, toWorking);
    if (outlines.paths.length === 0) {
      throw new AppError('INVALID_SELECTION', `'${source.name}' has no visible shapes or text to use as a wireframe.`, {
        hint: 'Select a frame that contains the wireframe shapes and text.',
      });
    }
    notes.push(...outlines.notes);
    reply.outlines = { paths: outlines.paths, nodeIds: outlines.nodeIds };
  }
  return { reply, snapshot: reply.mask ? { ...snapshotOf(source), maskNodeIds: reply.mask.nodeIds } : snapshotOf(source) };
}
