/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * Draws fake-document nodes with ui/core/raster: solid / image / gradient fills, strokes honouring strokeAlign,
 * frames clipping their content (clipsContent), masks (isMask: ALPHA / LUMINANCE / VECTOR) clipping the siblings
 * above them, node and group opacity, text as word blocks. Used by exportAsync and the harness page view.
 */
import type { RgbaImage } from '../../ui/core/image';
import { affineScale, invertAffine, multiplyAffine, scaling, translation, type Affine } from '../../ui/core/raster/affine';
import {
  compositeImage, createCanvas, drawImage, fillCoverage, pathCoverage, strokeCoverage, type RgbaColor,
} from '../../ui/core/raster/canvas';
import { emptyCoverage, intersectCoverage, subtractCoverage, type CoverageMask } from '../../ui/core/raster/coverage';
import {
  absoluteTransformOf, fillGeometryOf, sizeOf, strokeSourceOf, type Box, type DocState, type NodeRecord,
} from './document-model';

const toByte = (v: number): number => Math.round(Math.min(1, Math.max(0, v)) * 255);

function unionCoverage(masks: CoverageMask[], width: number, height: number): CoverageMask {
  const live = masks.filter((m) => m.width > 0 && m.height > 0);
  if (live.length === 0) return emptyCoverage();
  if (live.length === 1) return live[0]!;
  const x0 = Math.min(...live.map((m) => m.x)), y0 = Math.min(...live.map((m) => m.y));
  const x1 = Math.min(width, Math.max(...live.map((m) => m.x + m.width)));
  const y1 = Math.min(height, Math.max(...live.map((m) => m.y + m.height)));
  const w = x1 - x0, h = y1 - y0;
  const data = new Float32Array(w * h);
  for (const m of live) {
    for (let j = 0; j < m.height; j++) {
      for (let i = 0; i < m.width; i++) {
        const o = (m.y + j - y0) * w + (m.x + i - x0);
        data[o] = Math.min(1, data[o]! + m.data[j * m.width + i]!);
      }
    }
  }
  return { x: x0, y: y0, width: w, height: h, data };
}

const clipWith = (m: CoverageMask, clip: CoverageMask | null): CoverageMask => (clip ? intersectCoverage(m, clip) : m);

/** Image pixels → node space for an image paint (Figma scale modes). */
function imagePaintTransform(p: ImagePaint, w: number, h: number, iw: number, ih: number): { m: Affine; repeat: boolean } {
  switch (p.scaleMode) {
    case 'FIT':
    case 'FILL': {
      const s = p.scaleMode === 'FILL' ? Math.max(w / iw, h / ih) : Math.min(w / iw, h / ih);
      return { m: [[s, 0, (w - iw * s) / 2], [0, s, (h - ih * s) / 2]], repeat: false };
    }
    case 'TILE': {
      const s = p.scalingFactor ?? 0.5;
      return { m: scaling(s), repeat: true };
    }
    case 'CROP': {
      // imageTransform maps the node's unit square into the image's unit square (the visible part).
      const t = (p.imageTransform ?? [[1, 0, 0], [0, 1, 0]]) as Affine;
      const m = multiplyAffine(multiplyAffine(scaling(w, h), invertAffine(t)), scaling(1 / iw, 1 / ih));
      return { m, repeat: false };
    }
  }
}

function gradientImage(p: GradientPaint, cov: CoverageMask, T: Affine, w: number, h: number): RgbaImage {
  const img = createCanvas(cov.width, cov.height);
  const toUnit = invertAffine(multiplyAffine(T, scaling(w, h)));
  const G = p.gradientTransform as Affine;
  const stops = [...p.gradientStops].sort((a, b) => a.position - b.position);
  for (let j = 0; j < cov.height; j++) {
    for (let i = 0; i < cov.width; i++) {
      const px = cov.x + i + 0.5, py = cov.y + j + 0.5;
      const ux = toUnit[0][0] * px + toUnit[0][1] * py + toUnit[0][2];
      const uy = toUnit[1][0] * px + toUnit[1][1] * py + toUnit[1][2];
      const gx = G[0][0] * ux + G[0][1] * uy + G[0][2];
      const gy = G[1][0] * ux + G[1][1] * uy + G[1][2];
      let t: number;
      if (p.type === 'GRADIENT_LINEAR') t = gx;
      else if (p.type === 'GRADIENT_RADIAL') t = Math.hypot(gx - 0.5, gy - 0.5) * 2;
      else if (p.type === 'GRADIENT_DIAMOND') t = (Math.abs(gx - 0.5) + Math.abs(gy - 0.5)) * 2;
      else t = (Math.atan2(gy - 0.5, gx - 0.5) / (2 * Math.PI) + 1) % 1;
      t = Math.min(1, Math.max(0, t));
      let k = 0;
      while (k < stops.length - 1 && stops[k + 1]!.position < t) k++;
      const a = stops[k]!, b = stops[Math.min(stops.length - 1, k + 1)]!;
      const span = b.position - a.position;
      const u = span > 0 ? Math.min(1, Math.max(0, (t - a.position) / span)) : 0;
      const o = (j * cov.width + i) * 4;
      img.data[o] = toByte(a.color.r + (b.color.r - a.color.r) * u);
      img.data[o + 1] = toByte(a.color.g + (b.color.g - a.color.g) * u);
      img.data[o + 2] = toByte(a.color.b + (b.color.b - a.color.b) * u);
      img.data[o + 3] = toByte(a.color.a + (b.color.a - a.color.a) * u);
    }
  }
  return img;
}

function paintInto(doc: DocState, canvas: RgbaImage, cov: CoverageMask, paints: ReadonlyArray<Paint>, T: Affine, w: number, h: number, alpha: number): void {
  if (cov.width === 0 || cov.height === 0) return;
  for (const p of paints) {
    if (p.visible === false) continue;
    const a = (p.opacity ?? 1) * alpha;
    if (a <= 0) continue;
    if (p.type === 'SOLID') {
      fillCoverage(canvas, cov, [toByte(p.color.r), toByte(p.color.g), toByte(p.color.b), 255], a);
    } else if (p.type === 'IMAGE') {
      if (!p.imageHash) continue;
      const px = doc.images.pixels(p.imageHash);
      if (!px) continue;
      const { m, repeat } = imagePaintTransform(p, w, h, px.width, px.height);
      drawImage(canvas, px, multiplyAffine(T, m), { clip: cov, alpha: a, repeat });
    } else if (p.type === 'GRADIENT_LINEAR' || p.type === 'GRADIENT_RADIAL' || p.type === 'GRADIENT_ANGULAR' || p.type === 'GRADIENT_DIAMOND') {
      drawImage(canvas, gradientImage(p, cov, T, w, h), translation(cov.x, cov.y), { clip: cov, alpha: a, sampling: 'nearest' });
    }
    // VIDEO / PATTERN paints are not drawn by the fake.
  }
}

interface RenderCtx {
  readonly doc: DocState;
  readonly view: Affine;
  readonly width: number;
  readonly height: number;
  /** A node drawn even when hidden (the node being exported). */
  readonly forceVisible: NodeRecord | null;
}

function fillCoverageOf(ctx: RenderCtx, r: NodeRecord, T: Affine): CoverageMask {
  const geo = fillGeometryOf(r);
  return unionCoverage(geo.map((g) => pathCoverage(g.data, ctx.width, ctx.height, {
    transform: T, windingRule: g.windingRule === 'EVENODD' ? 'EVENODD' : 'NONZERO',
  })), ctx.width, ctx.height);
}

function strokeCoverageOf(ctx: RenderCtx, r: NodeRecord, T: Affine, fillCov: CoverageMask): CoverageMask {
  const lw = r.strokeWeight * affineScale(T);
  const align = r.type === 'VECTOR' ? 'CENTER' : r.strokeAlign;
  const width = align === 'CENTER' ? lw : 2 * lw;
  const cap = r.strokeCap === 'ROUND' ? 'ROUND' : r.strokeCap === 'SQUARE' ? 'SQUARE' : 'NONE';
  const sources = strokeSourceOf(r);
  const raw = unionCoverage(sources.map((d) => strokeCoverage(d, ctx.width, ctx.height, {
    lineWidth: width, transform: T, join: r.strokeJoin, cap, closeAll: r.type !== 'VECTOR',
  })), ctx.width, ctx.height);
  if (align === 'INSIDE') return intersectCoverage(raw, fillCov);
  if (align === 'OUTSIDE') return subtractCoverage(raw, fillCov);
  return raw;
}

function maskCoverage(ctx: RenderCtx, mask: NodeRecord): CoverageMask {
  const T = multiplyAffine(ctx.view, absoluteTransformOf(mask));
  if (mask.maskType === 'VECTOR' && mask.type !== 'GROUP' && mask.type !== 'FRAME') return fillCoverageOf(ctx, mask, T);
  const layer = createCanvas(ctx.width, ctx.height);
  drawNode(ctx, layer, mask, null, 1, true);
  const data = new Float32Array(ctx.width * ctx.height);
  for (let i = 0; i < data.length; i++) {
    const a = layer.data[i * 4 + 3]! / 255;
    if (mask.maskType === 'LUMINANCE') {
      const l = (0.2126 * layer.data[i * 4]! + 0.7152 * layer.data[i * 4 + 1]! + 0.0722 * layer.data[i * 4 + 2]!) / 255;
      data[i] = l * a;
    } else data[i] = a;
  }
  return { x: 0, y: 0, width: ctx.width, height: ctx.height, data };
}

function drawChildren(ctx: RenderCtx, canvas: RgbaImage, r: NodeRecord, clip: CoverageMask | null): void {
  let mask: CoverageMask | null = null;
  for (const k of r.children ?? []) {
    if (!k.visible && k !== ctx.forceVisible) continue;
    if (k.isMask) {
      const m = maskCoverage(ctx, k);
      mask = mask ? intersectCoverage(mask, m) : m;
      continue;
    }
    const c = mask ? (clip ? intersectCoverage(clip, mask) : mask) : clip;
    drawNode(ctx, canvas, k, c, 1, false);
  }
}

function drawNode(ctx: RenderCtx, canvas: RgbaImage, r: NodeRecord, clip: CoverageMask | null, alpha: number, asMask: boolean): void {
  if (!r.visible && r !== ctx.forceVisible && !asMask) return;
  const T = multiplyAffine(ctx.view, absoluteTransformOf(r));
  const { width: w, height: h } = sizeOf(r);
  const hasKids = (r.children?.length ?? 0) > 0;
  if (r.opacity < 1 && hasKids) {
    // Group opacity: draw into a layer, then composite once.
    const layer = createCanvas(ctx.width, ctx.height);
    drawNodeOpaque(ctx, layer, r, T, w, h, clip, 1);
    compositeImage(canvas, layer, r.opacity * alpha);
    return;
  }
  drawNodeOpaque(ctx, canvas, r, T, w, h, clip, r.opacity * alpha);
}

function drawNodeOpaque(ctx: RenderCtx, canvas: RgbaImage, r: NodeRecord, T: Affine, w: number, h: number, clip: CoverageMask | null, alpha: number): void {
  if (r.type === 'GROUP' || r.type === 'PAGE') {
    drawChildren(ctx, canvas, r, clip);
    return;
  }
  if (r.type === 'SLICE') return;
  const fillCov = fillCoverageOf(ctx, r, T);
  paintInto(ctx.doc, canvas, clipWith(fillCov, clip), r.fills, T, w, h, alpha);
  const strokeVisible = r.strokes.some((p) => p.visible !== false) && r.strokeWeight > 0;
  if (r.type === 'FRAME') {
    const inner = r.clipsContent ? (clip ? intersectCoverage(clip, fillCov) : fillCov) : clip;
    if (!r.clipsContent || (inner && inner.width > 0)) drawChildren(ctx, canvas, r, inner);
  }
  if (strokeVisible) {
    const sc = strokeCoverageOf(ctx, r, T, fillCov);
    paintInto(ctx.doc, canvas, clipWith(sc, clip), r.strokes, T, w, h, alpha);
  }
}

export interface RenderOptions {
  /** Canvas background (default transparent). */
  readonly background?: RgbaColor;
  /** Draw this node even if `visible` is false (exporting a hidden node). */
  readonly forceVisible?: NodeRecord | null;
}

/**
 * Renders `nodes` (in order, later on top) for the page-space `region` into an `outWidth`×`outHeight` canvas.
 */
export function renderRecords(doc: DocState, nodes: readonly NodeRecord[], region: Box, outWidth: number, outHeight: number, opts: RenderOptions = {}): RgbaImage {
  const canvas = createCanvas(outWidth, outHeight, opts.background);
  if (region.width <= 0 || region.height <= 0) return canvas;
  const sx = outWidth / region.width, sy = outHeight / region.height;
  const ctx: RenderCtx = {
    doc, view: [[sx, 0, -region.x * sx], [0, sy, -region.y * sy]], width: outWidth, height: outHeight,
    forceVisible: opts.forceVisible ?? null,
  };
  let mask: CoverageMask | null = null;
  for (const n of nodes) {
    if (n.isMask && n !== ctx.forceVisible) {
      const m = maskCoverage(ctx, n);
      mask = mask ? intersectCoverage(mask, m) : m;
      continue;
    }
    drawNode(ctx, canvas, n, mask, 1, false);
  }
  return canvas;
}
