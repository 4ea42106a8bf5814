/**
 * The working canvas size of a job: the size the model runs at. Pure.
 */
import { AppError } from '../protocol/errors';
import type { WorkingSizeRequest } from '../protocol/messages';
import type { Box } from './geometry';

export interface Size {
  readonly width: number;
  readonly height: number;
}

/**
 * Working size for a source of `sourceWidth`×`sourceHeight`: the same aspect ratio, area ≈ `targetArea`, scaled
 * down so no side exceeds `maxSide`, then each side snapped to the nearest multiple of `multiple` (at least
 * `multiple`, at most `maxSide` rounded down to the grid). Same rule as the UI's hint line (ui/app/model-params
 * fitWorkingSize), so what the user is told is what runs: 1440×900 at 512² → 640×384; a square → 512×512.
 * With `fixed` sizes (static-shape models) it returns the fixed size of closest aspect instead.
 * Throws AppError INVALID_INPUT for a non-positive source or when `maxSide < multiple`.
 */
export function computeWorkingSize(sourceWidth: number, sourceHeight: number, req: WorkingSizeRequest): Size {
  if (!(sourceWidth > 0) || !(sourceHeight > 0) || !Number.isFinite(sourceWidth) || !Number.isFinite(sourceHeight)) {
    throw new AppError('INVALID_INPUT', `The source size ${sourceWidth}×${sourceHeight} is not usable; both sides must be above 0.`);
  }
  if (req.fixed && req.fixed.length > 0) {
    // A static-shape model: the fixed size whose aspect is closest (first wins ties), as the UI's hint does.
    const aspect = sourceWidth / sourceHeight;
    let best = req.fixed[0]!;
    for (const f of req.fixed) {
      if (Math.abs(Math.log(f.width / f.height / aspect)) < Math.abs(Math.log(best.width / best.height / aspect))) best = f;
    }
    return { width: best.width, height: best.height };
  }
  const { maxSide, multiple, targetArea } = req;
  const maxGrid = Math.floor(maxSide / multiple) * multiple;
  if (maxGrid < multiple) {
    throw new AppError('INVALID_INPUT', `The model's largest side ${maxSide} px is smaller than its size step ${multiple} px.`, {
      hint: 'The model manifest needs max side ≥ size multiple.',
    });
  }
  const aspect = sourceWidth / sourceHeight;
  let width = Math.sqrt(targetArea * aspect);
  let height = width / aspect;
  const over = Math.max(width / maxSide, height / maxSide, 1);
  width /= over;
  height /= over;
  const snap = (x: number): number => Math.min(maxGrid, Math.max(multiple, Math.round(x / multiple) * multiple));
  return { width: snap(width), height: snap(height) };
}

/**
 * Where a source of `sourceWidth`×`sourceHeight` sits when fitted (contained, centred) into the working canvas:
 * the rectangle in working px. Integer-sized when `exportSize` (the actual exported pixels) is given.
 */
export function fitContent(sourceWidth: number, sourceHeight: number, canvas: Size, exportSize?: Size): Box {
  let width: number;
  let height: number;
  if (exportSize) {
    ({ width, height } = exportSize);
  } else {
    const s = Math.min(canvas.width / sourceWidth, canvas.height / sourceHeight);
    width = sourceWidth * s;
    height = sourceHeight * s;
  }
  return { x: Math.floor((canvas.width - width) / 2), y: Math.floor((canvas.height - height) / 2), width, height };
}

/**
 * The export constraint that fits a source into the canvas: constrain the side that fills the canvas exactly
 * (the other side comes out ≤ the canvas and is padded).
 */
export function fitConstraint(sourceWidth: number, sourceHeight: number, canvas: Size): { type: 'WIDTH' | 'HEIGHT'; value: number } {
  return canvas.width / sourceWidth <= canvas.height / sourceHeight
    ? { type: 'WIDTH', value: canvas.width }
    : { type: 'HEIGHT', value: canvas.height };
}
