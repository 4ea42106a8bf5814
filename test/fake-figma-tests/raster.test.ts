import { describe, expect, it } from 'vitest';
import { AppError } from '../../protocol/errors';
import type { PathData } from '../../protocol/messages';
import {
  coverageArea, coverageAt, createCanvas, drawImage, drawLineMap, featherValues, fillPath, fillRect, formatPathData,
  multiplyAffine, parsePathData, pathCoverage, rasterizeMask, rotation, scaling, strokeCoverage, translation,
} from '../../ui/core/raster';

const square = (x: number, y: number, s: number, ccw = false): string =>
  ccw ? `M ${x} ${y} L ${x} ${y + s} L ${x + s} ${y + s} L ${x + s} ${y} Z` : `M ${x} ${y} L ${x + s} ${y} L ${x + s} ${y + s} L ${x} ${y + s} Z`;
const circleArcs = (cx: number, cy: number, r: number): string => `M ${cx - r} ${cy} A ${r} ${r} 0 1 0 ${cx + r} ${cy} A ${r} ${r} 0 1 0 ${cx - r} ${cy} Z`;
const relErr = (a: number, b: number): number => Math.abs(a - b) / b;

describe('parsePathData', () => {
  it('normalises relative, H/V, S/T and implicit repeats to absolute M/L/C/Q/Z', () => {
    const segs = parsePathData('m10 10 h20 v5 l-5 5 10 0 z M0 0 c1 2 3 4 5 6 s7 8 9 10 Q 1 1 2 2 t 3 3');
    expect(formatPathData(segs)).toBe(
      'M 10 10 L 30 10 L 30 15 L 25 20 L 35 20 Z M 0 0 C 1 2 3 4 5 6 C 7 8 12 14 14 16 Q 1 1 2 2 Q 3 3 5 5',
    );
  });
  it('parses packed numbers and exponents', () => {
    expect(formatPathData(parsePathData('M.5.5L1e1-2'))).toBe('M 0.5 0.5 L 10 -2');
  });
  it('turns arcs into cubics that land on the end point', () => {
    const segs = parsePathData('M 0 0 A 10 10 0 0 1 20 0');
    expect(segs.every((s) => s.op === 'M' || s.op === 'C')).toBe(true);
    const last = segs.at(-1)!;
    expect(last.points.slice(-2)).toEqual([20, 0]);
    // the half circle bulges to y = -10 (sweep=1 goes clockwise on screen: above the chord for this direction)
    const ys = segs.flatMap((s) => s.points.filter((_, i) => i % 2 === 1));
    expect(Math.min(...ys)).toBeLessThan(-9);
  });
  it('throws on malformed data, naming the problem', () => {
    expect(() => parsePathData('10 10 L 5 5')).toThrow(/number where a command is expected/);
    expect(() => parsePathData('M 10')).toThrow(/missing a number/);
    expect(() => parsePathData('M 0 0 X 5 5')).toThrow(/unexpected character "X"/);
  });
});

describe('fill coverage', () => {
  it('covers a fractional rectangle with its exact area (within 0.2%) and anti-aliased edges', () => {
    const m = pathCoverage('M 10.5 20.25 L 60.75 20.25 L 60.75 50.5 L 10.5 50.5 Z', 100, 100);
    expect(relErr(coverageArea(m), 50.25 * 30.25)).toBeLessThan(0.002);
    expect(coverageAt(m, 10, 30)).toBeCloseTo(0.5, 5); // left edge at x = 10.5
    expect(coverageAt(m, 60, 30)).toBeCloseTo(0.75, 5); // right edge at x = 60.75
    expect(coverageAt(m, 30, 20)).toBeCloseTo(0.75, 1); // top edge at y = 20.25
    expect(coverageAt(m, 30, 35)).toBe(1);
    expect(coverageAt(m, 5, 35)).toBe(0);
  });
  it('covers circles (arcs and cubic ellipses) within 1% of πr²', () => {
    for (const r of [3, 12.5, 40]) {
      const m = pathCoverage(circleArcs(50, 50, r), 100, 100);
      expect(relErr(coverageArea(m), Math.PI * r * r)).toBeLessThan(0.01);
    }
  });
  it('EVENODD makes holes; NONZERO fills same-direction rings and holes opposite-direction ones', () => {
    const same = `${square(10, 10, 60)} ${square(30, 30, 20)}`;
    const opposite = `${square(10, 10, 60)} ${square(30, 30, 20, true)}`;
    expect(coverageArea(pathCoverage(same, 100, 100, { windingRule: 'EVENODD' }))).toBeCloseTo(3600 - 400, 3);
    expect(coverageArea(pathCoverage(same, 100, 100, { windingRule: 'NONZERO' }))).toBeCloseTo(3600, 3);
    expect(coverageArea(pathCoverage(opposite, 100, 100, { windingRule: 'NONZERO' }))).toBeCloseTo(3600 - 400, 3);
    const m = pathCoverage(same, 100, 100, { windingRule: 'EVENODD' });
    expect(coverageAt(m, 40, 40)).toBe(0);
    expect(coverageAt(m, 20, 20)).toBe(1);
  });
  it('applies affine transforms before rasterising (area scales by |det|, position follows)', () => {
    const m0 = [[2, 0, 5], [0, 3, 7]] as const;
    const m = pathCoverage(square(0, 0, 10), 100, 100, { transform: m0 });
    expect(coverageArea(m)).toBeCloseTo(600, 3);
    expect(coverageAt(m, 5, 7)).toBe(1);
    expect(coverageAt(m, 24, 36)).toBe(1);
    expect(coverageAt(m, 25, 37)).toBe(0);
    const rot = multiplyAffine(translation(50, 50), multiplyAffine(rotation(45), translation(-10, -10)));
    const r = pathCoverage(square(0, 0, 20), 100, 100, { transform: rot });
    expect(relErr(coverageArea(r), 400)).toBeLessThan(0.005);
    expect(coverageAt(r, 50, 50)).toBe(1);
    expect(coverageAt(r, 65, 50)).toBe(0); // a diamond: corners 14.14 px out on the axes…
    expect(coverageAt(r, 62, 50)).toBe(1);
    expect(coverageAt(r, 58, 58)).toBe(0); // …and 45° edges where the unrotated square had its corner
  });
  it('clips to the canvas', () => {
    const m = pathCoverage(square(-10, -10, 30), 15, 15);
    expect(coverageArea(m)).toBeCloseTo(225, 3);
  });
});

describe('strokes', () => {
  it('strokes an open line to width × length (+ round caps)', () => {
    const butt = strokeCoverage('M 10 50 L 90 50', 100, 100, { lineWidth: 4, cap: 'NONE' });
    expect(relErr(coverageArea(butt), 80 * 4)).toBeLessThan(0.005);
    const round = strokeCoverage('M 10 50 L 90 50', 100, 100, { lineWidth: 4, cap: 'ROUND' });
    expect(relErr(coverageArea(round), 80 * 4 + Math.PI * 4)).toBeLessThan(0.02);
  });
  it('strokes a closed square outline with mitred corners as a ring (no double counting at overlaps)', () => {
    const m = strokeCoverage(square(20, 20, 50), 100, 100, { lineWidth: 2, join: 'MITER', cap: 'NONE' });
    expect(relErr(coverageArea(m), 52 * 52 - 48 * 48)).toBeLessThan(0.005);
    expect(coverageAt(m, 45, 45)).toBe(0);
    expect(coverageAt(m, 20, 45)).toBe(1); // covers x ∈ [19, 21)
    expect(coverageAt(m, 19, 19)).toBeCloseTo(1, 3); // mitred corner is filled
  });
});

describe('feather', () => {
  const edge = (): Float32Array => {
    const v = new Float32Array(64 * 8);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 32; x++) v[y * 64 + x] = 1;
    return v;
  };
  it('turns a hard edge into a monotonic ramp that widens with the radius and keeps the mass', () => {
    const hard = edge();
    const soft4 = featherValues(hard, 64, 8, 4);
    const soft8 = featherValues(hard, 64, 8, 8);
    for (const s of [soft4, soft8]) {
      for (let x = 1; x < 64; x++) expect(s[4 * 64 + x]!).toBeLessThanOrEqual(s[4 * 64 + x - 1]! + 1e-6);
      expect(s[4 * 64 + 31]!).toBeGreaterThan(0.5);
      expect(s[4 * 64 + 32]!).toBeLessThan(0.5);
      const mass = s.reduce((a, b) => a + b, 0);
      expect(relErr(mass, 32 * 8)).toBeLessThan(0.01);
    }
    // wider radius reaches further out
    expect(soft8[4 * 64 + 36]!).toBeGreaterThan(soft4[4 * 64 + 36]!);
    expect(soft4[4 * 64 + 35]!).toBeGreaterThan(0);
    expect(soft8[4 * 64 + 28]!).toBeLessThan(soft4[4 * 64 + 28]!);
    expect(featherValues(hard, 64, 8, 0)).toEqual(hard);
  });
});

describe('canvas', () => {
  it('fillPath / fillRect composite source-over with alpha', () => {
    const c = createCanvas(10, 10, [255, 255, 255, 255]);
    fillRect(c, 0, 0, 5, 10, [255, 0, 0, 255]);
    fillPath(c, square(5, 0, 5), [0, 0, 255, 255], { alpha: 0.5 });
    expect([...c.data.subarray(0, 4)]).toEqual([255, 0, 0, 255]);
    const o = (0 * 10 + 7) * 4;
    expect([...c.data.subarray(o, o + 4)]).toEqual([128, 128, 255, 255]); // 50% blue over white
  });
  it('drawImage maps image pixels with a transform (nearest and bilinear) and respects a clip', () => {
    const img = createCanvas(2, 2);
    img.data.set([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255]);
    const c = createCanvas(8, 8);
    drawImage(c, img, multiplyAffine(translation(2, 2), scaling(2)), { sampling: 'nearest' });
    const px = (x: number, y: number): number[] => [...c.data.subarray((y * 8 + x) * 4, (y * 8 + x) * 4 + 4)];
    expect(px(2, 2)).toEqual([255, 0, 0, 255]);
    expect(px(5, 3)).toEqual([0, 255, 0, 255]);
    expect(px(3, 5)).toEqual([0, 0, 255, 255]);
    expect(px(1, 1)).toEqual([0, 0, 0, 0]);
    const b = createCanvas(4, 1);
    const ramp = createCanvas(2, 1);
    ramp.data.set([0, 0, 0, 255, 200, 200, 200, 255]);
    drawImage(b, ramp, scaling(2, 1));
    expect(b.data[0]).toBe(0);
    expect(b.data[4]).toBe(50); // bilinear between the two texel centres
    expect(b.data[8]).toBe(150);
    const clipped = createCanvas(8, 8);
    drawImage(clipped, img, scaling(4), { sampling: 'nearest', clip: pathCoverage(square(0, 0, 4), 8, 8) });
    expect(clipped.data[(5 * 8 + 5) * 4 + 3]).toBe(0);
    expect(clipped.data[(1 * 8 + 1) * 4 + 3]).toBe(255);
  });
});

const pd = (d: string, kind: PathData['kind'] = 'fill', windingRule: PathData['windingRule'] = 'NONZERO'): PathData => ({ d, kind, windingRule, nodeId: '1:2' });

describe('rasterizeMask', () => {
  it('returns opaque RGBA with white inside the union of paths and black outside', () => {
    const m = rasterizeMask([pd(square(10, 10, 20)), pd(square(30, 10, 20), 'box')], 64, 40);
    expect(m.length).toBe(64 * 40 * 4);
    const at = (x: number, y: number): number[] => [...m.subarray((y * 64 + x) * 4, (y * 64 + x) * 4 + 4)];
    expect(at(20, 20)).toEqual([255, 255, 255, 255]);
    expect(at(30, 20)).toEqual([255, 255, 255, 255]); // shared edge leaves no seam
    expect(at(5, 5)).toEqual([0, 0, 0, 255]);
    let sum = 0;
    for (let i = 0; i < m.length; i += 4) sum += m[i]! / 255;
    expect(sum).toBeCloseTo(800, 0);
  });
  it('feathers edges (soft ramp, monotonic outward) and honours EVENODD holes', () => {
    const hard = rasterizeMask([pd(square(16, 16, 32))], 64, 64);
    const soft = rasterizeMask([pd(square(16, 16, 32))], 64, 64, { feather: 6 });
    const row = (m: Uint8ClampedArray, x: number): number => m[(32 * 64 + x) * 4]!;
    expect(row(hard, 14)).toBe(0);
    expect(row(soft, 14)).toBeGreaterThan(0);
    expect(row(soft, 18)).toBeLessThan(255);
    for (let x = 1; x <= 32; x++) expect(row(soft, x)).toBeGreaterThanOrEqual(row(soft, x - 1));
    const ring = rasterizeMask([pd(`${square(8, 8, 48)} ${square(24, 24, 16)}`, 'fill', 'EVENODD')], 64, 64);
    expect(ring[(32 * 64 + 32) * 4]).toBe(0);
    expect(ring[(12 * 64 + 12) * 4]).toBe(255);
  });
  it('rejects bad sizes, feathers and path data with AppError INVALID_INPUT naming the value', () => {
    const bad = (f: () => unknown, re: RegExp): void => {
      try {
        f();
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).code).toBe('INVALID_INPUT');
        expect((err as AppError).message).toMatch(re);
      }
    };
    bad(() => rasterizeMask([], 0, 10), /width 0.*1 to 8192/);
    bad(() => rasterizeMask([], 10, 10.5), /height 10.5/);
    bad(() => rasterizeMask([], 10, 10, { feather: -1 }), /feather -1.*0 to 512/);
    bad(() => rasterizeMask([pd('M 0 0 L 5')], 10, 10), /node 1:2/);
    bad(() => drawLineMap([], 10, 10, { lineWidth: 0 }), /Line width 0/);
  });
});

describe('drawLineMap', () => {
  it('outlines fills and boxes, fills stroke geometry: white on black', () => {
    const img = drawLineMap([pd(square(10, 10, 40)), pd(square(60, 10, 30), 'box'), pd('M 10 70 L 90 70 L 90 74 L 10 74 Z', 'stroke')], 100, 100, { lineWidth: 2 });
    const at = (x: number, y: number): number => img.data[(y * 100 + x) * 4]!;
    expect(img.data[3]).toBe(255);
    expect(at(30, 30)).toBe(0); // inside the filled square: only its outline is drawn
    expect(at(10, 30)).toBe(255);
    expect(at(49, 30)).toBe(255);
    expect(at(75, 25)).toBe(0);
    expect(at(60, 25)).toBe(255);
    expect(at(50, 72)).toBe(255); // stroke geometry filled
    expect(at(5, 5)).toBe(0);
  });
});
