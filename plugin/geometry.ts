/**
 * Affine transforms and SVG path data maths for the main thread. Pure (no figma, no DOM).
 * Figma transforms are 2×3 matrices `[[a, c, e], [b, d, f]]`: (x, y) → (a·x + c·y + e, b·x + d·y + f)
 * (the `Transform` type of @figma/plugin-typings). Figma path data (`fillGeometry`, `strokeGeometry`,
 * `vectorPaths`) is an SVG subset: absolute `M L Q C Z` only.
 */

import { applyAffine, invertAffine, multiplyAffine, type Affine, type Point } from '../ui/core/raster/affine';

export { IDENTITY } from '../ui/core/raster/affine';
export type { Affine, Point };

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** `m ∘ n` (apply n first, then m). The one affine implementation lives in ui/core/raster (pure, shared). */
export const multiply = multiplyAffine;
/** The inverse transform; throws on a singular matrix (zero-size or collapsed node). */
export const invert = invertAffine;
export const apply = (m: Affine, p: Point): Point => applyAffine(m, p.x, p.y);

/** Maps absolute canvas coordinates inside `bounds` to the working canvas rectangle `content` (working px). */
export function boundsToContent(bounds: Box, content: Box): Affine {
  const sx = content.width / bounds.width;
  const sy = content.height / bounds.height;
  return [[sx, 0, content.x - bounds.x * sx], [0, sy, content.y - bounds.y * sy]];
}

/** True when the transform only scales and translates (no rotation/skew). */
export const isAxisAligned = (m: Affine): boolean => Math.abs(m[0][1]) < 1e-9 && Math.abs(m[1][0]) < 1e-9;

const ARITY: Readonly<Record<string, number>> = { M: 1, L: 1, Q: 2, C: 3, Z: 0 };

/** One parsed command of absolute path data. */
export interface PathCommand {
  readonly op: 'M' | 'L' | 'Q' | 'C' | 'Z';
  readonly points: readonly Point[];
}

/**
 * Parses Figma's SVG path subset (absolute M, L, Q, C, Z; implicit repeats allowed). Throws on anything else
 * (relative commands, arcs), so a surprise never produces a silently wrong mask.
 */
export function parsePath(d: string): PathCommand[] {
  const tokens = d.match(/[MLQCZmlqczHhVvSsTtAa]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/g) ?? [];
  const out: PathCommand[] = [];
  let i = 0;
  let op: PathCommand['op'] | null = null;
  while (i < tokens.length) {
    const t = tokens[i]!;
    if (/^[A-Za-z]$/.test(t)) {
      if (!(t in ARITY)) throw new Error(`Unsupported path command "${t}" (only absolute M, L, Q, C, Z).`);
      op = t as PathCommand['op'];
      i++;
      if (op === 'Z') {
        out.push({ op, points: [] });
        op = null;
      }
      continue;
    }
    if (!op) throw new Error(`Path data starts with a number instead of a command: "${d.slice(0, 40)}".`);
    const n = ARITY[op]!;
    const points: Point[] = [];
    for (let k = 0; k < n; k++) {
      const x = Number(tokens[i++]);
      const y = Number(tokens[i++]);
      if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`Path data has a broken coordinate near "${d.slice(0, 40)}".`);
      points.push({ x, y });
    }
    out.push({ op, points });
    if (op === 'M') op = 'L'; // SVG: coordinates after M are implicit L
  }
  return out;
}

const fmt = (v: number): string => {
  const r = Math.round(v * 1000) / 1000;
  return Object.is(r, -0) ? '0' : String(r);
};

export function formatPath(cmds: readonly PathCommand[]): string {
  return cmds.map((c) => (c.op === 'Z' ? 'Z' : `${c.op} ${c.points.map((p) => `${fmt(p.x)} ${fmt(p.y)}`).join(' ')}`)).join(' ');
}

/** Applies `m` to every point of path data (affine maps keep lines, quadratics and cubics exact). */
export function transformPath(d: string, m: Affine): string {
  return formatPath(parsePath(d).map((c) => ({ op: c.op, points: c.points.map((p) => apply(m, p)) })));
}

/** A closed rectangle (0,0,w,h) in node space mapped by `m`, as path data (text boxes, frame bounds). */
export function rectPath(width: number, height: number, m: Affine): string {
  const pts = [{ x: 0, y: 0 }, { x: width, y: 0 }, { x: width, y: height }, { x: 0, y: height }].map((p) => apply(m, p));
  return formatPath([{ op: 'M', points: [pts[0]!] }, ...pts.slice(1).map((p) => ({ op: 'L' as const, points: [p] })), { op: 'Z', points: [] }]);
}

/**
 * Flattens path data into closed polygons (curves subdivided into `segments` lines each). Every subpath is
 * closed implicitly, as a fill would close it.
 */
export function flattenPath(d: string, segments = 8): Point[][] {
  const polys: Point[][] = [];
  let cur: Point[] = [];
  let start: Point = { x: 0, y: 0 };
  let pen: Point = { x: 0, y: 0 };
  const flush = (): void => {
    if (cur.length > 2) polys.push(cur);
    cur = [];
  };
  for (const c of parsePath(d)) {
    if (c.op !== 'M' && c.op !== 'Z' && cur.length === 0) cur = [pen];
    if (c.op === 'M') {
      flush();
      pen = c.points[0]!;
      start = pen;
      cur = [pen];
    } else if (c.op === 'L') {
      pen = c.points[0]!;
      cur.push(pen);
    } else if (c.op === 'Q') {
      const [p1, p2] = c.points as [Point, Point];
      const p0 = pen;
      for (let s = 1; s <= segments; s++) {
        const t = s / segments;
        const u = 1 - t;
        cur.push({ x: u * u * p0.x + 2 * u * t * p1.x + t * t * p2.x, y: u * u * p0.y + 2 * u * t * p1.y + t * t * p2.y });
      }
      pen = p2;
    } else if (c.op === 'C') {
      const [p1, p2, p3] = c.points as [Point, Point, Point];
      const p0 = pen;
      for (let s = 1; s <= segments; s++) {
        const t = s / segments;
        const u = 1 - t;
        const a = u * u * u, b = 3 * u * u * t, cc = 3 * u * t * t, e = t * t * t;
        cur.push({ x: a * p0.x + b * p1.x + cc * p2.x + e * p3.x, y: a * p0.y + b * p1.y + cc * p2.y + e * p3.y });
      }
      pen = p3;
    } else {
      flush();
      pen = start;
    }
  }
  flush();
  return polys;
}

/** Axis-aligned bounds of path data (control points included: a safe over-estimate), or null when empty. */
export function pathBounds(d: string): Box | null {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const c of parsePath(d)) {
    for (const p of c.points) {
      if (p.x < x0) x0 = p.x;
      if (p.y < y0) y0 = p.y;
      if (p.x > x1) x1 = p.x;
      if (p.y > y1) y1 = p.y;
    }
  }
  return x0 === Infinity ? null : { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

export interface CoveragePath {
  readonly d: string;
  readonly windingRule: 'NONZERO' | 'EVENODD';
}

/**
 * Fraction of the `width`×`height` canvas covered by the union of the filled paths, by exact scanline
 * crossings on `rows` sample rows (each row's covered length is exact; rows are sampled at their centres).
 * Used to reject empty and all-covering inpaint masks. Returns a value in [0, 1].
 */
export function coverage(paths: readonly CoveragePath[], width: number, height: number, rows = 256): number {
  const n = Math.max(1, Math.min(rows, Math.ceil(height)));
  const shapes = paths.map((p) => ({ polys: flattenPath(p.d), evenOdd: p.windingRule === 'EVENODD' }));
  let covered = 0;
  for (let r = 0; r < n; r++) {
    const y = ((r + 0.5) / n) * height;
    const intervals: [number, number][] = [];
    for (const s of shapes) {
      const xs: { x: number; dir: number }[] = [];
      for (const poly of s.polys) {
        for (let i = 0; i < poly.length; i++) {
          const a = poly[i]!;
          const b = poly[(i + 1) % poly.length]!;
          if ((a.y <= y && b.y > y) || (b.y <= y && a.y > y)) {
            xs.push({ x: a.x + ((y - a.y) / (b.y - a.y)) * (b.x - a.x), dir: b.y > a.y ? 1 : -1 });
          }
        }
      }
      xs.sort((p, q) => p.x - q.x);
      let wind = 0;
      for (let i = 0; i < xs.length - 1; i++) {
        wind += xs[i]!.dir;
        const inside = s.evenOdd ? (i + 1) % 2 === 1 : wind !== 0;
        if (inside) intervals.push([xs[i]!.x, xs[i + 1]!.x]);
      }
    }
    // Union of the intervals, clipped to the canvas.
    intervals.sort((p, q) => p[0] - q[0]);
    let end = 0;
    for (const [a0, b0] of intervals) {
      const a = Math.max(a0, end, 0);
      const b = Math.min(b0, width);
      if (b > a) {
        covered += b - a;
        end = b;
      }
    }
  }
  return covered / (n * width);
}

/** Intersection area of two boxes (0 when they do not overlap). */
export function overlapArea(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}
