/** A recording Rasterizer for Node tests: fills the paths' bounding boxes (enough to see where they landed). */
import type { PathData } from '../../protocol/messages';
import { createImage } from '../../ui/core/image';
import type { Rasterizer } from '../../ui/app/job';

export interface RecordingRasterizer extends Rasterizer {
  readonly calls: { fn: 'mask' | 'lines'; paths: readonly PathData[]; width: number; height: number; opts: Record<string, number> }[];
}

export function createRecordingRasterizer(): RecordingRasterizer {
  const calls: RecordingRasterizer['calls'] = [];
  const draw = (paths: readonly PathData[], width: number, height: number) => {
    const img = createImage(width, height);
    for (const p of paths) {
      const nums = (p.d.match(/-?\d+(\.\d+)?/g) ?? []).map(Number);
      const xs = nums.filter((_, i) => i % 2 === 0);
      const ys = nums.filter((_, i) => i % 2 === 1);
      const x0 = Math.max(0, Math.floor(Math.min(...xs)));
      const y0 = Math.max(0, Math.floor(Math.min(...ys)));
      const x1 = Math.min(width, Math.ceil(Math.max(...xs)));
      const y1 = Math.min(height, Math.ceil(Math.max(...ys)));
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) img.data.set([255, 255, 255, 255], (y * width + x) * 4);
    }
    return img;
  };
  return {
    calls,
    rasterizeMask(paths, width, height, opts) { calls.push({ fn: 'mask', paths, width, height, opts }); return draw(paths, width, height); },
    drawLineMap(paths, width, height, opts) { calls.push({ fn: 'lines', paths, width, height, opts }); return draw(paths, width, height); },
  };
}
