/// <reference path="../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * Node geometry → PathData in working-canvas pixels (inpaint masks and wireframe outlines).
 * Reads `fillGeometry` / `strokeGeometry` / `vectorPaths` (node-local, absolute M/L/Q/C/Z) and maps them with
 * `toWorking ∘ node.absoluteTransform`. Text becomes its box ('box'). Reads only.
 */
import type { PathData } from '../protocol/messages';
import { multiply, rectPath, transformPath, type Affine } from './geometry';
import { CONTAINER_TYPES, visibleDescendants } from './selection-plan';

/** Longest path data accepted per path (protocol limit). */
export const MAX_PATH_CHARS = 2_000_000;
/** Most outline paths per job. */
export const MAX_OUTLINE_PATHS = 20_000;
/** Most outline node ids per job (the recipe keeps ≤ 5000). */
export const MAX_OUTLINE_NODES = 5000;

const winding = (w: WindingRule | 'NONE'): 'NONZERO' | 'EVENODD' => (w === 'EVENODD' ? 'EVENODD' : 'NONZERO');

const visibleStrokes = (node: SceneNode): boolean =>
  'strokes' in node && Array.isArray(node.strokes) && node.strokes.some((p) => p.visible !== false) &&
  'strokeWeight' in node && (typeof node.strokeWeight !== 'number' || node.strokeWeight > 0);

const visibleFills = (node: SceneNode): boolean =>
  'fills' in node && (!Array.isArray(node.fills) || (node.fills as readonly Paint[]).some((p) => p.visible !== false));

function geometryOf(node: SceneNode, key: 'fillGeometry' | 'strokeGeometry' | 'vectorPaths'): readonly VectorPath[] {
  if (!(key in node)) return [];
  const g = (node as unknown as Record<string, unknown>)[key];
  return Array.isArray(g) ? (g as VectorPath[]) : [];
}

export interface NodePathsResult {
  readonly paths: PathData[];
  /** Paths dropped for being too long, per node name. */
  readonly skipped: string[];
}

function push(out: NodePathsResult, node: SceneNode, d: string, windingRule: 'NONZERO' | 'EVENODD', kind: PathData['kind']): void {
  if (d.length === 0) return;
  if (d.length > MAX_PATH_CHARS) {
    out.skipped.push(node.name);
    return;
  }
  out.paths.push({ d, windingRule, kind, nodeId: node.id });
}

/**
 * Paths of one node in working px. `purpose: 'mask'` always uses the fill area (the inside of an outline-only
 * shape counts) plus visible strokes; `'outline'` uses fill geometry only where fills are visible, and visible
 * strokes. Falls back to `vectorPaths`, then to the node's box.
 */
export function nodePaths(node: SceneNode, toWorking: Affine, purpose: 'mask' | 'outline', out: NodePathsResult = { paths: [], skipped: [] }): NodePathsResult {
  const m = multiply(toWorking, node.absoluteTransform as Affine);
  const before = out.paths.length;
  if (node.type === 'TEXT') {
    push(out, node, rectPath(node.width, node.height, m), 'NONZERO', 'box');
    return out;
  }
  if (CONTAINER_TYPES.has(node.type) && purpose === 'outline') {
    // A frame draws as its box when it has visible fills or strokes; otherwise it is only a layout container.
    if (node.type !== 'GROUP' && (visibleFills(node) || visibleStrokes(node))) push(out, node, rectPath(node.width, node.height, m), 'NONZERO', 'box');
    return out;
  }
  if (purpose === 'mask' || visibleFills(node)) {
    for (const g of geometryOf(node, 'fillGeometry')) push(out, node, transformPath(g.data, m), winding(g.windingRule), 'fill');
  }
  if (visibleStrokes(node)) {
    for (const g of geometryOf(node, 'strokeGeometry')) push(out, node, transformPath(g.data, m), winding(g.windingRule), 'stroke');
  }
  if (out.paths.length === before && node.type === 'VECTOR') {
    for (const g of geometryOf(node, 'vectorPaths')) push(out, node, transformPath(g.data, m), winding(g.windingRule), 'fill');
  }
  if (out.paths.length === before && purpose === 'mask') push(out, node, rectPath(node.width, node.height, m), 'NONZERO', 'box');
  return out;
}

/**
 * Wireframe outlines: every visible descendant of `root` (or `root` itself when it is a shape), mask layers
 * excluded, in working px. Capped at MAX_OUTLINE_PATHS paths / MAX_OUTLINE_NODES nodes.
 */
export function outlinePaths(root: SceneNode, toWorking: Affine): { paths: PathData[]; nodeIds: string[]; notes: string[] } {
  const nodes = CONTAINER_TYPES.has(root.type) ? visibleDescendants(root) : [root];
  const out: NodePathsResult = { paths: [], skipped: [] };
  const nodeIds: string[] = [];
  let truncated = false;
  for (const n of nodes) {
    if ('isMask' in n && n.isMask) continue;
    if (out.paths.length >= MAX_OUTLINE_PATHS || nodeIds.length >= MAX_OUTLINE_NODES) {
      truncated = true;
      break;
    }
    const before = out.paths.length;
    nodePaths(n, toWorking, 'outline', out);
    if (out.paths.length > before) nodeIds.push(n.id);
  }
  const notes: string[] = [];
  if (truncated) notes.push(`Only the first ${nodeIds.length} layers' outlines were used.`);
  if (out.skipped.length > 0) notes.push(`Skipped very complex outlines of ${out.skipped.slice(0, 3).map((s) => `'${s}'`).join(', ')}.`);
  return { paths: out.paths.slice(0, MAX_OUTLINE_PATHS), nodeIds, notes };
}
