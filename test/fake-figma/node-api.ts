/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * The node objects plugin code sees: views over document-model records, shaped like @figma/plugin-typings
 * (a GroupNode has no `fills`, a RectangleNode no `children`, …). Like Figma's host objects they are not
 * extensible (assigning an unknown property throws), read-only properties reject writes, paint arrays come back
 * frozen (assignment replaces them), and any access to a removed node throws "The node with id … does not exist".
 */
import { encodePng } from '../../ui/core/image';
import { affineScale, type Affine } from '../../ui/core/raster/affine';
import {
  absoluteBoundingBoxOf, absoluteTransformOf, autoSizeText, containerOf, fillGeometryOf, groupBox, keepAbsolutePosition,
  newRecord, pageOf, recordMutation, relativeTransformOf, renderBoundsOf, scalePathData, sizeOf, strokeGeometryOf,
  translatePathData, translateRecord, vectorPathsBounds, type Box, type DocState, type FakeNodeType, type NodeRecord,
} from './document-model';
import { renderRecords } from './render-scene';

/** Largest export side the fake renders (Figma documents no limit; this keeps test memory sane). */
export const MAX_EXPORT_SIDE = 8192;
/** Per-entry plugin data limit: pluginId/namespace + key + value, UTF-8 bytes ("cannot exceed 100 kB"). */
export const PLUGIN_DATA_ENTRY_LIMIT = 100_000;

export interface NodeApiContext {
  readonly doc: DocState;
  readonly mixed: symbol;
  /** Called after a page's selection changed (the fake emits 'selectionchange' for the current page). */
  selectionChanged(page: NodeRecord): void;
  /** Relaunch commands allowed by the manifest (undefined: any). */
  readonly relaunchCommands: ReadonlySet<string> | undefined;
}

const ALWAYS_READABLE = new Set<PropertyKey>(['id', 'removed', 'toString', 'then', 'toJSON']);

const utf8Length = (s: string): number => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) { n += 4; i++; }
    else n += 3;
  }
  return n;
};

const describe = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'symbol') return v.toString();
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
};

function expectNumber(prop: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`in set_${prop}: Expected a finite number, got ${describe(v)}`);
  if (v < min || v > max) throw new Error(`in set_${prop}: Expected ${prop} to be between ${min} and ${max}, got ${v}`);
  return v;
}

function expectOneOf<T extends string>(prop: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new Error(`in set_${prop}: Invalid enum value: expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(v)}`);
  }
  return v as T;
}

function expectTransform(prop: string, v: unknown): Affine {
  const ok = Array.isArray(v) && v.length === 2 && v.every((row) => Array.isArray(row) && row.length === 3 && row.every((x) => typeof x === 'number' && Number.isFinite(x)));
  if (!ok) throw new Error(`in set_${prop}: Expected a Transform [[a, c, e], [b, d, f]] of finite numbers, got ${describe(v)}`);
  const m = v as number[][];
  return [[m[0]![0]!, m[0]![1]!, m[0]![2]!], [m[1]![0]!, m[1]![1]!, m[1]![2]!]];
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

const unit = (prop: string, v: unknown): number => expectNumber(prop, v, 0, 1);

function normalizeColor(prop: string, v: unknown, withAlpha: boolean): RGBA | RGB {
  if (!v || typeof v !== 'object') throw new Error(`in set_${prop}: Expected a color object {r, g, b${withAlpha ? ', a' : ''}}, got ${describe(v)}`);
  const c = v as Record<string, unknown>;
  const rgb = { r: unit(`${prop}.r`, c.r), g: unit(`${prop}.g`, c.g), b: unit(`${prop}.b`, c.b) };
  return withAlpha ? { ...rgb, a: unit(`${prop}.a`, c.a ?? 1) } : rgb;
}

/** Validates one paint and fills in Figma's defaults (visible, opacity, blendMode). */
function normalizePaint(doc: DocState, prop: string, v: unknown): Paint {
  if (!v || typeof v !== 'object') throw new Error(`in set_${prop}: Expected a paint object, got ${describe(v)}`);
  const p = v as Record<string, unknown>;
  const common = {
    visible: p.visible === undefined ? true : Boolean(p.visible),
    opacity: p.opacity === undefined ? 1 : unit(`${prop}.opacity`, p.opacity),
    blendMode: (p.blendMode ?? 'NORMAL') as BlendMode,
  };
  switch (p.type) {
    case 'SOLID':
      return { type: 'SOLID', color: normalizeColor(`${prop}.color`, p.color, false) as RGB, ...common };
    case 'IMAGE': {
      const scaleMode = expectOneOf(`${prop}.scaleMode`, p.scaleMode, ['FILL', 'FIT', 'CROP', 'TILE'] as const);
      const imageHash = p.imageHash ?? null;
      if (imageHash !== null && typeof imageHash !== 'string') throw new Error(`in set_${prop}: Expected imageHash to be a string or null, got ${describe(imageHash)}`);
      if (typeof imageHash === 'string' && !doc.images.get(imageHash)) {
        throw new Error(`in set_${prop}: Image with hash ${imageHash} does not exist (create it with figma.createImage first)`);
      }
      const out: Record<string, unknown> = { type: 'IMAGE', scaleMode, imageHash, ...common };
      if (p.imageTransform !== undefined) out.imageTransform = expectTransform(`${prop}.imageTransform`, p.imageTransform);
      if (p.scalingFactor !== undefined) out.scalingFactor = expectNumber(`${prop}.scalingFactor`, p.scalingFactor, 0);
      if (p.rotation !== undefined) out.rotation = expectNumber(`${prop}.rotation`, p.rotation);
      if (p.filters !== undefined) out.filters = { ...(p.filters as object) };
      return out as unknown as ImagePaint;
    }
    case 'GRADIENT_LINEAR':
    case 'GRADIENT_RADIAL':
    case 'GRADIENT_ANGULAR':
    case 'GRADIENT_DIAMOND': {
      const stops = p.gradientStops;
      if (!Array.isArray(stops) || stops.length < 1) throw new Error(`in set_${prop}: Expected gradientStops to be a non-empty array`);
      return {
        type: p.type,
        gradientTransform: expectTransform(`${prop}.gradientTransform`, p.gradientTransform),
        gradientStops: stops.map((s: Record<string, unknown>, i) => ({
          position: unit(`${prop}.gradientStops[${i}].position`, s.position),
          color: normalizeColor(`${prop}.gradientStops[${i}].color`, s.color, true) as RGBA,
        })),
        ...common,
      } as unknown as GradientPaint;
    }
    default:
      throw new Error(`in set_${prop}: Unsupported paint type ${describe(p.type)} (fake-figma supports SOLID, IMAGE and GRADIENT_*)`);
  }
}

function normalizePaints(ctx: NodeApiContext, prop: string, v: unknown): ReadonlyArray<Paint> {
  if (v === ctx.mixed) throw new Error(`in set_${prop}: Cannot set ${prop} to figma.mixed`);
  if (!Array.isArray(v)) throw new Error(`in set_${prop}: Expected an array of paints, got ${describe(v)}`);
  return deepFreeze(v.map((p, i) => normalizePaint(ctx.doc, `${prop}[${i}]`, p)));
}

function normalizeVectorPaths(v: unknown): VectorPaths {
  if (!Array.isArray(v)) throw new Error(`in set_vectorPaths: Expected an array of {windingRule, data}, got ${describe(v)}`);
  return deepFreeze(v.map((p: Record<string, unknown>, i) => {
    const windingRule = expectOneOf(`vectorPaths[${i}].windingRule`, p?.windingRule, ['NONZERO', 'EVENODD', 'NONE'] as const);
    if (typeof p.data !== 'string') throw new Error(`in set_vectorPaths: Expected vectorPaths[${i}].data to be path data, got ${describe(p.data)}`);
    // validates the path (throws on bad data, like Figma's parser)
    vectorPathsBounds([{ windingRule, data: p.data }]);
    return { windingRule, data: p.data };
  }));
}

const fontKey = (f: FontName): string => `${f.family}\u0000${f.style}`;

const boxOut = (b: Box): Rect => ({ x: b.x, y: b.y, width: b.width, height: b.height });

type Descriptors = Record<string, PropertyDescriptor>;

/** The public object for a record (created once, then cached on the record). */
export function apiOf<T extends BaseNode = BaseNode>(ctx: NodeApiContext, rec: NodeRecord): T {
  if (!rec.api) rec.api = buildApi(ctx, rec);
  return rec.api as T;
}

/** The record behind a public node object, or an Error naming the bad value. */
export function recordOf(ctx: NodeApiContext, node: unknown, what = 'node'): NodeRecord {
  const id = node && typeof node === 'object' ? (node as { id?: unknown }).id : undefined;
  const rec = typeof id === 'string' ? ctx.doc.nodes.get(id) : undefined;
  if (!rec || rec.api !== node) throw new Error(`Expected ${what} to be a node of this document, got ${describe(node)}`);
  if (rec.removed) throw new Error(`The node with id "${rec.id}" does not exist`);
  return rec;
}

function isAncestor(a: NodeRecord, b: NodeRecord): boolean {
  for (let p: NodeRecord | null = b; p; p = p.parent) if (p === a) return true;
  return false;
}

function detach(ctx: NodeApiContext, rec: NodeRecord): void {
  const parent = rec.parent;
  if (!parent?.children) return;
  const i = parent.children.indexOf(rec);
  if (i >= 0) parent.children.splice(i, 1);
  rec.parent = null;
  const page = pageOf(parent);
  if (page) {
    const before = page.selection.length;
    page.selection = page.selection.filter((s) => !isAncestor(rec, s));
    if (page.selection.length !== before) ctx.selectionChanged(page);
  }
  // Figma deletes a group that loses its last child.
  if (parent.type === 'GROUP' && parent.children.length === 0) removeRecord(ctx, parent);
}

export function removeRecord(ctx: NodeApiContext, rec: NodeRecord): void {
  if (rec.removed) return;
  detach(ctx, rec);
  const mark = (r: NodeRecord): void => {
    r.removed = true;
    for (const k of r.children ?? []) mark(k);
  };
  mark(rec);
  recordMutation(ctx.doc, 'remove', rec);
}

/** Inserts `child` into `parent` at `index` (end when undefined), keeping its relative transform (appendChild). */
export function insertRecord(ctx: NodeApiContext, parent: NodeRecord, child: NodeRecord, index?: number): void {
  if (!parent.children) throw new Error(`Node ${parent.id} (${parent.type}) cannot have children`);
  if (child.type === 'DOCUMENT') throw new Error('Cannot move the document node');
  if (child.type === 'PAGE' && parent.type !== 'DOCUMENT') throw new Error('in appendChild: A page can only be a child of the document');
  if (parent.type === 'DOCUMENT' && child.type !== 'PAGE') throw new Error('in appendChild: Only pages can be children of the document');
  if (isAncestor(child, parent)) throw new Error('in appendChild: Cannot move node. A node cannot be parented to itself or its own descendant');
  let at = index ?? parent.children.length;
  const sameParent = child.parent === parent;
  const oldIndex = sameParent ? parent.children.indexOf(child) : -1;
  const limit = parent.children.length - (sameParent ? 1 : 0);
  if (!Number.isInteger(at) || at < 0 || at > limit + (sameParent ? 1 : 0)) {
    throw new Error(`in insertChild: Index ${String(index)} is out of range: expected 0 to ${parent.children.length}`);
  }
  if (sameParent) {
    parent.children.splice(oldIndex, 1);
    if (oldIndex < at) at--;
    parent.children.splice(Math.min(at, parent.children.length), 0, child);
  } else {
    if (child.parent) detach(ctx, child);
    parent.children.splice(at, 0, child);
    child.parent = parent;
  }
  recordMutation(ctx.doc, 'reparent', child);
}

function checkPluginDataEntry(prefix: string, key: string, value: string, fn: string): void {
  if (typeof key !== 'string') throw new Error(`in ${fn}: Expected key to be a string, got ${describe(key)}`);
  if (typeof value !== 'string') throw new Error(`in ${fn}: Expected value to be a string, got ${describe(value)}`);
  const size = utf8Length(prefix) + utf8Length(key) + utf8Length(value);
  if (size > PLUGIN_DATA_ENTRY_LIMIT) {
    throw new Error(`in ${fn}: Total entry size (${size} bytes) exceeds the 100 kB limit for key "${key}"`);
  }
}

function findAllIn(ctx: NodeApiContext, rec: NodeRecord, pred: (n: SceneNode) => boolean): SceneNode[] {
  const out: SceneNode[] = [];
  const walk = (r: NodeRecord): void => {
    for (const k of r.children ?? []) {
      const api = apiOf<SceneNode>(ctx, k);
      if (pred(api)) out.push(api);
      walk(k);
    }
  };
  walk(rec);
  return out;
}

function buildApi(ctx: NodeApiContext, rec: NodeRecord): BaseNode {
  const { doc } = ctx;
  const t = rec.type;
  const d: Descriptors = {};
  const ro = (name: string, get: () => unknown): void => { d[name] = { get, enumerable: true, configurable: false }; };
  const rw = (name: string, get: () => unknown, set: (v: unknown) => void, mutates = true): void => {
    d[name] = {
      get,
      set: (v: unknown) => {
        set(v);
        if (mutates) recordMutation(doc, 'set', rec, name);
      },
      enumerable: true,
      configurable: false,
    };
  };
  const fn = (name: string, value: (...args: never[]) => unknown): void => { d[name] = { value, enumerable: false, writable: false, configurable: false }; };
  let autoRename = t === 'TEXT';

  const isScene = t !== 'DOCUMENT' && t !== 'PAGE';
  const hasGeometry = t === 'RECTANGLE' || t === 'ELLIPSE' || t === 'VECTOR' || t === 'TEXT' || t === 'FRAME';
  const hasChildren = rec.children !== null;
  const requireLoaded = (what: string): void => {
    if (t === 'PAGE' && doc.documentAccess === 'dynamic-page' && !rec.loaded && rec !== doc.currentPage) {
      throw new Error(`in ${what}: Cannot access children on a page that has not been explicitly loaded. Remember to call \`await page.loadAsync()\` or \`await figma.loadAllPagesAsync()\` first.`);
    }
  };
  const requireFont = (what: string): void => {
    if (!doc.loadedFonts.has(fontKey(rec.fontName))) {
      throw new Error(`in set_${what}: Cannot write to node with unloaded font "${rec.fontName.family} ${rec.fontName.style}". Please call figma.loadFontAsync({ family: "${rec.fontName.family}", style: "${rec.fontName.style}" }) and await the returned promise first.`);
    }
  };

  // ---- BaseNode -------------------------------------------------------------------------------------------
  ro('id', () => rec.id);
  ro('type', () => rec.type);
  rw('name', () => rec.name, (v) => {
    if (typeof v !== 'string') throw new Error(`in set_name: Expected a string, got ${describe(v)}`);
    rec.name = v;
    autoRename = false;
  });
  ro('parent', () => (rec.parent ? apiOf(ctx, rec.parent) : null));
  ro('removed', () => rec.removed);
  fn('toString', () => `[Node ${rec.id}]`);
  fn('remove', () => {
    if (t === 'DOCUMENT') throw new Error('in remove: Cannot remove the document');
    if (t === 'PAGE' && (doc.root.children?.length ?? 0) <= 1) throw new Error('in remove: Cannot remove the last page of a document');
    if (t === 'PAGE' && rec === doc.currentPage) throw new Error('in remove: Cannot remove the current page');
    removeRecord(ctx, rec);
  });
  fn('getPluginData', (key: string) => {
    if (typeof key !== 'string') throw new Error(`in getPluginData: Expected key to be a string, got ${describe(key)}`);
    return rec.pluginData.get(key) ?? '';
  });
  fn('setPluginData', (key: string, value: string) => {
    checkPluginDataEntry(doc.pluginId, key, value, 'setPluginData');
    if (value === '') rec.pluginData.delete(key);
    else rec.pluginData.set(key, value);
    recordMutation(doc, 'pluginData', rec, key);
  });
  fn('getPluginDataKeys', () => [...rec.pluginData.keys()]);
  fn('getSharedPluginData', (namespace: string, key: string) => rec.sharedPluginData.get(namespace)?.get(key) ?? '');
  fn('setSharedPluginData', (namespace: string, key: string, value: string) => {
    if (typeof namespace !== 'string' || !/^[A-Za-z0-9_.-]{3,}$/.test(namespace)) {
      throw new Error(`in setSharedPluginData: Namespace ${describe(namespace)} must be at least 3 alphanumeric characters`);
    }
    checkPluginDataEntry(namespace, key, value, 'setSharedPluginData');
    let ns = rec.sharedPluginData.get(namespace);
    if (!ns) rec.sharedPluginData.set(namespace, (ns = new Map()));
    if (value === '') ns.delete(key);
    else ns.set(key, value);
    recordMutation(doc, 'sharedPluginData', rec, `${namespace}:${key}`);
  });
  fn('getSharedPluginDataKeys', (namespace: string) => [...(rec.sharedPluginData.get(namespace)?.keys() ?? [])]);
  fn('setRelaunchData', (data: { [command: string]: string }) => {
    if (!data || typeof data !== 'object' || Array.isArray(data)) throw new Error(`in setRelaunchData: Expected an object {command: description}, got ${describe(data)}`);
    const next: Record<string, string> = {};
    for (const [command, description] of Object.entries(data)) {
      if (typeof description !== 'string') throw new Error(`in setRelaunchData: Expected the description of "${command}" to be a string, got ${describe(description)}`);
      if (ctx.relaunchCommands && !ctx.relaunchCommands.has(command)) {
        throw new Error(`in setRelaunchData: The relaunch command "${command}" is not declared in manifest.json relaunchButtons (declared: ${[...ctx.relaunchCommands].join(', ') || 'none'})`);
      }
      next[command] = description;
    }
    rec.relaunchData = next;
    recordMutation(doc, 'relaunchData', rec);
  });
  fn('getRelaunchData', () => ({ ...rec.relaunchData }));

  // ---- Children --------------------------------------------------------------------------------------------
  if (hasChildren) {
    ro('children', () => {
      requireLoaded('get_children');
      return Object.freeze(rec.children!.map((k) => apiOf(ctx, k)));
    });
    fn('appendChild', (child: SceneNode) => {
      requireLoaded('appendChild');
      insertRecord(ctx, rec, recordOf(ctx, child, 'child'));
    });
    fn('insertChild', (index: number, child: SceneNode) => {
      requireLoaded('insertChild');
      insertRecord(ctx, rec, recordOf(ctx, child, 'child'), index);
    });
    const requireDocLoaded = (what: string): void => {
      if (t === 'DOCUMENT' && doc.documentAccess === 'dynamic-page' && !doc.allPagesLoaded) {
        throw new Error(`in ${what}: Cannot call ${what} on the document with documentAccess: dynamic-page. Call \`await figma.loadAllPagesAsync()\` first.`);
      }
      requireLoaded(what);
    };
    fn('findAll', (cb?: (n: SceneNode) => boolean) => {
      requireDocLoaded('findAll');
      return findAllIn(ctx, rec, cb ?? (() => true));
    });
    fn('findOne', (cb: (n: SceneNode) => boolean) => {
      requireDocLoaded('findOne');
      return findAllIn(ctx, rec, cb)[0] ?? null;
    });
    fn('findChildren', (cb?: (n: SceneNode) => boolean) => {
      requireLoaded('findChildren');
      return rec.children!.map((k) => apiOf<SceneNode>(ctx, k)).filter(cb ?? (() => true));
    });
    fn('findChild', (cb: (n: SceneNode) => boolean) => {
      requireLoaded('findChild');
      return rec.children!.map((k) => apiOf<SceneNode>(ctx, k)).find(cb) ?? null;
    });
    fn('findAllWithCriteria', (criteria: { types?: readonly string[]; pluginData?: { keys?: readonly string[] } }) => {
      requireDocLoaded('findAllWithCriteria');
      return findAllIn(ctx, rec, (n) => {
        const r = doc.nodes.get(n.id)!;
        if (criteria.types && !criteria.types.includes(r.type)) return false;
        if (criteria.pluginData) {
          const keys = criteria.pluginData.keys;
          if (keys ? !keys.some((k) => r.pluginData.has(k)) : r.pluginData.size === 0) return false;
        }
        return true;
      });
    });
  }

  // ---- Page ------------------------------------------------------------------------------------------------
  if (t === 'PAGE') {
    rw('selection', () => Object.freeze(rec.selection.filter((s) => !s.removed).map((s) => apiOf(ctx, s))), (v) => {
      if (!Array.isArray(v)) throw new Error(`in set_selection: Expected an array of nodes, got ${describe(v)}`);
      const next: NodeRecord[] = [];
      for (const n of v) {
        const r = recordOf(ctx, n, 'selection item');
        if (r.type === 'PAGE' || r.type === 'DOCUMENT') throw new Error(`in set_selection: Cannot select a ${r.type} node`);
        if (pageOf(r) !== rec) throw new Error(`in set_selection: Node ${r.id} is not on page "${rec.name}"`);
        if (!next.includes(r)) next.push(r);
      }
      const changed = next.length !== rec.selection.length || next.some((r, i) => rec.selection[i] !== r);
      rec.selection = next;
      if (changed) ctx.selectionChanged(rec);
    }, false);
    fn('loadAsync', async () => {
      rec.loaded = true;
    });
    rw('backgrounds', () => rec.backgrounds, (v) => { rec.backgrounds = normalizePaints(ctx, 'backgrounds', v); });
  }

  // ---- Scene node ------------------------------------------------------------------------------------------
  if (isScene) {
    rw('visible', () => rec.visible, (v) => { rec.visible = Boolean(v); });
    rw('locked', () => rec.locked, (v) => { rec.locked = Boolean(v); });
    rw('x', () => relativeTransformOf(rec)[0][2], (v) => {
      const x = expectNumber('x', v);
      translateRecord(rec, x - relativeTransformOf(rec)[0][2], 0);
    });
    rw('y', () => relativeTransformOf(rec)[1][2], (v) => {
      const y = expectNumber('y', v);
      translateRecord(rec, 0, y - relativeTransformOf(rec)[1][2]);
    });
    ro('width', () => sizeOf(rec).width);
    ro('height', () => sizeOf(rec).height);
    rw('rotation', () => {
      const m = relativeTransformOf(rec);
      const deg = (Math.atan2(-m[1][0], m[0][0]) * 180) / Math.PI;
      return Math.abs(deg) < 1e-9 ? 0 : deg;
    }, (v) => {
      const deg = expectNumber('rotation', v, -180, 180);
      if (t === 'GROUP') throw new Error('fake-figma: rotating groups is not implemented');
      const r = (deg * Math.PI) / 180;
      const c = Math.cos(r), s = Math.sin(r);
      rec.rt = [[c, s, rec.rt[0][2]], [-s, c, rec.rt[1][2]]];
    });
    rw('relativeTransform', () => relativeTransformOf(rec).map((row) => [...row]), (v) => {
      const m = expectTransform('relativeTransform', v);
      if (t === 'GROUP') {
        const cur = relativeTransformOf(rec);
        translateRecord(rec, m[0][2] - cur[0][2], m[1][2] - cur[1][2]);
        return;
      }
      const sx = Math.hypot(m[0][0], m[1][0]), sy = Math.hypot(m[0][1], m[1][1]);
      if (Math.abs(sx - 1) > 1e-6 || Math.abs(sy - 1) > 1e-6) {
        throw new Error('in set_relativeTransform: The transform must have unit axes (use resize() to change the size)');
      }
      rec.rt = m;
    });
    ro('absoluteTransform', () => absoluteTransformOf(rec).map((row) => [...row]));
    ro('absoluteBoundingBox', () => boxOut(absoluteBoundingBoxOf(rec)));
    ro('absoluteRenderBounds', () => {
      for (let p = rec.parent; p; p = p.parent) if (!p.visible) return null; // inside a hidden frame / group
      const b = renderBoundsOf(rec);
      return b ? boxOut(b) : null;
    });
    const resize = (w: unknown, h: unknown): void => {
      const minSide = t === 'VECTOR' ? 0 : 0.01;
      const width = expectNumber('width', w, minSide), height = expectNumber('height', h, minSide);
      if (t === 'GROUP') {
        const b = groupBox(rec);
        const fx = b.width > 0 ? width / b.width : 1, fy = b.height > 0 ? height / b.height : 1;
        const scaleKids = (r: NodeRecord): void => {
          for (const k of r.children ?? []) {
            if (k.type === 'GROUP') { scaleKids(k); continue; }
            k.rt = [[k.rt[0][0], k.rt[0][1], b.x + (k.rt[0][2] - b.x) * fx], [k.rt[1][0], k.rt[1][1], b.y + (k.rt[1][2] - b.y) * fy]];
            if (k.type === 'VECTOR') k.vectorPaths = deepFreeze(k.vectorPaths.map((p) => ({ windingRule: p.windingRule, data: scalePathData(p.data, fx, fy) })));
            k.width *= fx;
            k.height *= fy;
          }
        };
        scaleKids(rec);
      } else {
        if (t === 'VECTOR') {
          const fx = rec.width > 0 ? width / rec.width : 1, fy = rec.height > 0 ? height / rec.height : 1;
          rec.vectorPaths = deepFreeze(rec.vectorPaths.map((p) => ({ windingRule: p.windingRule, data: scalePathData(p.data, fx, fy) })));
        }
        if (t === 'TEXT') rec.textAutoResize = 'NONE';
        rec.width = width;
        rec.height = height;
      }
      recordMutation(doc, 'set', rec, 'size');
    };
    fn('resize', resize);
    fn('resizeWithoutConstraints', resize);
    rw('opacity', () => rec.opacity, (v) => { rec.opacity = unit('opacity', v); });
    rw('blendMode', () => rec.blendMode, (v) => { rec.blendMode = v as BlendMode; });
    rw('isMask', () => rec.isMask, (v) => { rec.isMask = Boolean(v); });
    rw('maskType', () => rec.maskType, (v) => { rec.maskType = expectOneOf('maskType', v, ['ALPHA', 'VECTOR', 'LUMINANCE'] as const); });
    rw('effects', () => rec.effects, (v) => {
      if (!Array.isArray(v)) throw new Error(`in set_effects: Expected an array, got ${describe(v)}`);
      rec.effects = deepFreeze(structuredClone(v));
    });
    rw('exportSettings', () => rec.exportSettings, (v) => {
      if (!Array.isArray(v)) throw new Error(`in set_exportSettings: Expected an array, got ${describe(v)}`);
      rec.exportSettings = deepFreeze(structuredClone(v));
    });
    ro('constraints', () => ({ horizontal: 'MIN', vertical: 'MIN' }));
    fn('clone', () => {
      const copy = cloneRecord(ctx, rec);
      insertRecord(ctx, doc.currentPage, copy);
      return apiOf(ctx, copy);
    });
  }

  // ---- Export ----------------------------------------------------------------------------------------------
  if (isScene || t === 'PAGE') {
    fn('exportAsync', async (settings?: ExportSettings) => {
      if (t === 'PAGE') requireLoaded('exportAsync');
      return exportRecord(ctx, rec, settings);
    });
  }

  // ---- Geometry --------------------------------------------------------------------------------------------
  if (hasGeometry) {
    rw('fills', () => rec.fills, (v) => { rec.fills = normalizePaints(ctx, 'fills', v); });
    rw('strokes', () => rec.strokes, (v) => { rec.strokes = normalizePaints(ctx, 'strokes', v); });
    rw('strokeWeight', () => rec.strokeWeight, (v) => { rec.strokeWeight = expectNumber('strokeWeight', v, 0); });
    rw('strokeAlign', () => rec.strokeAlign, (v) => { rec.strokeAlign = expectOneOf('strokeAlign', v, ['CENTER', 'INSIDE', 'OUTSIDE'] as const); });
    rw('strokeJoin', () => rec.strokeJoin, (v) => { rec.strokeJoin = expectOneOf('strokeJoin', v, ['MITER', 'BEVEL', 'ROUND'] as const); });
    rw('strokeCap', () => rec.strokeCap, (v) => { rec.strokeCap = v as StrokeCap; });
    rw('dashPattern', () => rec.dashPattern, (v) => {
      if (!Array.isArray(v)) throw new Error(`in set_dashPattern: Expected an array of numbers, got ${describe(v)}`);
      rec.dashPattern = Object.freeze(v.map((x, i) => expectNumber(`dashPattern[${i}]`, x, 0)));
    });
    ro('fillGeometry', () => deepFreeze(fillGeometryOf(rec)));
    ro('strokeGeometry', () => deepFreeze(strokeGeometryOf(rec)));
    ro('fillStyleId', () => '');
    ro('strokeStyleId', () => '');
  }
  if (t === 'RECTANGLE' || t === 'FRAME') {
    rw('cornerRadius', () => rec.cornerRadius, (v) => { rec.cornerRadius = expectNumber('cornerRadius', v, 0); });
  }
  if (t === 'FRAME') {
    rw('clipsContent', () => rec.clipsContent, (v) => { rec.clipsContent = Boolean(v); });
    ro('layoutMode', () => 'NONE');
  }
  if (t === 'ELLIPSE') {
    ro('arcData', () => ({ startingAngle: 0, endingAngle: 2 * Math.PI, innerRadius: 0 }));
  }
  if (t === 'VECTOR') {
    rw('vectorPaths', () => rec.vectorPaths, (v) => {
      const paths = normalizeVectorPaths(v);
      // Figma normalises a vector's paths to its own box: the node moves so the geometry stays in place.
      const b = vectorPathsBounds(paths);
      if (!b) {
        rec.vectorPaths = paths;
        return;
      }
      rec.vectorPaths = deepFreeze(paths.map((p) => ({ windingRule: p.windingRule, data: translatePathData(p.data, -b.x, -b.y) })));
      rec.rt = [[rec.rt[0][0], rec.rt[0][1], rec.rt[0][0] * b.x + rec.rt[0][1] * b.y + rec.rt[0][2]],
        [rec.rt[1][0], rec.rt[1][1], rec.rt[1][0] * b.x + rec.rt[1][1] * b.y + rec.rt[1][2]]];
      rec.width = b.width;
      rec.height = b.height;
    });
  }
  if (t === 'TEXT') {
    ro('hasMissingFont', () => false);
    rw('characters', () => rec.characters, (v) => {
      requireFont('characters');
      if (typeof v !== 'string') throw new Error(`in set_characters: Expected a string, got ${describe(v)}`);
      rec.characters = v;
      if (autoRename) rec.name = v;
      autoSizeText(rec);
    });
    rw('fontSize', () => rec.fontSize, (v) => {
      requireFont('fontSize');
      rec.fontSize = expectNumber('fontSize', v, 1);
      autoSizeText(rec);
    });
    rw('fontName', () => ({ ...rec.fontName }), (v) => {
      const f = v as FontName;
      if (!f || typeof f.family !== 'string' || typeof f.style !== 'string') throw new Error(`in set_fontName: Expected {family, style}, got ${describe(v)}`);
      if (!doc.loadedFonts.has(fontKey(f))) {
        throw new Error(`in set_fontName: Cannot use unloaded font "${f.family} ${f.style}". Please call figma.loadFontAsync({ family: "${f.family}", style: "${f.style}" }) and await the returned promise first.`);
      }
      rec.fontName = { family: f.family, style: f.style };
    });
    rw('textAutoResize', () => rec.textAutoResize, (v) => {
      requireFont('textAutoResize');
      rec.textAutoResize = expectOneOf('textAutoResize', v, ['NONE', 'WIDTH_AND_HEIGHT', 'HEIGHT', 'TRUNCATE'] as const);
      autoSizeText(rec);
    });
    rw('textAlignHorizontal', () => rec.textAlignHorizontal, (v) => {
      requireFont('textAlignHorizontal');
      rec.textAlignHorizontal = expectOneOf('textAlignHorizontal', v, ['LEFT', 'CENTER', 'RIGHT', 'JUSTIFIED'] as const);
    });
  }

  const target = Object.defineProperties({}, d);
  Object.preventExtensions(target);
  return new Proxy(target, {
    get(obj, prop, receiver) {
      if (rec.removed && !ALWAYS_READABLE.has(prop) && typeof prop === 'string') {
        throw new Error(`The node with id "${rec.id}" does not exist`);
      }
      return Reflect.get(obj, prop, receiver);
    },
    set(obj, prop, value) {
      if (rec.removed) throw new Error(`The node with id "${rec.id}" does not exist`);
      const desc = Object.getOwnPropertyDescriptor(obj, prop);
      if (!desc) throw new TypeError(`Cannot add property ${String(prop)}, object is not extensible (${rec.type} nodes have no "${String(prop)}")`);
      if (!desc.set) throw new TypeError(`Cannot assign to read only property '${String(prop)}' of ${rec.type} node`);
      desc.set.call(obj, value);
      return true;
    },
    defineProperty() {
      throw new TypeError(`Cannot define property on a ${rec.type} node`);
    },
    deleteProperty(_obj, prop) {
      throw new TypeError(`Cannot delete property '${String(prop)}' of a ${rec.type} node`);
    },
  }) as unknown as BaseNode;
}

/** Deep copy of a record subtree with fresh ids (not yet inserted anywhere). */
export function cloneRecord(ctx: NodeApiContext, src: NodeRecord): NodeRecord {
  const copy = newRecord(ctx.doc, src.type, src.name);
  const { id: _id, api: _api, parent: _parent, children, pluginData, sharedPluginData, ...rest } = src;
  Object.assign(copy, rest);
  copy.pluginData = new Map(pluginData);
  copy.sharedPluginData = new Map([...sharedPluginData].map(([k, v]) => [k, new Map(v)]));
  copy.relaunchData = { ...src.relaunchData };
  copy.selection = [];
  copy.children = children ? [] : null;
  for (const k of children ?? []) {
    const kc = cloneRecord(ctx, k);
    kc.parent = copy;
    copy.children!.push(kc);
  }
  recordMutation(ctx.doc, 'create', copy);
  return copy;
}

/** figma.group: wraps nodes in a new group under `parent`, keeping their page positions. */
export function groupRecords(ctx: NodeApiContext, nodes: readonly NodeRecord[], parent: NodeRecord, index?: number): NodeRecord {
  if (nodes.length === 0) throw new Error('in group: First argument must be an array of at least one node');
  const g = newRecord(ctx.doc, 'GROUP', 'Group');
  recordMutation(ctx.doc, 'create', g);
  const at = index ?? parent.children!.length;
  insertRecord(ctx, parent, g, Math.min(at, parent.children!.length));
  const container = containerOf(g);
  for (const n of nodes) {
    const abs = absoluteTransformOf(n);
    insertRecord(ctx, g, n);
    keepAbsolutePosition(n, container, abs);
  }
  return g;
}

/** exportAsync for one record (PNG only; other formats throw a clear "not implemented"). */
export async function exportRecord(ctx: NodeApiContext, rec: NodeRecord, settings?: ExportSettings): Promise<Uint8Array> {
  const s = (settings ?? { format: 'PNG' }) as ExportSettingsImage & { format: string };
  if (s.format !== 'PNG') {
    throw new Error(`fake-figma: exportAsync format ${describe(s.format)} is not implemented (only PNG)`);
  }
  const doc = ctx.doc;
  let region: Box | null;
  let nodes: NodeRecord[];
  if (rec.type === 'PAGE') {
    nodes = rec.children ?? [];
    region = null;
    for (const k of nodes) {
      const b = renderBoundsOf(k);
      if (!b) continue;
      region = region ? unionBoxes(region, b) : b;
    }
  } else {
    region = s.useAbsoluteBounds || rec.type === 'SLICE' ? absoluteBoundingBoxOf(rec) : renderBoundsOf(rec, true);
    const page = pageOf(rec);
    nodes = rec.type === 'SLICE' || s.contentsOnly === false ? (page?.children ?? []).filter((k) => k !== rec) : [rec];
  }
  if (!region || region.width <= 0 || region.height <= 0) {
    throw new Error(`in exportAsync: Node ${rec.id} has no visible content to export (empty render bounds)`);
  }
  const c = s.constraint ?? { type: 'SCALE', value: 1 };
  const value = expectNumber('constraint.value', c.value, Number.MIN_VALUE);
  const scale = c.type === 'SCALE' ? value : c.type === 'WIDTH' ? value / region.width : c.type === 'HEIGHT' ? value / region.height : NaN;
  if (!Number.isFinite(scale)) throw new Error(`in exportAsync: Unknown constraint type ${describe(c.type)} (SCALE, WIDTH or HEIGHT)`);
  const w = c.type === 'WIDTH' ? Math.round(value) : Math.max(1, Math.round(region.width * scale));
  const h = c.type === 'HEIGHT' ? Math.round(value) : Math.max(1, Math.round(region.height * scale));
  if (w > MAX_EXPORT_SIDE || h > MAX_EXPORT_SIDE || w < 1 || h < 1) {
    throw new Error(`in exportAsync: Export size ${w}×${h} is outside what fake-figma renders (1…${MAX_EXPORT_SIDE} px per side)`);
  }
  const img = renderRecords(doc, nodes, region, w, h, { forceVisible: rec.type === 'PAGE' ? null : rec });
  return encodePng(img);
}

function unionBoxes(a: Box, b: Box): Box {
  const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

export const scaleOf = affineScale;
export type { FakeNodeType };
