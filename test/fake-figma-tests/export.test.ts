/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
import { beforeEach, describe, expect, it } from 'vitest';
import { createImage, decodePng, encodePng, type RgbaImage } from '../../ui/core/image';
import { createDemoDocument, createFakeFigma, type FakeHost } from '../fake-figma';

const rgb = (r: number, g: number, b: number): SolidPaint => ({ type: 'SOLID', color: { r, g, b } });
const px = (img: RgbaImage, x: number, y: number): number[] => [...img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4)];
const RED = [255, 0, 0, 255], GREEN = [0, 255, 0, 255], BLUE = [0, 0, 255, 255], YELLOW = [255, 255, 0, 255];
const BLACK = [0, 0, 0, 255], WHITE = [255, 255, 255, 255], CLEAR = [0, 0, 0, 0];

let figma: PluginAPI;
let host: FakeHost;
beforeEach(() => {
  ({ figma, host } = createFakeFigma({ pluginId: 'test' }));
});

/** A: red frame (100,50) 200×100 clipping; B: green frame inside, not clipping, with a blue rect overflowing it;
 *  D: a 2×1 black|white image (FILL); E: a yellow triangle vector; F: magenta rect overflowing A (clipped). */
function buildNested() {
  const a = figma.createFrame();
  a.resize(200, 100);
  a.x = 100;
  a.y = 50;
  a.fills = [rgb(1, 0, 0)];
  const b = figma.createFrame();
  b.resize(80, 60);
  b.fills = [rgb(0, 1, 0)];
  b.clipsContent = false;
  a.appendChild(b);
  b.x = 20;
  b.y = 10;
  const c = figma.createRectangle();
  c.resize(40, 40);
  c.fills = [rgb(0, 0, 1)];
  b.appendChild(c);
  c.x = 70;
  c.y = 50;
  const tex = createImage(2, 1);
  tex.data.set([0, 0, 0, 255, 255, 255, 255, 255]);
  const image = figma.createImage(encodePng(tex));
  const d = figma.createRectangle();
  d.resize(60, 40);
  d.fills = [{ type: 'IMAGE', imageHash: image.hash, scaleMode: 'FILL' }];
  a.appendChild(d);
  d.x = 120;
  d.y = 10;
  const e = figma.createVector();
  e.vectorPaths = [{ windingRule: 'NONZERO', data: 'M 0 0 L 40 0 L 0 40 Z' }];
  e.fills = [rgb(1, 1, 0)];
  e.strokes = [];
  a.appendChild(e);
  e.x = 50;
  e.y = 60;
  const f = figma.createRectangle();
  f.resize(40, 40);
  f.fills = [rgb(1, 0, 1)];
  a.appendChild(f);
  f.x = 180;
  f.y = 55;
  return { a, b, c, d, e, f };
}

describe('exportAsync (PNG rendered with ui/core/raster)', () => {
  it('renders nested frames, overflow, clipping, image fills and vectors at the right pixels', async () => {
    const { a } = buildNested();
    const bytes = await a.exportAsync({ format: 'PNG' });
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect([...bytes.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    const img = decodePng(bytes);
    expect([img.width, img.height]).toEqual([200, 100]);
    expect(px(img, 5, 5)).toEqual(RED); // A's own fill
    expect(px(img, 30, 20)).toEqual(GREEN); // B at (20,10) in A
    expect(px(img, 95, 65)).toEqual(BLUE); // C at (90,60) in A: overflows B (B does not clip)
    expect(px(img, 125, 30)).toEqual(BLACK); // D: image FILL, left texel
    expect(px(img, 175, 30)).toEqual(WHITE); // D: right texel
    expect(px(img, 52, 62)).toEqual(YELLOW); // E: inside the triangle
    expect(px(img, 85, 95)).toEqual(RED); // E: outside the hypotenuse
    expect(px(img, 195, 60)).toEqual([255, 0, 255, 255]); // F: inside A
    // F overflows A to x = 220, but A clips: the export is A's bounds only.
  });

  it('honours SCALE / WIDTH / HEIGHT constraints', async () => {
    const { a } = buildNested();
    const x2 = decodePng(await a.exportAsync({ format: 'PNG', constraint: { type: 'SCALE', value: 2 } }));
    expect([x2.width, x2.height]).toEqual([400, 200]);
    expect(px(x2, 191, 131)).toEqual(BLUE);
    expect(px(x2, 61, 41)).toEqual(GREEN);
    const w = decodePng(await a.exportAsync({ format: 'PNG', constraint: { type: 'WIDTH', value: 100 } }));
    expect([w.width, w.height]).toEqual([100, 50]);
    expect(px(w, 47, 32)).toEqual(BLUE);
    const h = decodePng(await a.exportAsync({ format: 'PNG', constraint: { type: 'HEIGHT', value: 300 } }));
    expect([h.width, h.height]).toEqual([600, 300]);
    await expect(a.exportAsync({ format: 'PNG', constraint: { type: 'SCALE', value: 0 } })).rejects.toThrow(/constraint.value/);
  });

  it('exports a non-clipping frame with its overflowing content, or its own box with useAbsoluteBounds', async () => {
    const { b } = buildNested();
    const content = decodePng(await b.exportAsync());
    expect([content.width, content.height]).toEqual([110, 90]); // B box ∪ C box
    expect(px(content, 5, 5)).toEqual(GREEN);
    expect(px(content, 100, 80)).toEqual(BLUE);
    expect(px(content, 100, 5)).toEqual(CLEAR);
    const box = decodePng(await b.exportAsync({ format: 'PNG', useAbsoluteBounds: true }));
    expect([box.width, box.height]).toEqual([80, 60]);
  });

  it('contentsOnly: false includes the layers underneath', async () => {
    const { a, c } = buildNested();
    const dot = figma.createEllipse();
    dot.resize(20, 20);
    dot.fills = [rgb(0, 0, 0)];
    a.appendChild(dot);
    dot.x = 5;
    dot.y = 5;
    const alone = decodePng(await dot.exportAsync({ format: 'PNG' }));
    expect(px(alone, 0, 0)).toEqual(CLEAR);
    expect(px(alone, 10, 10)).toEqual(BLACK);
    const inContext = decodePng(await dot.exportAsync({ format: 'PNG', contentsOnly: false }));
    expect(px(inContext, 0, 0)).toEqual(RED);
    expect(px(inContext, 10, 10)).toEqual(BLACK);
    expect(c.removed).toBe(false);
  });

  it('skips hidden children, draws opacity and strokes by strokeAlign', async () => {
    const frame = figma.createFrame();
    frame.resize(100, 100);
    const hidden = figma.createRectangle();
    hidden.fills = [rgb(0, 0, 0)];
    frame.appendChild(hidden);
    hidden.visible = false;
    const half = figma.createRectangle();
    half.resize(20, 20);
    half.fills = [rgb(0, 0, 1)];
    half.opacity = 0.5;
    frame.appendChild(half);
    half.x = 10;
    half.y = 10;
    const boxed = figma.createRectangle();
    boxed.resize(40, 40);
    boxed.fills = [rgb(1, 1, 1)];
    boxed.strokes = [rgb(1, 0, 0)];
    boxed.strokeWeight = 4;
    frame.appendChild(boxed);
    boxed.x = 50;
    boxed.y = 50;
    const img = decodePng(await frame.exportAsync());
    expect(px(img, 80, 20)).toEqual(WHITE); // hidden rect not drawn
    expect(px(img, 15, 15)).toEqual([128, 128, 255, 255]); // 50% blue over white
    expect(px(img, 51, 70)).toEqual(RED); // INSIDE stroke (default for rectangles)
    expect(px(img, 48, 70)).toEqual(WHITE);
    boxed.strokeAlign = 'OUTSIDE';
    expect(boxed.absoluteRenderBounds).toEqual({ x: 46, y: 46, width: 48, height: 48 });
    const out = decodePng(await frame.exportAsync());
    expect(px(out, 48, 70)).toEqual(RED);
    expect(px(out, 51, 70)).toEqual(WHITE);
    // exporting a hidden node still renders it
    const h = decodePng(await hidden.exportAsync());
    expect(px(h, 50, 50)).toEqual(BLACK);
  });

  it('applies a Figma mask (isMask) to the siblings above it', async () => {
    const ids = await createDemoDocument(figma);
    const frame = host.nodeById<FrameNode>(ids.maskFrame)!;
    const img = decodePng(await frame.exportAsync({ format: 'PNG', useAbsoluteBounds: true }));
    expect([img.width, img.height]).toEqual([300, 300]);
    expect(px(img, 5, 5)[3]).toBe(0); // outside the circular mask
    expect(px(img, 25, 150)[3]).toBe(255); // inside the circle (x from 20)
    expect(px(img, 150, 150)[3]).toBe(255);
    expect(px(img, 150, 290)[3]).toBe(0);
    expect(px(img, 40, 40)[3]).toBe(0); // corner of the circle's box, outside the circle
  });

  it('renders the demo document: hero photo, inpaint shape over the photo, wireframe strokes', async () => {
    const ids = await createDemoDocument(figma);
    const hero = decodePng(await host.nodeById<FrameNode>(ids.hero)!.exportAsync({ format: 'PNG', constraint: { type: 'WIDTH', value: 360 } }));
    expect([hero.width, hero.height]).toEqual([360, 225]);
    const sky = px(hero, 20, 10), grass = px(hero, 20, 215);
    expect(sky[2]!).toBeGreaterThan(sky[1]!); // blue sky on top
    expect(grass[1]!).toBeGreaterThan(grass[2]!); // green at the bottom
    const card = decodePng(await host.nodeById<FrameNode>(ids.photoCard)!.exportAsync());
    expect([card.width, card.height]).toEqual([400, 300]);
    const blemish = px(card, 295, 135);
    expect(blemish[0]!).toBeGreaterThan(200);
    expect(blemish[1]!).toBeLessThan(80);
    expect(px(card, 0, 0)[3]).toBe(0); // rounded corner (radius 12) clips the photo
    const wf = decodePng(await host.nodeById<FrameNode>(ids.wireframe)!.exportAsync());
    expect(px(wf, 40 + 150, 96 + 110)[0]!).toBeLessThan(100); // the X's crossing point is ink
    expect(px(wf, 40 + 150, 96 + 40)).toEqual(WHITE);
    expect(host.mutations).toHaveLength(0); // exporting and reading never mutates
  });

  it('rejects formats it cannot render and empty nodes', async () => {
    const r = figma.createRectangle();
    await expect(r.exportAsync({ format: 'SVG_STRING' })).rejects.toThrow(/not implemented/);
    const empty = figma.createFrame();
    empty.fills = [];
    await expect(empty.exportAsync()).rejects.toThrow(/no visible content/);
  });

  it('exports pages only after loadAsync under dynamic-page; the current page is loaded', async () => {
    const r = figma.createRectangle();
    r.fills = [rgb(0, 1, 0)];
    const img = decodePng(await figma.currentPage.exportAsync());
    expect([img.width, img.height]).toEqual([100, 100]);
    const other = figma.createPage();
    expect(other.children).toHaveLength(0); // created in this session: loaded
  });
});
