/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * The fake document's internal model: plain node records, the container-parent transform rules of Figma
 * (`relativeTransform` is relative to the nearest frame / page, never to a group), derived group bounds,
 * fill / stroke geometry and the mutation log. The public node objects (node-api.ts) are views over these records.
 */
import {
  IDENTITY, applyAffine, invertAffine, multiplyAffine, transformedRectBounds, translation, type Affine,
} from '../../ui/core/raster/affine';
import { flattenSegments } from '../../ui/core/raster/flatten-path';
import { formatPathData, parsePathData, segmentsBounds, transformSegments } from '../../ui/core/raster/path-data';
import { strokePolylines } from '../../ui/core/raster/stroke-polylines';
import type { ImageStore } from './image-store';

export type FakeNodeType = 'DOCUMENT' | 'PAGE' | 'FRAME' | 'GROUP' | 'RECTANGLE' | 'ELLIPSE' | 'VECTOR' | 'TEXT' | 'SLICE';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One entry of the mutation log (`host.mutations`). */
export interface Mutation {
  readonly kind: 'create' | 'remove' | 'set' | 'reparent' | 'pluginData' | 'sharedPluginData' | 'relaunchData';
  readonly nodeId: string;
  /** Property name for 'set'; key for plugin data. */
  readonly property?: string;
  /** Monotonic sequence number. */
  readonly seq: number;
}

export interface NodeRecord {
  readonly id: string;
  readonly type: FakeNodeType;
  name: string;
  parent: NodeRecord | null;
  children: NodeRecord[] | null;
  removed: boolean;
  /** Transform relative to the container parent (ignored for GROUP: derived from children). */
  rt: Affine;
  width: number;
  height: number;
  visible: boolean;
  locked: boolean;
  opacity: number;
  blendMode: BlendMode;
  isMask: boolean;
  maskType: MaskType;
  fills: ReadonlyArray<Paint>;
  strokes: ReadonlyArray<Paint>;
  strokeWeight: number;
  strokeAlign: 'CENTER' | 'INSIDE' | 'OUTSIDE';
  strokeJoin: StrokeJoin;
  strokeCap: StrokeCap;
  dashPattern: ReadonlyArray<number>;
  effects: ReadonlyArray<Effect>;
  cornerRadius: number;
  clipsContent: boolean;
  vectorPaths: VectorPaths;
  characters: string;
  fontSize: number;
  fontName: FontName;
  textAutoResize: 'NONE' | 'WIDTH_AND_HEIGHT' | 'HEIGHT' | 'TRUNCATE';
  textAlignHorizontal: 'LEFT' | 'CENTER' | 'RIGHT' | 'JUSTIFIED';
  pluginData: Map<string, string>;
  sharedPluginData: Map<string, Map<string, string>>;
  relaunchData: Record<string, string>;
  exportSettings: ReadonlyArray<ExportSettings>;
  /** Pages: loaded under dynamic-page. */
  loaded: boolean;
  selection: NodeRecord[];
  backgrounds: ReadonlyArray<Paint>;
  /** The public object handed to plugin code (set once by node-api.ts). */
  api: BaseNode | null;
}

export interface DocState {
  readonly pluginId: string;
  readonly documentAccess: 'dynamic-page' | 'full';
  readonly images: ImageStore;
  readonly nodes: Map<string, NodeRecord>;
  readonly root: NodeRecord;
  currentPage: NodeRecord;
  nextId: number;
  seq: number;
  /** Bumped on every mutation (render caches key on it). */
  version: number;
  mutations: Mutation[];
  /** Mutations since the last commitUndo (the open undo step). */
  openStep: Mutation[];
  undoHistory: { readonly mutations: readonly Mutation[] }[];
  loadedFonts: Set<string>;
  allPagesLoaded: boolean;
  onMutate: ((m: Mutation) => void)[];
}

const CONTAINER_TYPES: ReadonlySet<FakeNodeType> = new Set(['DOCUMENT', 'PAGE', 'FRAME']);

export function recordMutation(doc: DocState, kind: Mutation['kind'], node: NodeRecord, property?: string): void {
  const m: Mutation = property === undefined ? { kind, nodeId: node.id, seq: ++doc.seq } : { kind, nodeId: node.id, property, seq: ++doc.seq };
  doc.mutations.push(m);
  doc.openStep.push(m);
  doc.version++;
  for (const f of doc.onMutate) f(m);
}

export function newRecord(doc: DocState, type: FakeNodeType, name: string, idPrefix?: string): NodeRecord {
  const id = idPrefix ?? `${type === 'PAGE' ? 0 : 1}:${doc.nextId++}`;
  const rec: NodeRecord = {
    id, type, name, parent: null, children: type === 'FRAME' || type === 'GROUP' || type === 'PAGE' || type === 'DOCUMENT' ? [] : null,
    removed: false, rt: IDENTITY, width: 100, height: 100, visible: true, locked: false, opacity: 1, blendMode: 'PASS_THROUGH',
    isMask: false, maskType: 'ALPHA', fills: [], strokes: [], strokeWeight: 1, strokeAlign: 'CENTER', strokeJoin: 'MITER',
    strokeCap: 'NONE', dashPattern: [], effects: [], cornerRadius: 0, clipsContent: false, vectorPaths: [], characters: '',
    fontSize: 12, fontName: { family: 'Inter', style: 'Regular' }, textAutoResize: 'WIDTH_AND_HEIGHT', textAlignHorizontal: 'LEFT',
    pluginData: new Map(), sharedPluginData: new Map(), relaunchData: {}, exportSettings: [], loaded: true, selection: [],
    backgrounds: [], api: null,
  };
  if (type !== 'GROUP' && type !== 'PAGE' && type !== 'DOCUMENT') rec.blendMode = 'NORMAL';
  doc.nodes.set(id, rec);
  return rec;
}

export const isContainer = (r: NodeRecord): boolean => CONTAINER_TYPES.has(r.type);

/** The nearest ancestor that is a coordinate container (frame, page, document): groups are skipped. */
export function containerOf(r: NodeRecord): NodeRecord | null {
  let p = r.parent;
  while (p && !isContainer(p)) p = p.parent;
  return p;
}

export function pageOf(r: NodeRecord): NodeRecord | null {
  let p: NodeRecord | null = r;
  while (p && p.type !== 'PAGE') p = p.parent;
  return p;
}

/** Transform of a container's own coordinate space to page coordinates. */
function containerToPage(c: NodeRecord | null): Affine {
  if (!c || c.type === 'PAGE' || c.type === 'DOCUMENT') return IDENTITY;
  return absoluteTransformOf(c);
}

/** Bounds, in the container's space, of the node's (0,0,w,h) box. */
function boxInContainer(r: NodeRecord): Box {
  if (r.type === 'GROUP') return groupBox(r);
  return transformedRectBounds(r.rt, r.width, r.height);
}

/** A group's box in its container's space: the union of its children's boxes. */
export function groupBox(g: NodeRecord): Box {
  const kids = g.children ?? [];
  if (kids.length === 0) return { x: 0, y: 0, width: 0, height: 0 };
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const k of kids) {
    const b = boxInContainer(k);
    x0 = Math.min(x0, b.x); y0 = Math.min(y0, b.y);
    x1 = Math.max(x1, b.x + b.width); y1 = Math.max(y1, b.y + b.height);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** relativeTransform as Figma reports it (groups: a translation to their derived box). */
export function relativeTransformOf(r: NodeRecord): Affine {
  if (r.type === 'GROUP') {
    const b = groupBox(r);
    return translation(b.x, b.y);
  }
  if (r.type === 'PAGE' || r.type === 'DOCUMENT') return IDENTITY;
  return r.rt;
}

export function sizeOf(r: NodeRecord): { width: number; height: number } {
  if (r.type === 'GROUP') {
    const b = groupBox(r);
    return { width: b.width, height: b.height };
  }
  return { width: r.width, height: r.height };
}

/** Page-space transform of the node (Figma `absoluteTransform`). */
export function absoluteTransformOf(r: NodeRecord): Affine {
  if (r.type === 'PAGE' || r.type === 'DOCUMENT') return IDENTITY;
  return multiplyAffine(containerToPage(containerOf(r)), relativeTransformOf(r));
}

export function absoluteBoundingBoxOf(r: NodeRecord): Box {
  const s = sizeOf(r);
  return transformedRectBounds(absoluteTransformOf(r), s.width, s.height);
}

/** Moves a node by (dx, dy) in its container's space (groups move their children). */
export function translateRecord(r: NodeRecord, dx: number, dy: number): void {
  if (r.type === 'GROUP') {
    for (const k of r.children ?? []) translateRecord(k, dx, dy);
    return;
  }
  r.rt = [[r.rt[0][0], r.rt[0][1], r.rt[0][2] + dx], [r.rt[1][0], r.rt[1][1], r.rt[1][2] + dy]];
}

/** Re-expresses a node's transform for a new container so that its page position stays (figma.group semantics). */
export function keepAbsolutePosition(r: NodeRecord, newContainer: NodeRecord | null, abs: Affine): void {
  if (r.type === 'GROUP') return; // children keep theirs individually
  r.rt = multiplyAffine(invertAffine(containerToPage(newContainer)), abs);
}

// ---------------------------------------------------------------------------------------------------------------
// Geometry
// ---------------------------------------------------------------------------------------------------------------

const KAPPA = 0.5522847498307936;
const f = (v: number): string => {
  const r = Math.round(v * 10000) / 10000;
  return Object.is(r, -0) ? '0' : String(r);
};

/** A rectangle (optionally with rounded corners) as Figma-style path data. */
export function rectPathData(w: number, h: number, radius = 0): string {
  const r = Math.max(0, Math.min(radius, w / 2, h / 2));
  if (r <= 0) return `M 0 0 L ${f(w)} 0 L ${f(w)} ${f(h)} L 0 ${f(h)} L 0 0 Z`;
  const k = r * (1 - KAPPA);
  return [
    `M ${f(r)} 0`, `L ${f(w - r)} 0`, `C ${f(w - k)} 0 ${f(w)} ${f(k)} ${f(w)} ${f(r)}`,
    `L ${f(w)} ${f(h - r)}`, `C ${f(w)} ${f(h - k)} ${f(w - k)} ${f(h)} ${f(w - r)} ${f(h)}`,
    `L ${f(r)} ${f(h)}`, `C ${f(k)} ${f(h)} 0 ${f(h - k)} 0 ${f(h - r)}`,
    `L 0 ${f(r)}`, `C 0 ${f(k)} ${f(k)} 0 ${f(r)} 0`, 'Z',
  ].join(' ');
}

/** An ellipse inscribed in (0, 0, w, h) as four cubics. */
export function ellipsePathData(w: number, h: number): string {
  const rx = w / 2, ry = h / 2, cx = rx, cy = ry, kx = rx * KAPPA, ky = ry * KAPPA;
  return [
    `M ${f(w)} ${f(cy)}`,
    `C ${f(w)} ${f(cy + ky)} ${f(cx + kx)} ${f(h)} ${f(cx)} ${f(h)}`,
    `C ${f(cx - kx)} ${f(h)} 0 ${f(cy + ky)} 0 ${f(cy)}`,
    `C 0 ${f(cy - ky)} ${f(cx - kx)} 0 ${f(cx)} 0`,
    `C ${f(cx + kx)} 0 ${f(w)} ${f(cy - ky)} ${f(w)} ${f(cy)}`,
    'Z',
  ].join(' ');
}

/** Figma line height of the fake's text: 1.2 × font size. */
export const lineHeightOf = (r: NodeRecord): number => r.fontSize * 1.2;
/** Average glyph advance of the fake's text: 0.5 × font size (monospace approximation). */
export const charWidthOf = (r: NodeRecord): number => r.fontSize * 0.5;

/** Lines of a text node after wrapping to its width (when it has a fixed width). */
export function textLines(r: NodeRecord): string[] {
  const raw = r.characters.split('\n');
  if (r.textAutoResize === 'WIDTH_AND_HEIGHT') return raw;
  const maxChars = Math.max(1, Math.floor(r.width / charWidthOf(r)));
  const out: string[] = [];
  for (const line of raw) {
    let cur = '';
    for (const word of line.split(' ')) {
      const next = cur ? `${cur} ${word}` : word;
      if (next.length > maxChars && cur) {
        out.push(cur);
        cur = word;
      } else cur = next;
    }
    out.push(cur);
  }
  return out;
}

/** Recomputes an auto-sized text node's width / height from its characters. */
export function autoSizeText(r: NodeRecord): void {
  const lines = textLines(r);
  if (r.textAutoResize === 'WIDTH_AND_HEIGHT') {
    r.width = Math.max(1, Math.max(...lines.map((l) => l.length)) * charWidthOf(r));
  }
  if (r.textAutoResize === 'WIDTH_AND_HEIGHT' || r.textAutoResize === 'HEIGHT') {
    r.height = Math.max(1, lines.length) * lineHeightOf(r);
  }
}

/** The fake's glyph geometry: one block per word (x-height band), in node space. */
export function textBlocks(r: NodeRecord): Box[] {
  const cw = charWidthOf(r);
  const lh = lineHeightOf(r);
  const out: Box[] = [];
  textLines(r).forEach((line, i) => {
    const lineWidth = line.length * cw;
    const x0 = r.textAlignHorizontal === 'CENTER' ? (r.width - lineWidth) / 2 : r.textAlignHorizontal === 'RIGHT' ? r.width - lineWidth : 0;
    let col = 0;
    for (const word of line.split(' ')) {
      if (word.length > 0) out.push({ x: x0 + col * cw, y: i * lh + 0.3 * r.fontSize, width: word.length * cw, height: 0.7 * r.fontSize });
      col += word.length + 1;
    }
  });
  return out;
}

/** Figma `fillGeometry` (node space). */
export function fillGeometryOf(r: NodeRecord): VectorPath[] {
  switch (r.type) {
    case 'RECTANGLE':
    case 'FRAME':
      return [{ windingRule: 'NONZERO', data: rectPathData(r.width, r.height, r.cornerRadius) }];
    case 'ELLIPSE':
      return [{ windingRule: 'NONZERO', data: ellipsePathData(r.width, r.height) }];
    case 'VECTOR':
      return r.vectorPaths.filter((p) => p.windingRule !== 'NONE').map((p) => ({ windingRule: p.windingRule, data: p.data }));
    case 'TEXT': {
      const blocks = textBlocks(r);
      if (blocks.length === 0) return [];
      return [{
        windingRule: 'NONZERO',
        data: blocks.map((b) => `M ${f(b.x)} ${f(b.y)} L ${f(b.x + b.width)} ${f(b.y)} L ${f(b.x + b.width)} ${f(b.y + b.height)} L ${f(b.x)} ${f(b.y + b.height)} Z`).join(' '),
      }];
    }
    default:
      return [];
  }
}

/** The paths a stroke follows (node space): vectors use all their paths (open ones too), others their fill outline. */
export function strokeSourceOf(r: NodeRecord): string[] {
  if (r.type === 'VECTOR') return r.vectorPaths.map((p) => p.data);
  if (r.type === 'TEXT') return [];
  return fillGeometryOf(r).map((p) => p.data);
}

/**
 * Figma `strokeGeometry` (node space), approximated: the centred stroke outline (width = strokeWeight) as
 * polygons, whatever strokeAlign says (Figma documents strokeGeometry as "always from the center").
 */
export function strokeGeometryOf(r: NodeRecord): VectorPath[] {
  if (!r.strokes.some((p) => p.visible !== false) || r.strokeWeight <= 0) return [];
  const out: VectorPath[] = [];
  for (const d of strokeSourceOf(r)) {
    const polys = flattenSegments(parsePathData(d), 0.05);
    const outline = strokePolylines(polys, {
      width: r.strokeWeight,
      join: r.strokeJoin,
      cap: r.strokeCap === 'ROUND' ? 'ROUND' : r.strokeCap === 'SQUARE' ? 'SQUARE' : 'NONE',
    });
    if (outline.length === 0) continue;
    const data = outline.map((p) => {
      const pts = p.points;
      let s = `M ${f(pts[0]!)} ${f(pts[1]!)}`;
      for (let k = 2; k < pts.length; k += 2) s += ` L ${f(pts[k]!)} ${f(pts[k + 1]!)}`;
      return `${s} Z`;
    }).join(' ');
    out.push({ windingRule: 'NONZERO', data });
  }
  return out;
}

/** How far strokes reach outside the node's box. */
function strokeOutset(r: NodeRecord): number {
  if (!r.strokes.some((p) => p.visible !== false) || r.strokeWeight <= 0) return 0;
  if (r.type === 'VECTOR' || r.strokeAlign === 'CENTER') return r.strokeWeight / 2;
  return r.strokeAlign === 'OUTSIDE' ? r.strokeWeight : 0;
}

const unionBox = (a: Box | null, b: Box | null): Box | null => {
  if (!a) return b;
  if (!b) return a;
  const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
};

const intersectBox = (a: Box, b: Box): Box | null => {
  const x = Math.max(a.x, b.x), y = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width), y1 = Math.min(a.y + a.height, b.y + b.height);
  return x1 > x && y1 > y ? { x, y, width: x1 - x, height: y1 - y } : null;
};

/** Figma `absoluteRenderBounds`: what is actually painted (strokes included, clipped content excluded); null when nothing. */
export function renderBoundsOf(r: NodeRecord, ignoreOwnVisibility = false): Box | null {
  if (!r.visible && !ignoreOwnVisibility) return null;
  const abs = absoluteTransformOf(r);
  let own: Box | null = null;
  const paints = r.type !== 'GROUP' && (r.fills.some((p) => p.visible !== false) || r.type === 'TEXT');
  if (r.type === 'VECTOR') {
    const segs = transformSegments(r.vectorPaths.flatMap((p) => parsePathData(p.data)), abs);
    const b = segmentsBounds(segs);
    const o = strokeOutset(r);
    if (b && (paints || o > 0)) own = { x: b.x - o, y: b.y - o, width: b.width + 2 * o, height: b.height + 2 * o };
  } else if (r.type === 'TEXT') {
    own = textBlocks(r).length ? absoluteBoundingBoxOf(r) : null;
  } else if (r.type !== 'GROUP' && r.type !== 'SLICE') {
    const o = strokeOutset(r);
    if (paints || o > 0) {
      const b = absoluteBoundingBoxOf(r);
      own = { x: b.x - o, y: b.y - o, width: b.width + 2 * o, height: b.height + 2 * o };
    }
  }
  let kids: Box | null = null;
  for (const k of r.children ?? []) kids = unionBox(kids, renderBoundsOf(k));
  if (kids && r.type === 'FRAME' && r.clipsContent) kids = intersectBox(kids, absoluteBoundingBoxOf(r));
  return unionBox(own, kids);
}

/** A path's bounds (node space), for normalising vector paths. */
export function vectorPathsBounds(paths: VectorPaths): Box | null {
  return segmentsBounds(paths.flatMap((p) => parsePathData(p.data)));
}

/** Translates path data by (dx, dy). */
export function translatePathData(d: string, dx: number, dy: number): string {
  return formatPathData(transformSegments(parsePathData(d), translation(dx, dy)));
}

/** Scales path data by (sx, sy) about the origin. */
export function scalePathData(d: string, sx: number, sy: number): string {
  return formatPathData(transformSegments(parsePathData(d), [[sx, 0, 0], [0, sy, 0]]));
}

export { applyAffine };
