/**
 * Curve flattening: absolute path segments → polylines, subdividing each Bézier into enough line pieces that the
 * chord error stays under `tolerance` (in the units of the points, usually output pixels). Uses the classic
 * second-difference bound (as in Skia's / kurbo's flattening estimates): a cubic split into n pieces deviates
 * at most ¾·max|P0−2P1+P2|,|P1−2P2+P3| / n², a quadratic ¼·|P0−2P1+P2| / n².
 */
import type { PathSegment } from './path-data';

/** One subpath. `points` = [x0, y0, x1, y1, …]; `closed` when it ended with Z. */
export interface Polyline {
  readonly points: readonly number[];
  readonly closed: boolean;
}

const MAX_PIECES = 512;

export function flattenSegments(segments: readonly PathSegment[], tolerance = 0.01): Polyline[] {
  const tol = Math.max(1e-4, tolerance);
  const out: Polyline[] = [];
  let cur: number[] = [];
  let px = 0, py = 0, sx = 0, sy = 0;
  const flush = (closed: boolean): void => {
    if (cur.length >= 2) out.push({ points: cur, closed });
    cur = [];
  };
  for (const s of segments) {
    const p = s.points;
    switch (s.op) {
      case 'M':
        flush(false);
        px = sx = p[0]!;
        py = sy = p[1]!;
        cur = [px, py];
        break;
      case 'L':
        if (cur.length === 0) cur = [px, py];
        px = p[0]!;
        py = p[1]!;
        cur.push(px, py);
        break;
      case 'Q': {
        if (cur.length === 0) cur = [px, py];
        const [x1, y1, x2, y2] = p as [number, number, number, number];
        const dd = Math.hypot(px - 2 * x1 + x2, py - 2 * y1 + y2);
        const n = Math.min(MAX_PIECES, Math.max(1, Math.ceil(Math.sqrt(dd / (4 * tol)))));
        for (let k = 1; k <= n; k++) {
          const t = k / n, u = 1 - t;
          cur.push(u * u * px + 2 * u * t * x1 + t * t * x2, u * u * py + 2 * u * t * y1 + t * t * y2);
        }
        px = x2;
        py = y2;
        break;
      }
      case 'C': {
        if (cur.length === 0) cur = [px, py];
        const [x1, y1, x2, y2, x3, y3] = p as [number, number, number, number, number, number];
        const dd = Math.max(Math.hypot(px - 2 * x1 + x2, py - 2 * y1 + y2), Math.hypot(x1 - 2 * x2 + x3, y1 - 2 * y2 + y3));
        const n = Math.min(MAX_PIECES, Math.max(1, Math.ceil(Math.sqrt((0.75 * dd) / tol))));
        for (let k = 1; k <= n; k++) {
          const t = k / n, u = 1 - t;
          const a = u * u * u, b = 3 * u * u * t, c = 3 * u * t * t, e = t * t * t;
          cur.push(a * px + b * x1 + c * x2 + e * x3, a * py + b * y1 + c * y2 + e * y3);
        }
        px = x3;
        py = y3;
        break;
      }
      case 'Z':
        flush(true);
        px = sx;
        py = sy;
        break;
    }
  }
  flush(false);
  return out;
}
