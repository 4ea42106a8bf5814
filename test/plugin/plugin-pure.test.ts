/**
 * Pure parts of plugin/: working size, transforms and path data, mask coverage,
 * recipe/paint helpers. No fake Figma needed.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../protocol/errors';
import type { Recipe } from '../../protocol/messages';
import {
  boundsToContent, coverage, flattenPath, invert, multiply, parsePath, pathBounds, rectPath, transformPath, type Affine,
} from '../../plugin/geometry';
import { layerName, MAX_RECIPE_CHARS, recipeJson, resultPaint } from '../../plugin/insert-result';
import { storedSize } from '../../plugin/settings';
import { computeWorkingSize, fitConstraint, fitContent } from '../../plugin/working-size';

const SD15 = { maxSide: 768, multiple: 64, targetArea: 512 * 512 };

describe('computeWorkingSize', () => {
  it('keeps the aspect ratio near the target area on the size grid', () => {
    expect(computeWorkingSize(1440, 900, SD15)).toEqual({ width: 640, height: 384 });
    expect(computeWorkingSize(100, 100, SD15)).toEqual({ width: 512, height: 512 });
    expect(computeWorkingSize(900, 1440, SD15)).toEqual({ width: 384, height: 640 });
    expect(computeWorkingSize(1024, 768, { maxSide: 1024, multiple: 8, targetArea: 1024 * 1024 })).toEqual({ width: 1024, height: 768 });
  });

  it('never exceeds maxSide (rounded down to the grid) nor goes below one step', () => {
    for (const [w, h] of [[4000, 100], [100, 4000], [3000, 3000], [1, 1], [4096, 1], [777, 333]] as const) {
      for (const req of [SD15, { maxSide: 1000, multiple: 64, targetArea: 1024 * 1024 }, { maxSide: 512, multiple: 8, targetArea: 4096 }]) {
        const s = computeWorkingSize(w, h, req);
        const maxGrid = Math.floor(req.maxSide / req.multiple) * req.multiple;
        expect(s.width % req.multiple, `${w}x${h}`).toBe(0);
        expect(s.height % req.multiple).toBe(0);
        expect(Math.max(s.width, s.height)).toBeLessThanOrEqual(maxGrid);
        expect(Math.min(s.width, s.height)).toBeGreaterThanOrEqual(req.multiple);
      }
    }
    // area ≈ target for moderate aspects
    const s = computeWorkingSize(1600, 1200, SD15);
    expect(Math.abs(s.width * s.height - 512 * 512) / (512 * 512)).toBeLessThan(0.15);
    expect(s.width / s.height).toBeCloseTo(4 / 3, 1);
  });

  it('uses the closest-aspect fixed size for static-shape models', () => {
    const fixed = [{ width: 512, height: 512 }, { width: 768, height: 512 }];
    expect(computeWorkingSize(1440, 900, { ...SD15, fixed })).toEqual({ width: 768, height: 512 });
    expect(computeWorkingSize(300, 400, { ...SD15, fixed })).toEqual({ width: 512, height: 512 });
    expect(computeWorkingSize(1440, 900, { maxSide: 512, multiple: 64, targetArea: 512 * 512, fixed: [{ width: 512, height: 512 }] })).toEqual({ width: 512, height: 512 });
  });

  it('rejects unusable inputs with AppError naming the values', () => {
    expect(() => computeWorkingSize(0, 100, SD15)).toThrow(/0×100/);
    expect(() => computeWorkingSize(100, 100, { maxSide: 64, multiple: 128, targetArea: 4096 })).toThrow(AppError);
  });

  it('fits the source into the canvas: constrain the side that fills it, centre the other', () => {
    expect(fitConstraint(1440, 900, { width: 640, height: 384 })).toEqual({ type: 'HEIGHT', value: 384 });
    expect(fitConstraint(900, 1440, { width: 384, height: 704 })).toEqual({ type: 'WIDTH', value: 384 });
    expect(fitContent(1440, 900, { width: 640, height: 384 }, { width: 614, height: 384 })).toEqual({ x: 13, y: 0, width: 614, height: 384 });
  });
});

describe('geometry', () => {
  it('parses and transforms Figma path data exactly (M L Q C Z, implicit L)', () => {
    const d = 'M 0 0 L 10 0 Q 10 10 5 10 C 2 10 0 8 0 5 Z';
    expect(parsePath(d).map((c) => c.op)).toEqual(['M', 'L', 'Q', 'C', 'Z']);
    const m: Affine = [[2, 0, 100], [0, 3, 50]];
    expect(transformPath(d, m)).toBe('M 100 50 L 120 50 Q 120 80 110 80 C 104 80 100 74 100 65 Z');
    expect(parsePath('M 0 0 10 0 10 10 Z').map((c) => c.op)).toEqual(['M', 'L', 'L', 'Z']);
    expect(() => parsePath('m 0 0 l 1 1')).toThrow(/Unsupported path command "m"/);
    expect(() => parsePath('M 0 0 A 1 1 0 0 0 2 2')).toThrow(/"A"/);
  });

  it('inverts and composes affine maps', () => {
    const m: Affine = [[0.8, -0.6, 10], [0.6, 0.8, -4]];
    const id = multiply(invert(m), m);
    expect(id[0][0]).toBeCloseTo(1);
    expect(id[0][1]).toBeCloseTo(0);
    expect(id[0][2]).toBeCloseTo(0);
    expect(id[1][1]).toBeCloseTo(1);
    expect(() => invert([[0, 0, 0], [0, 0, 0]])).toThrow();
  });

  it('maps absolute bounds onto the working content box', () => {
    const t = boundsToContent({ x: 100, y: 200, width: 1440, height: 900 }, { x: 13, y: 0, width: 614, height: 384 });
    expect(transformPath('M 100 200 L 1540 1100', t)).toBe('M 13 0 L 627 384');
    expect(pathBounds(rectPath(10, 20, [[1, 0, 5], [0, 1, 7]]))).toEqual({ x: 5, y: 7, width: 10, height: 20 });
  });

  it('computes union coverage with winding rules', () => {
    // 50×100 rect on a 100×100 canvas → 0.5
    expect(coverage([{ d: 'M 0 0 L 50 0 L 50 100 L 0 100 Z', windingRule: 'NONZERO' }], 100, 100)).toBeCloseTo(0.5, 3);
    // two overlapping rects: union 0..75 → 0.75, not 1.0
    const a = { d: 'M 0 0 L 50 0 L 50 100 L 0 100 Z', windingRule: 'NONZERO' as const };
    const b = { d: 'M 25 0 L 75 0 L 75 100 L 25 100 Z', windingRule: 'NONZERO' as const };
    expect(coverage([a, b], 100, 100)).toBeCloseTo(0.75, 3);
    // a ring: outer 100² minus inner 50² with EVENODD → 0.75; NONZERO with same direction fills all
    const ring = 'M 0 0 L 100 0 L 100 100 L 0 100 Z M 25 25 L 75 25 L 75 75 L 25 75 Z';
    expect(coverage([{ d: ring, windingRule: 'EVENODD' }], 100, 100)).toBeCloseTo(0.75, 2);
    expect(coverage([{ d: ring, windingRule: 'NONZERO' }], 100, 100)).toBeCloseTo(1, 2);
    // clipped to the canvas
    expect(coverage([{ d: 'M -50 -50 L 500 -50 L 500 500 L -50 500 Z', windingRule: 'NONZERO' }], 100, 100)).toBeCloseTo(1, 5);
    expect(coverage([{ d: 'M 200 200 L 300 200 L 300 300 Z', windingRule: 'NONZERO' }], 100, 100)).toBe(0);
    // a circle of radius 40 (cubic arcs) ≈ π·40²/100²
    const k = 40 * 0.5523;
    const circle = `M 90 50 C 90 ${50 + k} ${50 + k} 90 50 90 C ${50 - k} 90 10 ${50 + k} 10 50 C 10 ${50 - k} ${50 - k} 10 50 10 C ${50 + k} 10 90 ${50 - k} 90 50 Z`;
    expect(coverage([{ d: circle, windingRule: 'NONZERO' }], 100, 100)).toBeCloseTo((Math.PI * 1600) / 10000, 2);
    expect(flattenPath(circle).length).toBe(1);
  });
});

describe('insert helpers', () => {
  const recipe: Recipe = {
    version: 1, mode: 'edit', prompt: 'a cabin', negativePrompt: '', seed: 1, steps: 20, guidance: 7.5, width: 640, height: 384,
    modelId: 'sd', sourceNodeIds: ['1:2'], pluginVersion: '0.1.0', createdAt: '2026-01-01T00:00:00.000Z',
  };

  it('names layers after the prompt, truncated to 60 characters', () => {
    expect(layerName('  a   mountain cabin ')).toBe('a mountain cabin');
    expect(layerName('')).toBe('Generated image');
    const long = layerName('x'.repeat(200));
    expect(long.length).toBe(60);
    expect(long.endsWith('…')).toBe(true);
  });

  it('keeps recipes under the pluginData cap (trims outline ids, then refuses)', () => {
    expect(recipeJson(recipe)).toEqual({ json: JSON.stringify(recipe), trimmed: false });
    const many = { ...recipe, outlineNodeIds: Array.from({ length: 5000 }, (_, i) => `${i}:${'9'.repeat(30)}`) };
    const r = recipeJson(many);
    expect(r.trimmed).toBe(true);
    expect(r.json.length).toBeLessThanOrEqual(MAX_RECIPE_CHARS);
    expect(JSON.parse(r.json).outlineNodeIds).toBeUndefined();
    const huge = { ...recipe, sourceNodeIds: Array.from({ length: 500 }, () => 'x'.repeat(200)) };
    expect(() => recipeJson(huge)).toThrow(/kB/);
  });

  it('maps the content box back onto the node: FILL when full, CROP transform when padded', () => {
    expect(resultPaint('h', { x: 0, y: 0, width: 640, height: 384 }, { width: 640, height: 384 })).toEqual({ type: 'IMAGE', imageHash: 'h', scaleMode: 'FILL' });
    const p = resultPaint('h', { x: 13, y: 0, width: 614, height: 384 }, { width: 640, height: 384 });
    expect(p.scaleMode).toBe('CROP');
    expect(p.imageTransform?.[0][0]).toBeCloseTo(614 / 640);
    expect(p.imageTransform?.[0][2]).toBeCloseTo(13 / 640);
    expect(p.imageTransform?.[1][1]).toBeCloseTo(1);
  });

  it('counts settings size like clientStorage (Uint8Array at its byte length)', () => {
    expect(storedSize({ a: 'xy' })).toBeGreaterThanOrEqual(JSON.stringify({ a: 'xy' }).length);
    expect(storedSize(new Uint8Array(1000))).toBe(1000);
  });
});
