/**
 * 2×3 affine transforms in Figma's `Transform` layout `[[a, c, e], [b, d, f]]`:
 * (x, y) → (a·x + c·y + e, b·x + d·y + f). Pure.
 */

/** A 2×3 affine matrix, same layout as Figma's `Transform`. */
export type Affine = readonly [readonly [number, number, number], readonly [number, number, number]];

export interface Point {
  readonly x: number;
  readonly y: number;
}

export const IDENTITY: Affine = [[1, 0, 0], [0, 1, 0]];

/** `m ∘ n`: apply `n` first, then `m`. */
export function multiplyAffine(m: Affine, n: Affine): Affine {
  const [[a, c, e], [b, d, f]] = m;
  const [[a2, c2, e2], [b2, d2, f2]] = n;
  return [
    [a * a2 + c * b2, a * c2 + c * d2, a * e2 + c * f2 + e],
    [b * a2 + d * b2, b * c2 + d * d2, b * e2 + d * f2 + f],
  ];
}

/** The inverse; throws on a singular matrix (zero scale). */
export function invertAffine(m: Affine): Affine {
  const [[a, c, e], [b, d, f]] = m;
  const det = a * d - b * c;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new Error('The transform cannot be inverted (zero scale).');
  return [
    [d / det, -c / det, (c * f - d * e) / det],
    [-b / det, a / det, (b * e - a * f) / det],
  ];
}

export function applyAffine(m: Affine, x: number, y: number): Point {
  return { x: m[0][0] * x + m[0][1] * y + m[0][2], y: m[1][0] * x + m[1][1] * y + m[1][2] };
}

export const translation = (x: number, y: number): Affine => [[1, 0, x], [0, 1, y]];
export const scaling = (sx: number, sy = sx): Affine => [[sx, 0, 0], [0, sy, 0]];

/** Counter-clockwise rotation on screen by `degrees` (Figma's `rotation` sign: y points down). */
export function rotation(degrees: number): Affine {
  const r = (degrees * Math.PI) / 180;
  const c = Math.cos(r);
  const s = Math.sin(r);
  return [[c, s, 0], [-s, c, 0]];
}

/** Geometric mean scale factor √|det| (how much an area element grows, per axis). */
export const affineScale = (m: Affine): number => Math.sqrt(Math.abs(m[0][0] * m[1][1] - m[0][1] * m[1][0]));

/** Axis-aligned bounds of the rectangle (0, 0, w, h) mapped by `m`. */
export function transformedRectBounds(m: Affine, w: number, h: number): { x: number; y: number; width: number; height: number } {
  const pts = [applyAffine(m, 0, 0), applyAffine(m, w, 0), applyAffine(m, w, h), applyAffine(m, 0, h)];
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}
