/**
 * A Rasterizer on the browser's 2D canvas (Path2D + blur filter). Used when ui/core/raster (the pure-JS
 * rasteriser shared with the fake Figma) is not wired in. Browser only.
 */
import type { PathData } from '../../protocol/messages';
import type { RgbaImage } from './env';
import type { Rasterizer } from './job';

function canvas2d(width: number, height: number): OffscreenCanvasRenderingContext2D {
  const c = new OffscreenCanvas(width, height);
  const ctx = c.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('2D canvas is not available');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, width, height);
  return ctx;
}

function read(ctx: OffscreenCanvasRenderingContext2D, width: number, height: number): RgbaImage {
  const d = ctx.getImageData(0, 0, width, height);
  return { width, height, data: d.data };
}

export const canvasRasterizer: Rasterizer = {
  rasterizeMask(paths, width, height, { feather }) {
    const ctx = canvas2d(width, height);
    if (feather > 0) ctx.filter = `blur(${feather / 2}px)`;
    ctx.fillStyle = '#fff';
    for (const p of paths) ctx.fill(new Path2D(p.d), p.windingRule === 'EVENODD' ? 'evenodd' : 'nonzero');
    return read(ctx, width, height);
  },
  drawLineMap(paths: readonly PathData[], width, height, { lineWidth }) {
    const ctx = canvas2d(width, height);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = lineWidth;
    ctx.lineJoin = 'round';
    for (const p of paths) ctx.stroke(new Path2D(p.d));
    return read(ctx, width, height);
  },
};
