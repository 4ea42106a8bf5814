/// <reference path="../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * Reads the Figma selection: which node is the source, which shapes are the inpaint mask, which modes can run,
 * and what is wrong with it (in plain words). Reads nodes only; never writes.
 *
 * Rules (first match wins):
 * - nothing selected → Generate (the result goes in the middle of the view);
 * - a mask layer (`isMask`) selected with the layers it masks, or a frame/group whose children include a mask
 *   layer → Inpaint inside the mask shape;
 * - one image/frame plus shapes, vectors or text above it in z-order that overlap it → Inpaint (the shapes are the mask);
 * - one frame/group whose visible content is mostly vectors, shapes and text (images cover < 30 % of it) → Wireframe;
 * - one frame, image or shape → Edit.
 * Generate is always available: with a usable selection its result covers the selected node.
 */
import { FIGMA_MAX_IMAGE_SIDE, type Mode, type NodeSummary, type SelectionInfo } from '../protocol/messages';
import { overlapArea, type Box } from './geometry';

export const CONTAINER_TYPES: ReadonlySet<string> = new Set(['FRAME', 'GROUP', 'COMPONENT', 'COMPONENT_SET', 'INSTANCE', 'SECTION']);
export const SHAPE_TYPES: ReadonlySet<string> = new Set(['RECTANGLE', 'ELLIPSE', 'POLYGON', 'STAR', 'VECTOR', 'LINE', 'BOOLEAN_OPERATION']);
/** Node types that can be a job's source. */
export const SOURCE_TYPES: ReadonlySet<string> = new Set([...CONTAINER_TYPES, ...SHAPE_TYPES, 'TEXT']);
/** Node types whose geometry can be an inpaint mask. */
export const MASK_TYPES: ReadonlySet<string> = new Set([...SHAPE_TYPES, 'TEXT']);

/** Share of a container's area that images may cover before it stops counting as a wireframe. */
export const WIREFRAME_MAX_IMAGE_SHARE = 0.3;
/** Descendants inspected per container (classification and outlines). */
export const MAX_WALK_NODES = 5000;

export interface SelectionPlan {
  readonly info: SelectionInfo;
  /** The node the job reads and the result covers (null: nothing usable selected). */
  readonly source: SceneNode | null;
  /** Inpaint mask nodes (shapes over the source, or mask layers). */
  readonly maskNodes: readonly SceneNode[];
  /** Set when the selection cannot be used (same text as info.problem). */
  readonly problem: string | null;
}

/** Absolute bounds of a node (canvas coordinates). */
export function absoluteBox(node: SceneNode): Box {
  const b = node.absoluteBoundingBox;
  if (b) return { x: b.x, y: b.y, width: b.width, height: b.height };
  const t = node.absoluteTransform;
  return { x: t[0][2], y: t[1][2], width: node.width, height: node.height };
}

export const hasImageFill = (node: BaseNode): boolean =>
  'fills' in node && Array.isArray(node.fills) && (node.fills as readonly Paint[]).some((p) => p.type === 'IMAGE' && p.visible !== false);

const upToPage = (node: BaseNode): BaseNode[] => {
  const chain: BaseNode[] = [];
  for (let n: BaseNode | null = node; n && n.type !== 'PAGE' && n.type !== 'DOCUMENT'; n = n.parent) chain.push(n);
  return chain;
};

export const isHidden = (node: SceneNode): boolean => upToPage(node).some((n) => 'visible' in n && n.visible === false);
export const isLocked = (node: SceneNode): boolean => upToPage(node).some((n) => 'locked' in n && n.locked === true);

/** The page a node is on (null when detached). */
export function pageOf(node: BaseNode): PageNode | null {
  for (let n: BaseNode | null = node; n; n = n.parent) if (n.type === 'PAGE') return n;
  return null;
}

const round = (v: number): number => Math.round(v * 100) / 100;

/** "Frame", "Image", "Rectangle", "Boolean operation"… */
export function kindLabel(node: SceneNode): string {
  if (node.type !== 'FRAME' && node.type !== 'TEXT' && hasImageFill(node)) return 'Image';
  const t = node.type.toLowerCase().replace(/_/g, ' ');
  return t.charAt(0).toUpperCase() + t.slice(1);
}

export const describeNode = (node: SceneNode): string => {
  const b = absoluteBox(node);
  return `${kindLabel(node)} '${node.name}' ${Math.round(b.width)}×${Math.round(b.height)}`;
};

const summary = (node: SceneNode): NodeSummary => {
  const b = absoluteBox(node);
  return { id: node.id, name: node.name.slice(0, 1000), type: node.type, width: round(b.width), height: round(b.height) };
};

/** Why `node` cannot be a job's source, or null. */
export function sourceProblem(node: SceneNode): string | null {
  const name = `'${node.name}'`;
  if (!SOURCE_TYPES.has(node.type)) {
    return `${name} is a ${node.type.toLowerCase().replace(/_/g, ' ')} layer, which can't be used. Select a frame, an image or a shape.`;
  }
  if (node.removed) return `${name} was deleted.`;
  if (isHidden(node)) return `${name} is hidden. Show it (or select a visible layer) first.`;
  if (isLocked(node)) return `${name} is locked. Unlock it first.`;
  const b = absoluteBox(node);
  if (!(b.width >= 1) || !(b.height >= 1)) return `${name} has no size (${round(b.width)}×${round(b.height)}); it needs at least 1×1.`;
  if (b.width > FIGMA_MAX_IMAGE_SIDE || b.height > FIGMA_MAX_IMAGE_SIDE) {
    return `${name} is ${Math.round(b.width)}×${Math.round(b.height)}; a source can be at most ${FIGMA_MAX_IMAGE_SIDE} px per side. Select a smaller frame or scale it down.`;
  }
  return null;
}

/** Why `node` cannot be part of an inpaint mask, or null. */
export function maskProblem(node: SceneNode): string | null {
  if (node.removed) return `'${node.name}' was deleted.`;
  if ('isMask' in node && node.isMask) return null;
  if (!MASK_TYPES.has(node.type)) {
    return `'${node.name}' (${node.type.toLowerCase().replace(/_/g, ' ')}) can't be a mask. Use a shape, vector or text over the image.`;
  }
  return null;
}

/** Index path from the page: ancestors sort before descendants; later siblings are above earlier ones. */
function zPath(node: BaseNode): number[] {
  const path: number[] = [];
  for (let n: BaseNode = node; n.parent && n.type !== 'PAGE'; n = n.parent) {
    path.unshift((n.parent as ChildrenMixin & BaseNode).children.indexOf(n as SceneNode));
  }
  return path;
}

/** Compares z-order: negative when `a` is drawn below `b`. */
export function compareZ(a: BaseNode, b: BaseNode): number {
  const pa = zPath(a);
  const pb = zPath(b);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return pa.length - pb.length;
}

/**
 * Visits visible descendants (not the root), depth first, skipping hidden subtrees and the operands of boolean
 * operations (their result is the shape); stops after `limit` nodes.
 */
export function visibleDescendants(root: SceneNode, limit = MAX_WALK_NODES): SceneNode[] {
  const out: SceneNode[] = [];
  const walk = (node: SceneNode): void => {
    if (!('children' in node) || (node !== root && node.type === 'BOOLEAN_OPERATION')) return;
    for (const child of node.children) {
      if (out.length >= limit) return;
      if (!child.visible) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

/** Mask layers among a container's direct children. */
const maskChildren = (node: SceneNode): SceneNode[] =>
  'children' in node ? node.children.filter((c) => 'isMask' in c && c.isMask && c.visible) : [];

/** How much of a container is image and how many outline-able leaves it has. */
export function contentMix(root: SceneNode): { imageShare: number; outlineCount: number } {
  const box = absoluteBox(root);
  const area = box.width * box.height;
  if (hasImageFill(root)) return { imageShare: 1, outlineCount: visibleDescendants(root).length };
  let imageArea = 0;
  let outlineCount = 0;
  for (const n of visibleDescendants(root)) {
    if ('isMask' in n && n.isMask) continue;
    if (hasImageFill(n)) imageArea += overlapArea(absoluteBox(n), box);
    else if (MASK_TYPES.has(n.type) || (CONTAINER_TYPES.has(n.type) && n.type !== 'GROUP')) outlineCount++;
  }
  return { imageShare: area > 0 ? Math.min(1, imageArea / area) : 0, outlineCount };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function planOf(
  selection: readonly SceneNode[],
  proposedMode: Mode,
  availableModes: Mode[],
  hint: string,
  source: SceneNode | null,
  maskNodes: SceneNode[],
  problem: string | null,
): SelectionPlan {
  // Boost (super-resolution) works on anything Edit can read.
  const modes: Mode[] = availableModes.includes('edit') && !availableModes.includes('boost') ? [...availableModes, 'boost'] : availableModes;
  const info: SelectionInfo = {
    proposedMode,
    availableModes: problem ? ['generate'] : modes,
    nodes: selection.slice(0, 10000).map(summary),
    hint: hint.slice(0, 500),
  };
  if (problem) info.problem = problem.slice(0, 500);
  else if (source) info.source = summary(source);
  return { info, source: problem ? null : source, maskNodes: problem ? [] : maskNodes, problem };
}

/** Classifies a selection (figma.currentPage.selection, in any order). Reads only. */
export function planSelection(selection: readonly SceneNode[]): SelectionPlan {
  if (selection.length === 0) {
    return planOf(selection, 'generate', ['generate'], 'Nothing selected — a new image goes in the middle of the view', null, [], null);
  }
  const masks = selection.filter((n) => 'isMask' in n && n.isMask);
  const others = [...selection.filter((n) => !masks.includes(n))].sort(compareZ);

  // A mask layer selected with what it masks (or alone: its parent is the image).
  if (masks.length > 0) {
    let source: SceneNode | null = others[0] ?? null;
    if (!source) {
      const parent = masks[0]!.parent;
      source = parent && parent.type !== 'PAGE' && parent.type !== 'DOCUMENT' ? (parent as SceneNode) : null;
    }
    const hint = source ? `${describeNode(source)} + mask '${masks[0]!.name}'` : `Mask '${masks[0]!.name}'`;
    if (!source) return planOf(selection, 'inpaint', [], hint, null, [], `The mask layer '${masks[0]!.name}' has nothing under it to change. Select it together with the image it masks.`);
    if (others.length > 1) {
      return planOf(selection, 'inpaint', [], hint, null, [], `Select one image or frame with its mask; ${others.length} other layers are selected.`);
    }
    const problem = sourceProblem(source);
    return planOf(selection, 'inpaint', ['generate', 'edit', 'inpaint'], hint, source, masks, problem);
  }

  if (others.length === 1) {
    const node = others[0]!;
    const problem = sourceProblem(node);
    const hint = describeNode(node);
    if (problem) return planOf(selection, 'edit', [], hint, null, [], problem);
    const innerMasks = maskChildren(node);
    if (innerMasks.length > 0) {
      return planOf(selection, 'inpaint', ['generate', 'edit', 'inpaint', 'wireframe'], `${hint} + mask '${innerMasks[0]!.name}'`, node, innerMasks, null);
    }
    if (CONTAINER_TYPES.has(node.type)) {
      const mix = contentMix(node);
      const modes: Mode[] = mix.outlineCount > 0 ? ['generate', 'edit', 'wireframe'] : ['generate', 'edit'];
      const wire = mix.outlineCount > 0 && mix.imageShare < WIREFRAME_MAX_IMAGE_SHARE;
      return planOf(selection, wire ? 'wireframe' : 'edit', modes, hint, node, [], null);
    }
    const modes: Mode[] = hasImageFill(node) || node.type === 'TEXT' ? ['generate', 'edit'] : ['generate', 'edit', 'wireframe'];
    return planOf(selection, 'edit', modes, hint, node, [], null);
  }

  // Several layers: the bottom one is the image, the ones above it are the mask.
  const [source, ...rest] = others as [SceneNode, ...SceneNode[]];
  // Frames and images among them are not mask shapes: name what is selected as it is.
  const hint = rest.some((m) => CONTAINER_TYPES.has(m.type) || hasImageFill(m))
    ? `${plural(others.length, 'layer')} selected: ${others.slice(0, 3).map((n) => `${kindLabel(n)} '${n.name}'`).join(', ')}${others.length > 3 ? '…' : ''}`
    : `${describeNode(source)} + ${plural(rest.length, 'mask shape')}`;
  const problem = sourceProblem(source);
  if (problem) return planOf(selection, 'inpaint', [], hint, null, [], problem);
  const sourceBox = absoluteBox(source);
  // Several images or frames (e.g. the results of a batch, selected after it): nothing wrong with that, but the
  // only mode is Generate (a new image in the view); Inpaint needs one image and shapes over it.
  if (rest.some((m) => CONTAINER_TYPES.has(m.type) || hasImageFill(m))) return planOf(selection, 'generate', ['generate'], hint, null, [], null);
  for (const m of rest) {
    const mp = maskProblem(m);
    if (mp) return planOf(selection, 'inpaint', [], hint, null, [], mp);
    const mb = absoluteBox(m);
    const touches = overlapArea(mb, sourceBox) > 0 || (mb.width === 0 || mb.height === 0
      ? mb.x <= sourceBox.x + sourceBox.width && mb.x + mb.width >= sourceBox.x && mb.y <= sourceBox.y + sourceBox.height && mb.y + mb.height >= sourceBox.y
      : false);
    if (!touches) return planOf(selection, 'inpaint', [], hint, null, [], `'${m.name}' does not overlap '${source.name}'. Move the mask shape over the image.`);
  }
  return planOf(selection, 'inpaint', ['generate', 'edit', 'inpaint'], hint, source, rest, null);
}
