/**
 * Inpaint masks and ControlNet line maps from PathData (protocol/messages.ts: SVG path data already in
 * working-canvas pixels). Pure; the same code runs in the UI, the worker and Node tests.
 */
import { AppError } from '../../../protocol/errors';
import type { PathData } from '../../../protocol/messages';
import type { RgbaImage } from '../image';
import { createCanvas, fillCoverage, pathCoverage, strokeCoverage } from './canvas';
import type { CoverageMask } from './coverage';
import { featherValues } from './feather';

export const MAX_RASTER_SIDE = 8192;
export const MAX_FEATHER_PX = 512;
export const MAX_LINE_WIDTH_PX = 64;

function checkSize(width: number, height: number): void {
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_RASTER_SIDE) {
      throw new AppError('INVALID_INPUT', `Raster ${name} ${String(v)} is invalid: expected a whole number of pixels from 1 to ${MAX_RASTER_SIDE}.`);
    }
  }
}

function coverageOf(path: PathData, width: number, height: number, run: () => CoverageMask): CoverageMask {
  try {
    return run();
  } catch (err) {
    throw new AppError('INVALID_INPUT', `The outline of node ${path.nodeId} could not be read: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Adds coverage into an accumulator (sum, clamped later), so shapes sharing an edge leave no seam. */
function accumulate(acc: Float32Array, width: number, m: CoverageMask): void {
  for (let j = 0; j < m.height; j++) {
    const row = (m.y + j) * width + m.x;
    for (let i = 0; i < m.width; i++) acc[row + i]! += m.data[j * m.width + i]!;
  }
}

export interface MaskOptions {
  /** Soft edge: Gaussian feather radius in px (0 = hard anti-aliased edge; 0…512). */
  readonly feather?: number;
}

/**
 * The union of all paths as an RGBA mask `width`×`height`: white (255) = masked / to change, black = keep,
 * alpha 255 everywhere, grey on anti-aliased or feathered edges. Every kind ('fill', 'stroke', 'box') is filled
 * with its winding rule. Returns RGBA bytes, length width·height·4.
 * Throws AppError 'INVALID_INPUT' for a bad size, feather or path data.
 */
export function rasterizeMask(paths: readonly PathData[], width: number, height: number, opts: MaskOptions = {}): Uint8ClampedArray {
  checkSize(width, height);
  const feather = opts.feather ?? 0;
  if (!Number.isFinite(feather) || feather < 0 || feather > MAX_FEATHER_PX) {
    throw new AppError('INVALID_INPUT', `Mask feather ${String(feather)} is invalid: expected 0 to ${MAX_FEATHER_PX} px.`);
  }
  let acc: Float32Array = new Float32Array(width * height);
  for (const p of paths) {
    accumulate(acc, width, coverageOf(p, width, height, () => pathCoverage(p.d, width, height, { windingRule: p.windingRule })));
  }
  for (let i = 0; i < acc.length; i++) if (acc[i]! > 1) acc[i] = 1;
  if (feather > 0) acc = featherValues(acc, width, height, feather);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < acc.length; i++) {
    const v = Math.round(Math.min(1, Math.max(0, acc[i]!)) * 255);
    out[i * 4] = v;
    out[i * 4 + 1] = v;
    out[i * 4 + 2] = v;
    out[i * 4 + 3] = 255;
  }
  return out;
}

export interface LineMapOptions {
  /** Line width in px (default 2; 0 < w ≤ 64). */
  readonly lineWidth?: number;
}

/**
 * A ControlNet line map (scribble / lineart style): white lines on opaque black, `width`×`height`.
 * 'fill' paths are drawn as their outlines, 'box' paths as rectangle outlines, 'stroke' paths (already expanded
 * stroke geometry) are filled, since they are the lines themselves.
 * Throws AppError 'INVALID_INPUT' for a bad size, line width or path data.
 */
export function drawLineMap(paths: readonly PathData[], width: number, height: number, opts: LineMapOptions = {}): RgbaImage {
  checkSize(width, height);
  const lineWidth = opts.lineWidth ?? 2;
  if (!Number.isFinite(lineWidth) || lineWidth <= 0 || lineWidth > MAX_LINE_WIDTH_PX) {
    throw new AppError('INVALID_INPUT', `Line width ${String(lineWidth)} is invalid: expected more than 0 and at most ${MAX_LINE_WIDTH_PX} px.`);
  }
  const canvas = createCanvas(width, height, [0, 0, 0, 255]);
  const white = [255, 255, 255, 255] as const;
  for (const p of paths) {
    const m = coverageOf(p, width, height, () =>
      p.kind === 'stroke'
        ? pathCoverage(p.d, width, height, { windingRule: p.windingRule })
        : strokeCoverage(p.d, width, height, { lineWidth, closeAll: true, join: p.kind === 'box' ? 'MITER' : 'ROUND' }));
    fillCoverage(canvas, m, white);
  }
  return canvas;
}
