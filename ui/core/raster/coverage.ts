/**
 * Anti-aliased scanline polygon filling with NONZERO and EVENODD winding. Each pixel row is sampled by
 * `SUBSAMPLES` sub-scanlines; along each sub-scanline the covered spans are exact (fractional x ends), so a pixel's
 * coverage is its covered area to within 1/(2·SUBSAMPLES) of a pixel per horizontal edge. Pure.
 */
import type { Polyline } from './flatten-path';

export type WindingRule = 'NONZERO' | 'EVENODD';

/** Coverage in [0, 1] for the canvas pixels [x, x+width) × [y, y+height) (row-major Float32). */
export interface CoverageMask {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** Vertical sub-scanlines per pixel row. */
export const SUBSAMPLES = 16;

export const emptyCoverage = (): CoverageMask => ({ x: 0, y: 0, width: 0, height: 0, data: new Float32Array(0) });

interface Edge {
  yTop: number;
  yBot: number;
  xTop: number;
  dxdy: number;
  dir: number;
}

/**
 * Fills the (implicitly closed) polylines with `rule` into a coverage mask clipped to a `canvasWidth`×`canvasHeight`
 * canvas. Points are in canvas pixels (pixel (i, j) covers [i, i+1)×[j, j+1)).
 */
export function fillPolylines(polys: readonly Polyline[], rule: WindingRule, canvasWidth: number, canvasHeight: number): CoverageMask {
  const edges: Edge[] = [];
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const poly of polys) {
    const p = poly.points;
    const n = p.length / 2;
    if (n < 2) continue;
    for (let i = 0; i < n; i++) {
      const x0 = p[2 * i]!, y0 = p[2 * i + 1]!;
      const j = (i + 1) % n;
      const x1 = p[2 * j]!, y1 = p[2 * j + 1]!;
      if (!Number.isFinite(x0) || !Number.isFinite(y0)) continue;
      if (x0 < minX) minX = x0;
      if (x0 > maxX) maxX = x0;
      if (y0 < minY) minY = y0;
      if (y0 > maxY) maxY = y0;
      if (y0 === y1 || !Number.isFinite(x1) || !Number.isFinite(y1)) continue;
      if (y0 < y1) edges.push({ yTop: y0, yBot: y1, xTop: x0, dxdy: (x1 - x0) / (y1 - y0), dir: 1 });
      else edges.push({ yTop: y1, yBot: y0, xTop: x1, dxdy: (x0 - x1) / (y0 - y1), dir: -1 });
    }
  }
  const bx0 = Math.max(0, Math.floor(minX));
  const by0 = Math.max(0, Math.floor(minY));
  const bx1 = Math.min(canvasWidth, Math.ceil(maxX));
  const by1 = Math.min(canvasHeight, Math.ceil(maxY));
  if (edges.length === 0 || bx1 <= bx0 || by1 <= by0) return emptyCoverage();
  const w = bx1 - bx0;
  const h = by1 - by0;
  const data = new Float32Array(w * h);
  edges.sort((a, b) => a.yTop - b.yTop);
  const direct = new Float32Array(w + 1);
  const delta = new Float32Array(w + 2);
  const weight = 1 / SUBSAMPLES;
  let next = 0;
  let active: Edge[] = [];
  const xs: number[] = [];
  const dirs: number[] = [];
  const addSpan = (xa: number, xb: number): void => {
    const a = Math.max(xa - bx0, 0);
    const b = Math.min(xb - bx0, w);
    if (b <= a) return;
    const ia = Math.floor(a);
    const ib = Math.floor(b);
    if (ia === ib) {
      direct[ia]! += (b - a) * weight;
      return;
    }
    direct[ia]! += (ia + 1 - a) * weight;
    delta[ia + 1]! += weight;
    delta[ib]! -= weight;
    if (ib < w) direct[ib]! += (b - ib) * weight;
  };
  for (let row = 0; row < h; row++) {
    const py = by0 + row;
    for (let s = 0; s < SUBSAMPLES; s++) {
      const y = py + (s + 0.5) * weight;
      while (next < edges.length && edges[next]!.yTop <= y) active.push(edges[next++]!);
      if (active.length === 0) continue;
      active = active.filter((e) => e.yBot > y);
      xs.length = 0;
      dirs.length = 0;
      for (const e of active) {
        if (e.yTop > y) continue;
        const x = e.xTop + (y - e.yTop) * e.dxdy;
        // insertion sort (crossing counts are small)
        let k = xs.length;
        xs.push(x);
        dirs.push(e.dir);
        while (k > 0 && xs[k - 1]! > x) {
          xs[k] = xs[k - 1]!;
          dirs[k] = dirs[k - 1]!;
          k--;
        }
        xs[k] = x;
        dirs[k] = e.dir;
      }
      let wind = 0;
      for (let k = 0; k < xs.length - 1; k++) {
        wind += dirs[k]!;
        const inside = rule === 'EVENODD' ? (wind & 1) !== 0 : wind !== 0;
        if (inside) addSpan(xs[k]!, xs[k + 1]!);
      }
    }
    let run = 0;
    const o = row * w;
    for (let x = 0; x < w; x++) {
      run += delta[x]!;
      const v = run + direct[x]!;
      data[o + x] = v <= 0 ? 0 : v >= 1 ? 1 : v;
      direct[x] = 0;
      delta[x] = 0;
    }
    direct[w] = 0;
    delta[w] = 0;
    delta[w + 1] = 0;
  }
  return { x: bx0, y: by0, width: w, height: h, data };
}

/** Coverage of `m` at canvas pixel (x, y) (0 outside its box). */
export function coverageAt(m: CoverageMask, x: number, y: number): number {
  const i = x - m.x;
  const j = y - m.y;
  if (i < 0 || j < 0 || i >= m.width || j >= m.height) return 0;
  return m.data[j * m.width + i]!;
}

/** Pixel-wise product (intersection) of two masks, on the overlap of their boxes. */
export function intersectCoverage(a: CoverageMask, b: CoverageMask): CoverageMask {
  const x0 = Math.max(a.x, b.x), y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width), y1 = Math.min(a.y + a.height, b.y + b.height);
  if (x1 <= x0 || y1 <= y0) return emptyCoverage();
  const w = x1 - x0, h = y1 - y0;
  const data = new Float32Array(w * h);
  for (let j = 0; j < h; j++) {
    const ra = (y0 + j - a.y) * a.width + (x0 - a.x);
    const rb = (y0 + j - b.y) * b.width + (x0 - b.x);
    for (let i = 0; i < w; i++) data[j * w + i] = a.data[ra + i]! * b.data[rb + i]!;
  }
  return { x: x0, y: y0, width: w, height: h, data };
}

/** `a · (1 − b)`: removes `b` from `a` (used for OUTSIDE strokes). */
export function subtractCoverage(a: CoverageMask, b: CoverageMask): CoverageMask {
  const data = new Float32Array(a.data);
  for (let j = 0; j < a.height; j++) {
    for (let i = 0; i < a.width; i++) {
      const v = coverageAt(b, a.x + i, a.y + j);
      if (v > 0) data[j * a.width + i]! *= 1 - v;
    }
  }
  return { x: a.x, y: a.y, width: a.width, height: a.height, data };
}

/** A full-coverage mask over a whole `width`×`height` canvas (no clipping). */
export function fullCoverage(width: number, height: number): CoverageMask {
  return { x: 0, y: 0, width, height, data: new Float32Array(width * height).fill(1) };
}

/** Sum of coverage (= covered area in square pixels). */
export function coverageArea(m: CoverageMask): number {
  let s = 0;
  for (let i = 0; i < m.data.length; i++) s += m.data[i]!;
  return s;
}
