/**
 * Strokes polylines into fill polygons: one quad per segment plus join and cap pieces, every piece oriented the
 * same way so that filling them all with NONZERO gives their exact union (no cancellation where they overlap).
 * The result is the stroke's outline "from the center" (half the width each side), like Figma's strokeGeometry.
 */
import type { Polyline } from './flatten-path';

export type StrokeJoin = 'ROUND' | 'MITER' | 'BEVEL';
export type StrokeCap = 'NONE' | 'ROUND' | 'SQUARE';

export interface StrokeOptions {
  /** Full stroke width (same units as the points). */
  readonly width: number;
  readonly join?: StrokeJoin;
  readonly cap?: StrokeCap;
  /** Miter length / stroke width above which a MITER join falls back to BEVEL (Figma's default is 28.96° ≈ 4). */
  readonly miterLimit?: number;
}

function orient(points: number[]): Polyline {
  let area = 0;
  const n = points.length / 2;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    area += points[2 * i]! * points[2 * j + 1]! - points[2 * j]! * points[2 * i + 1]!;
  }
  if (area < 0) {
    const rev: number[] = [];
    for (let i = n - 1; i >= 0; i--) rev.push(points[2 * i]!, points[2 * i + 1]!);
    return { points: rev, closed: true };
  }
  return { points, closed: true };
}

function circle(cx: number, cy: number, r: number): Polyline {
  const n = Math.max(8, Math.min(96, Math.ceil(2 * Math.PI * r / 0.75)));
  const pts: number[] = [];
  for (let k = 0; k < n; k++) {
    const t = (2 * Math.PI * k) / n;
    pts.push(cx + r * Math.cos(t), cy + r * Math.sin(t));
  }
  return orient(pts);
}

/** Outline polygons of `polys` stroked with `opts`; fill them with NONZERO. */
export function strokePolylines(polys: readonly Polyline[], opts: StrokeOptions): Polyline[] {
  const hw = opts.width / 2;
  if (!(hw > 0)) return [];
  const join = opts.join ?? 'ROUND';
  const cap = opts.cap ?? 'ROUND';
  const miterLimit = opts.miterLimit ?? 4;
  const out: Polyline[] = [];
  for (const poly of polys) {
    // drop repeated points
    const pts: number[] = [];
    for (let k = 0; k < poly.points.length; k += 2) {
      const x = poly.points[k]!, y = poly.points[k + 1]!;
      const n = pts.length;
      if (n >= 2 && Math.abs(pts[n - 2]! - x) < 1e-9 && Math.abs(pts[n - 1]! - y) < 1e-9) continue;
      pts.push(x, y);
    }
    let n = pts.length / 2;
    if (poly.closed && n > 2 && Math.abs(pts[0]! - pts[2 * n - 2]!) < 1e-9 && Math.abs(pts[1]! - pts[2 * n - 1]!) < 1e-9) {
      pts.length -= 2;
      n--;
    }
    if (n === 1) {
      if (cap === 'ROUND') out.push(circle(pts[0]!, pts[1]!, hw));
      else if (cap === 'SQUARE') out.push(orient([pts[0]! - hw, pts[1]! - hw, pts[0]! + hw, pts[1]! - hw, pts[0]! + hw, pts[1]! + hw, pts[0]! - hw, pts[1]! + hw]));
      continue;
    }
    const closed = poly.closed && n > 2;
    const segCount = closed ? n : n - 1;
    const dirAt = (i: number): [number, number] => {
      const j = (i + 1) % n;
      const dx = pts[2 * j]! - pts[2 * i]!, dy = pts[2 * j + 1]! - pts[2 * i + 1]!;
      const len = Math.hypot(dx, dy);
      return [dx / len, dy / len];
    };
    for (let i = 0; i < segCount; i++) {
      const j = (i + 1) % n;
      let ax = pts[2 * i]!, ay = pts[2 * i + 1]!, bx = pts[2 * j]!, by = pts[2 * j + 1]!;
      const [ux, uy] = dirAt(i);
      if (!closed && cap === 'SQUARE') {
        if (i === 0) { ax -= ux * hw; ay -= uy * hw; }
        if (i === segCount - 1) { bx += ux * hw; by += uy * hw; }
      }
      const nx = -uy * hw, ny = ux * hw;
      out.push(orient([ax + nx, ay + ny, bx + nx, by + ny, bx - nx, by - ny, ax - nx, ay - ny]));
    }
    // joins at interior vertices (all vertices when closed)
    const first = closed ? 0 : 1;
    const last = closed ? n - 1 : n - 2;
    for (let v = first; v <= last; v++) {
      const vx = pts[2 * v]!, vy = pts[2 * v + 1]!;
      if (join === 'ROUND') {
        out.push(circle(vx, vy, hw));
        continue;
      }
      const [ix, iy] = dirAt((v - 1 + n) % n);
      const [ox, oy] = dirAt(v);
      const cross = ix * oy - iy * ox;
      if (Math.abs(cross) < 1e-9 && ix * ox + iy * oy > 0) continue; // straight
      // outer side: the side opposite to the turn
      const sgn = cross > 0 ? -1 : 1;
      const n1x = -iy * hw * sgn, n1y = ix * hw * sgn;
      const n2x = -oy * hw * sgn, n2y = ox * hw * sgn;
      const wedge = [vx, vy, vx + n1x, vy + n1y];
      if (join === 'MITER') {
        const cosHalf = Math.sqrt(Math.max(0, (1 + (ix * ox + iy * oy)) / 2));
        const ratio = cosHalf > 1e-9 ? 1 / cosHalf : Infinity; // miter length / width
        if (ratio <= miterLimit) {
          const mx = n1x + n2x, my = n1y + n2y;
          const ml = Math.hypot(mx, my);
          if (ml > 1e-12) {
            const len = hw / cosHalf;
            wedge.push(vx + (mx / ml) * len, vy + (my / ml) * len);
          }
        }
      }
      wedge.push(vx + n2x, vy + n2y);
      out.push(orient(wedge));
    }
    if (!closed && cap === 'ROUND') {
      out.push(circle(pts[0]!, pts[1]!, hw));
      out.push(circle(pts[2 * n - 2]!, pts[2 * n - 1]!, hw));
    }
  }
  return out;
}
