/// <reference path="../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * Style reference: the layer whose look a server applies (IP-Adapter / style model). `pick-style` reads the selected
 * layer (or a recipe's, by id) for the control's thumbnail; `prepare-job` with `styleNodeId` exports it — at its own
 * aspect, at most STYLE_MAX_SIDE px a side — as PNG bytes for the UI. Reads only; every message names the style
 * reference, so the UI shows it at that control.
 */
import { AppError } from '../protocol/errors';
import { STYLE_MAX_SIDE } from '../protocol/messages';
import { THUMBNAIL_SIDE } from './history';
import { SOURCE_TYPES, absoluteBox, isHidden, pageOf } from './selection-plan';

export interface StylePicked {
  readonly nodeId: string;
  readonly name: string;
  readonly thumbnail?: Uint8Array;
}

/** Why `node` cannot be a style reference, or null. */
function styleProblem(node: SceneNode): string | null {
  const name = `'${node.name}'`;
  if (!SOURCE_TYPES.has(node.type)) return `${name} (${node.type.toLowerCase().replace(/_/g, ' ')}) can't be a style reference: select an image, frame or shape.`;
  if (isHidden(node)) return `${name} is hidden, so it can't be read as the style reference. Show it first.`;
  const b = absoluteBox(node);
  if (!(b.width >= 1) || !(b.height >= 1)) return `${name} has no size, so it can't be the style reference.`;
  return null;
}

async function styleNodeAsync(figma: PluginAPI, nodeId: string): Promise<SceneNode> {
  const n = await figma.getNodeByIdAsync(nodeId);
  if (!n || n.removed || n.type === 'PAGE' || n.type === 'DOCUMENT') {
    throw new AppError('SOURCE_CHANGED', 'The style reference layer is no longer in the document.', {
      hint: 'Select another image and press “Use selection” under Style reference, or turn Style reference off.',
    });
  }
  const page = pageOf(n);
  if (page !== figma.currentPage) {
    throw new AppError('SOURCE_CHANGED', `The style reference '${n.name}' is on page '${page?.name ?? '?'}', not on the open page.`, {
      hint: 'Open that page, or choose a style reference on this page.',
    });
  }
  const problem = styleProblem(n as SceneNode);
  if (problem) throw new AppError('INVALID_SELECTION', problem);
  return n as SceneNode;
}

async function exportFitAsync(node: SceneNode, maxSide: number): Promise<Uint8Array> {
  const b = absoluteBox(node);
  const constraint = b.width >= b.height
    ? { type: 'WIDTH' as const, value: Math.max(1, Math.min(maxSide, Math.round(b.width))) }
    : { type: 'HEIGHT' as const, value: Math.max(1, Math.min(maxSide, Math.round(b.height))) };
  try {
    return await node.exportAsync({ format: 'PNG', constraint, useAbsoluteBounds: true, colorProfile: 'SRGB' });
  } catch (err) {
    throw new AppError('INVALID_SELECTION', `Figma could not export the style reference '${node.name}' (${err instanceof Error ? err.message : String(err)}).`, {
      hint: 'Check that the layer is visible, or choose another style reference.',
      cause: err,
    });
  }
}

/** The selected layer (exactly one), or the layer `nodeId`, as the style reference: id, name and a thumbnail. */
export async function pickStyleAsync(figma: PluginAPI, nodeId?: string): Promise<StylePicked> {
  let node: SceneNode;
  if (nodeId) {
    node = await styleNodeAsync(figma, nodeId);
  } else {
    const sel = figma.currentPage.selection;
    if (sel.length === 0) {
      throw new AppError('INVALID_SELECTION', 'Nothing is selected to use as the style reference.', {
        hint: 'Select the image whose look you want, then press “Use selection”.',
      });
    }
    if (sel.length > 1) {
      throw new AppError('INVALID_SELECTION', `${sel.length} layers are selected; the style reference is one image.`, {
        hint: 'Select only the image whose look you want, then press “Use selection”.',
      });
    }
    node = sel[0] as SceneNode;
    const problem = styleProblem(node);
    if (problem) throw new AppError('INVALID_SELECTION', problem);
  }
  let thumbnail: Uint8Array | undefined;
  try {
    thumbnail = await exportFitAsync(node, THUMBNAIL_SIDE);
  } catch {
    thumbnail = undefined; // the control still names the layer
  }
  return { nodeId: node.id, name: node.name.slice(0, 1000), ...(thumbnail && thumbnail.length >= 8 ? { thumbnail } : {}) };
}

/** The style reference's pixels for a job: the layer at its own aspect, at most STYLE_MAX_SIDE px a side. */
export async function exportStyleAsync(figma: PluginAPI, nodeId: string): Promise<{ png: Uint8Array; width: number; height: number; nodeId: string }> {
  const node = await styleNodeAsync(figma, nodeId);
  const png = await exportFitAsync(node, STYLE_MAX_SIDE);
  let size: { width: number; height: number };
  try {
    size = await figma.createImage(png).getSizeAsync(); // Figma's own size of its export: no decoding here
  } catch (err) {
    throw new AppError('IMAGE_DECODE_FAILED', `Figma could not read its own export of the style reference '${node.name}'.`, { hint: 'Try again, or choose another style reference.', cause: err });
  }
  return { png, width: size.width, height: size.height, nodeId: node.id };
}
