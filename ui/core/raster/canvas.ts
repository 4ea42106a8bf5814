/**
 * A tiny pure-JS 2D canvas over `RgbaImage` (8-bit straight-alpha RGBA, row-major): anti-aliased path fills and
 * strokes, rectangles, and transformed image drawing, all composited source-over. Used by the UI to rasterise
 * masks / outlines and by the fake Figma's exportAsync. Coordinates are canvas pixels; pixel (i, j) covers
 * [i, i+1) × [j, j+1).
 */
import type { RgbaImage } from '../image';
import { affineScale, invertAffine, multiplyAffine, scaling, type Affine, IDENTITY } from './affine';
import { coverageAt, fillPolylines, intersectCoverage, type CoverageMask, type WindingRule } from './coverage';
import { flattenSegments, type Polyline } from './flatten-path';
import { parsePathData, transformSegments, type PathSegment } from './path-data';
import { strokePolylines, type StrokeCap, type StrokeJoin } from './stroke-polylines';

/** [r, g, b, a], each 0–255. */
export type RgbaColor = readonly [number, number, number, number];

export type { RgbaImage };

/** A new canvas filled with `fill` (transparent black by default). */
export function createCanvas(width: number, height: number, fill: RgbaColor = [0, 0, 0, 0]): RgbaImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0 || width * height > 16384 * 16384) {
    throw new Error(`Canvas size ${width}×${height} is invalid (whole pixels, 0…16384 per side).`);
  }
  const data = new Uint8ClampedArray(width * height * 4);
  if ((fill[0] || fill[1] || fill[2] || fill[3]) && data.length > 0) {
    // The first pixel (clamped and rounded by the typed array), then copied in doubling runs: a per-pixel set() took
    // about a second for a page-sized canvas.
    data.set(fill, 0);
    for (let n = 4; n < data.length; n *= 2) data.copyWithin(n, 0, Math.min(n, data.length - n));
  }
  return { width, height, data };
}

/** Source-over of one straight-alpha colour with opacity `a` (0–1) onto pixel offset `o`. */
function blend(d: Uint8ClampedArray, o: number, r: number, g: number, b: number, a: number): void {
  if (a <= 0) return;
  if (a >= 1) {
    d[o] = r; d[o + 1] = g; d[o + 2] = b; d[o + 3] = 255;
    return;
  }
  const da = d[o + 3]! / 255;
  const oa = a + da * (1 - a);
  const k = da * (1 - a);
  d[o] = (r * a + d[o]! * k) / oa;
  d[o + 1] = (g * a + d[o + 1]! * k) / oa;
  d[o + 2] = (b * a + d[o + 2]! * k) / oa;
  d[o + 3] = oa * 255;
}

/** Paints `color` × `alpha` through the coverage mask (optionally also through `clip`). */
export function fillCoverage(canvas: RgbaImage, mask: CoverageMask, color: RgbaColor, alpha = 1, clip?: CoverageMask): void {
  const m = clip ? intersectCoverage(mask, clip) : mask;
  const a0 = (color[3] / 255) * alpha;
  if (a0 <= 0) return;
  const { data, width } = canvas;
  for (let j = 0; j < m.height; j++) {
    const y = m.y + j;
    if (y < 0 || y >= canvas.height) continue;
    for (let i = 0; i < m.width; i++) {
      const x = m.x + i;
      if (x < 0 || x >= width) continue;
      const c = m.data[j * m.width + i]!;
      if (c > 0) blend(data, (y * width + x) * 4, color[0], color[1], color[2], c * a0);
    }
  }
}

export interface PathOptions {
  readonly windingRule?: WindingRule;
  /** Maps path coordinates to canvas pixels (default identity). */
  readonly transform?: Affine;
  /** Maximum chord error when flattening curves, in canvas px (default 0.01). */
  readonly tolerance?: number;
}

const toSegments = (path: string | readonly PathSegment[]): readonly PathSegment[] =>
  typeof path === 'string' ? parsePathData(path) : path;

/** Polylines of the path after `transform`, flattened in canvas space. */
export function pathPolylines(path: string | readonly PathSegment[], transform: Affine = IDENTITY, tolerance = 0.01): Polyline[] {
  return flattenSegments(transformSegments(toSegments(path), transform), tolerance);
}

/** Coverage of the filled path on a `width`×`height` canvas. */
export function pathCoverage(path: string | readonly PathSegment[], width: number, height: number, opts: PathOptions = {}): CoverageMask {
  return fillPolylines(pathPolylines(path, opts.transform, opts.tolerance), opts.windingRule ?? 'NONZERO', width, height);
}

export interface StrokePathOptions {
  /** Stroke width in canvas px (applied after the transform, so it does not scale with it). */
  readonly lineWidth: number;
  readonly join?: StrokeJoin;
  readonly cap?: StrokeCap;
  readonly transform?: Affine;
  readonly tolerance?: number;
  /** Stroke every subpath as closed (outlines of fills), instead of only those ending in Z. */
  readonly closeAll?: boolean;
}

/** Coverage of the path's stroke (centred on the path) on a `width`×`height` canvas. */
export function strokeCoverage(path: string | readonly PathSegment[], width: number, height: number, opts: StrokePathOptions): CoverageMask {
  let polys = pathPolylines(path, opts.transform, opts.tolerance);
  if (opts.closeAll) polys = polys.map((p) => ({ points: p.points, closed: true }));
  const outline = strokePolylines(polys, { width: opts.lineWidth, join: opts.join ?? 'ROUND', cap: opts.cap ?? 'ROUND' });
  return fillPolylines(outline, 'NONZERO', width, height);
}

export interface PaintOptions {
  /** Opacity multiplier 0–1 (default 1). */
  readonly alpha?: number;
  /** Only paint where this mask covers (multiplied). */
  readonly clip?: CoverageMask;
}

/** Fills SVG path data (or parsed segments) with `color`. */
export function fillPath(canvas: RgbaImage, path: string | readonly PathSegment[], color: RgbaColor, opts: PathOptions & PaintOptions = {}): void {
  fillCoverage(canvas, pathCoverage(path, canvas.width, canvas.height, opts), color, opts.alpha ?? 1, opts.clip);
}

/** Strokes SVG path data with `color`. */
export function strokePath(canvas: RgbaImage, path: string | readonly PathSegment[], color: RgbaColor, opts: StrokePathOptions & PaintOptions): void {
  fillCoverage(canvas, strokeCoverage(path, canvas.width, canvas.height, opts), color, opts.alpha ?? 1, opts.clip);
}

/** Fills an axis-aligned rectangle (fractional edges are anti-aliased). */
export function fillRect(canvas: RgbaImage, x: number, y: number, w: number, h: number, color: RgbaColor, opts: PaintOptions = {}): void {
  if (!(w > 0) || !(h > 0)) return;
  const poly: Polyline = { points: [x, y, x + w, y, x + w, y + h, x, y + h], closed: true };
  fillCoverage(canvas, fillPolylines([poly], 'NONZERO', canvas.width, canvas.height), color, opts.alpha ?? 1, opts.clip);
}

/** Halves an image with a 2×2 box filter (premultiplied), for minification. */
function halve(img: RgbaImage): RgbaImage {
  const w = Math.max(1, img.width >> 1), h = Math.max(1, img.height >> 1);
  const out = new Uint8ClampedArray(w * h * 4);
  const s = img.data;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let dy = 0; dy < 2; dy++) {
        for (let dx = 0; dx < 2; dx++) {
          const sx = Math.min(img.width - 1, 2 * x + dx), sy = Math.min(img.height - 1, 2 * y + dy);
          const o = (sy * img.width + sx) * 4;
          const al = s[o + 3]!;
          r += s[o]! * al; g += s[o + 1]! * al; b += s[o + 2]! * al; a += al;
        }
      }
      const o = (y * w + x) * 4;
      if (a > 0) { out[o] = r / a; out[o + 1] = g / a; out[o + 2] = b / a; }
      out[o + 3] = a / 4;
    }
  }
  return { width: w, height: h, data: out };
}

export interface DrawImageOptions extends PaintOptions {
  /** 'bilinear' (default) or 'nearest'. Bilinear also box-filters when shrinking by more than 2×. */
  readonly sampling?: 'nearest' | 'bilinear';
  /** Repeat the image outside its bounds (Figma TILE). */
  readonly repeat?: boolean;
}

/**
 * Draws `image` with `transform` mapping image pixels to canvas pixels. Pixels whose centre falls outside the
 * image are left alone (unless `repeat`); use `clip` for anti-aliased edges.
 */
export function drawImage(canvas: RgbaImage, image: RgbaImage, transform: Affine, opts: DrawImageOptions = {}): void {
  if (image.width === 0 || image.height === 0) return;
  const sampling = opts.sampling ?? 'bilinear';
  let img = image;
  let m = transform;
  if (sampling === 'bilinear') {
    while (affineScale(m) < 0.5 && img.width > 1 && img.height > 1) {
      const next = halve(img);
      m = multiplyAffine(m, scaling(img.width / next.width, img.height / next.height));
      img = next;
    }
  }
  let inv: Affine;
  try {
    inv = invertAffine(m);
  } catch {
    return;
  }
  const alpha = opts.alpha ?? 1;
  // Canvas region to visit: the transformed image box (or everything when repeating), ∩ clip, ∩ canvas.
  let x0 = 0, y0 = 0, x1 = canvas.width, y1 = canvas.height;
  if (!opts.repeat) {
    const corners = [[0, 0], [img.width, 0], [img.width, img.height], [0, img.height]].map(([u, v]) => [
      m[0][0] * u! + m[0][1] * v! + m[0][2], m[1][0] * u! + m[1][1] * v! + m[1][2]] as const);
    x0 = Math.max(x0, Math.floor(Math.min(...corners.map((c) => c[0]))));
    x1 = Math.min(x1, Math.ceil(Math.max(...corners.map((c) => c[0]))));
    y0 = Math.max(y0, Math.floor(Math.min(...corners.map((c) => c[1]))));
    y1 = Math.min(y1, Math.ceil(Math.max(...corners.map((c) => c[1]))));
  }
  const clip = opts.clip;
  if (clip) {
    x0 = Math.max(x0, clip.x); y0 = Math.max(y0, clip.y);
    x1 = Math.min(x1, clip.x + clip.width); y1 = Math.min(y1, clip.y + clip.height);
  }
  const { width: iw, height: ih, data: s } = img;
  const d = canvas.data;
  const wrap = (v: number, n: number): number => ((v % n) + n) % n;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const c = clip ? coverageAt(clip, x, y) : 1;
      if (c <= 0) continue;
      const px = x + 0.5, py = y + 0.5;
      let u = inv[0][0] * px + inv[0][1] * py + inv[0][2];
      let v = inv[1][0] * px + inv[1][1] * py + inv[1][2];
      if (opts.repeat) {
        u = wrap(u, iw);
        v = wrap(v, ih);
      } else if (u < 0 || v < 0 || u >= iw || v >= ih) continue;
      let r: number, g: number, b: number, a: number;
      if (sampling === 'nearest') {
        const o = (Math.min(ih - 1, Math.floor(v)) * iw + Math.min(iw - 1, Math.floor(u))) * 4;
        r = s[o]!; g = s[o + 1]!; b = s[o + 2]!; a = s[o + 3]!;
      } else {
        const fu = u - 0.5, fv = v - 0.5;
        let ua = Math.floor(fu), va = Math.floor(fv);
        const wu = fu - ua, wv = fv - va;
        let ub = ua + 1, vb = va + 1;
        if (opts.repeat) {
          ua = wrap(ua, iw); ub = wrap(ub, iw); va = wrap(va, ih); vb = wrap(vb, ih);
        } else {
          ua = Math.max(0, ua); va = Math.max(0, va); ub = Math.min(iw - 1, ub); vb = Math.min(ih - 1, vb);
        }
        const o00 = (va * iw + ua) * 4, o10 = (va * iw + ub) * 4, o01 = (vb * iw + ua) * 4, o11 = (vb * iw + ub) * 4;
        const w00 = (1 - wu) * (1 - wv) * s[o00 + 3]!, w10 = wu * (1 - wv) * s[o10 + 3]!;
        const w01 = (1 - wu) * wv * s[o01 + 3]!, w11 = wu * wv * s[o11 + 3]!;
        a = w00 + w10 + w01 + w11;
        if (a <= 0) continue;
        r = (s[o00]! * w00 + s[o10]! * w10 + s[o01]! * w01 + s[o11]! * w11) / a;
        g = (s[o00 + 1]! * w00 + s[o10 + 1]! * w10 + s[o01 + 1]! * w01 + s[o11 + 1]! * w11) / a;
        b = (s[o00 + 2]! * w00 + s[o10 + 2]! * w10 + s[o01 + 2]! * w01 + s[o11 + 2]! * w11) / a;
      }
      blend(d, (y * canvas.width + x) * 4, r, g, b, (a / 255) * c * alpha);
    }
  }
}

/** Draws `src` over `dst` (same size) with opacity `alpha`, optionally through `clip`. */
export function compositeImage(dst: RgbaImage, src: RgbaImage, alpha = 1, clip?: CoverageMask): void {
  if (dst.width !== src.width || dst.height !== src.height) throw new Error('compositeImage: sizes differ');
  const d = dst.data, s = src.data;
  for (let y = 0; y < dst.height; y++) {
    for (let x = 0; x < dst.width; x++) {
      const o = (y * dst.width + x) * 4;
      const sa = s[o + 3]!;
      if (sa === 0) continue;
      const c = clip ? coverageAt(clip, x, y) : 1;
      if (c <= 0) continue;
      blend(d, o, s[o]!, s[o + 1]!, s[o + 2]!, (sa / 255) * alpha * c);
    }
  }
}
