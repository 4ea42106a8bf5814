/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
import { describe, expect, it, vi } from 'vitest';
import { createDemoDocument, createFakeFigma } from '../fake-figma';

const rgb = (r: number, g: number, b: number): SolidPaint => ({ type: 'SOLID', color: { r, g, b } });

describe('selection', () => {
  it('host.select changes the selection and emits one selectionchange per tick', async () => {
    const { figma, host } = createFakeFigma();
    const a = figma.createRectangle(), b = figma.createEllipse();
    const seen: string[][] = [];
    figma.on('selectionchange', () => seen.push(figma.currentPage.selection.map((n) => n.id)));
    host.select([a.id]);
    host.select([a.id, b.id]);
    await host.settleAsync();
    expect(seen).toEqual([[a.id, b.id]]);
    figma.currentPage.selection = [b];
    await host.settleAsync();
    expect(seen.at(-1)).toEqual([b.id]);
    figma.currentPage.selection = [b]; // unchanged: no event
    await host.settleAsync();
    expect(seen).toHaveLength(2);
    b.remove(); // removed nodes leave the selection
    await host.settleAsync();
    expect(seen.at(-1)).toEqual([]);
    expect(() => host.select(['9:9'])).toThrow(/no node/);
  });
  it('selection is a frozen snapshot and rejects nodes from other pages', async () => {
    const { figma } = createFakeFigma();
    const r = figma.createRectangle();
    figma.currentPage.selection = [r];
    expect(Object.isFrozen(figma.currentPage.selection)).toBe(true);
    const other = figma.createPage();
    const moved = figma.createRectangle();
    other.appendChild(moved);
    expect(() => { figma.currentPage.selection = [moved]; }).toThrow(/not on page/);
    figma.off('selectionchange', () => undefined);
  });
});

describe('UI messages', () => {
  it('showUI notifies the host; UI messages reach onmessage and ui.on handlers with {origin}', async () => {
    const { figma, host } = createFakeFigma({ pluginId: '123' });
    const shown = vi.fn();
    host.onShowUI(shown);
    figma.showUI('<p>hi</p>', { width: 360, height: 560, visible: false });
    expect(shown).toHaveBeenCalledWith('<p>hi</p>', { width: 360, height: 560, visible: false });
    expect(host.ui).toMatchObject({ width: 360, height: 560, visible: false, closed: false });
    const got: unknown[] = [];
    figma.ui.onmessage = (msg, props) => { got.push(['onmessage', msg, props]); };
    figma.ui.on('message', (msg) => { got.push(['on', msg]); });
    const png = new Uint8Array([1, 2, 3]);
    expect(host.deliverUiMessage({ type: 'ui-ready', png })).toBe(true);
    expect(got).toEqual([['onmessage', { type: 'ui-ready', png }, { origin: 'null' }], ['on', { type: 'ui-ready', png }]]);
    expect((got[0] as [string, { png: Uint8Array }])[1].png).not.toBe(png); // structured clone
  });
  it('drops messages with another pluginId, and hosted-origin messages without one; accepts "*"', () => {
    const { figma, host } = createFakeFigma({ pluginId: '123' });
    figma.showUI('x');
    const handler = vi.fn();
    figma.ui.onmessage = handler;
    expect(host.deliverUiMessage({ type: 'a' }, { origin: 'https://evil.example', pluginId: '999' })).toBe(false);
    expect(host.deliverUiMessage({ type: 'b' }, { origin: 'https://app.example' })).toBe(false);
    expect(handler).not.toHaveBeenCalled();
    expect(host.droppedUiMessages.map((d) => d.reason)).toEqual(['plugin-id-mismatch', 'hosted-ui-without-plugin-id']);
    expect(host.deliverUiMessage({ type: 'c' }, { origin: 'https://app.example', pluginId: '*' })).toBe(true);
    expect(host.deliverUiMessage({ type: 'd' }, { origin: 'https://app.example', pluginId: '123' })).toBe(true);
    expect(handler.mock.calls.map((c) => [c[0].type, c[1].origin])).toEqual([['c', 'https://app.example'], ['d', 'https://app.example']]);
    figma.ui.close();
    expect(host.deliverUiMessage({ type: 'e' })).toBe(false);
    expect(host.droppedUiMessages.at(-1)!.reason).toBe('no-ui');
  });
  it('postMessage sends only plain data + Uint8Array, and queues until the UI listens', async () => {
    const { figma, host } = createFakeFigma();
    expect(() => figma.ui.postMessage({ type: 'x' })).toThrow(/No UI/);
    figma.showUI('x');
    figma.ui.postMessage({ type: 'early', png: new Uint8Array([9]) });
    expect(() => figma.ui.postMessage({ buf: new ArrayBuffer(4) })).toThrow(/message\.buf \(ArrayBuffer/);
    expect(() => figma.ui.postMessage({ t: [new Float32Array(2)] })).toThrow(/message\.t\[0\] \(Float32Array/);
    expect(() => figma.ui.postMessage({ f: () => 1 })).toThrow(/function/);
    const received: unknown[] = [];
    host.onPostToUi((m, o) => received.push([m, o]));
    figma.ui.postMessage({ type: 'late' }, { origin: 'https://app.example' });
    await host.settleAsync();
    expect(received).toEqual([[{ type: 'early', png: new Uint8Array([9]) }, undefined], [{ type: 'late' }, { origin: 'https://app.example' }]]);
    expect(host.uiMessages).toHaveLength(2);
  });
  it('collects errors thrown by async handlers and rethrows them from settleAsync', async () => {
    const { figma, host } = createFakeFigma();
    figma.showUI('x');
    figma.ui.onmessage = async () => { throw new Error('boom'); };
    host.deliverUiMessage({ type: 'x' });
    await expect(host.settleAsync()).rejects.toThrow('boom');
    expect(host.errors).toHaveLength(1);
    await host.settleAsync(); // reported once
  });
});

describe('undo steps and the mutation log', () => {
  it('groups a run\'s changes into undo steps at commitUndo / closePlugin', async () => {
    const { figma, host } = createFakeFigma();
    await createDemoDocument(figma);
    expect(host.mutations).toHaveLength(0); // demo document is the saved baseline
    const r = figma.createRectangle();
    r.fills = [rgb(1, 0, 0)];
    r.setPluginData('recipe', '{}');
    figma.commitUndo();
    figma.commitUndo(); // nothing new: no empty step
    expect(host.undoSteps).toBe(1);
    expect(host.commitUndoCalls).toBe(2);
    expect(host.undoHistory[0]!.mutations.map((m) => `${m.kind}:${m.property ?? ''}`)).toEqual(['create:', 'reparent:', 'set:fills', 'pluginData:recipe']);
    r.name = 'Result';
    expect(host.pendingUndoMutations).toHaveLength(1);
    const closed = vi.fn();
    figma.on('close', closed);
    figma.closePlugin('Done');
    expect(closed).toHaveBeenCalledOnce();
    expect(host.undoSteps).toBe(2);
    expect(host.closed).toBe(true);
    expect(host.notifications.at(-1)!.message).toBe('Done');
  });
  it('reading and exporting leave the document untouched', async () => {
    const { figma, host } = createFakeFigma();
    const ids = await createDemoDocument(figma);
    const hero = (await figma.getNodeByIdAsync(ids.hero)) as FrameNode;
    void hero.fills, hero.absoluteTransform, hero.absoluteRenderBounds, hero.getPluginData('x');
    await hero.exportAsync({ format: 'PNG', constraint: { type: 'SCALE', value: 0.25 } });
    figma.currentPage.selection = [hero];
    expect(host.mutations).toHaveLength(0);
  });
});

describe('notify', () => {
  it('records notifications and returns a handler', () => {
    const { figma, host } = createFakeFigma();
    const seen = vi.fn();
    host.onNotify(seen);
    const h = figma.notify('Generating…', { timeout: Infinity });
    figma.notify('Failed', { error: true });
    h.cancel();
    expect(host.notifications).toEqual([
      { message: 'Generating…', error: false, timeout: Infinity, buttonText: undefined, cancelled: true },
      { message: 'Failed', error: true, timeout: undefined, buttonText: undefined, cancelled: false },
    ]);
    expect(seen).toHaveBeenCalledTimes(2);
  });
});

describe('hitTest', () => {
  it('picks like a click in Figma: children of top-level frames, groups whole, deep on request', async () => {
    const { figma, host } = createFakeFigma();
    const ids = await createDemoDocument(figma);
    expect(host.hitTest(100, 100)).toBe(ids.hero); // a top-level frame with no children
    expect(host.hitTest(780 + 295, 135)).toBe(ids.blemish);
    expect(host.hitTest(780 + 20, 280)).toBe(ids.photo);
    expect(host.hitTest(780 + 250 + 3, 93)).toBe(ids.photo); // inside the ellipse's box but outside the ellipse
    expect(host.hitTest(1240 + 150, 150)).toBe(ids.maskGroup);
    expect(host.hitTest(1240 + 150, 150, { deep: true })).toBe(ids.maskedImage);
    expect(host.hitTest(40 + 150, 510 + 96 + 110, { deep: true })).toBe(ids.wireframeX);
    expect(host.hitTest(-500, -500)).toBeNull();
    const origin = host.pageOrigin();
    const page = host.renderPage();
    expect(origin.x).toBeLessThan(0);
    expect(page.width).toBeGreaterThan(1500);
  });
});

describe('launch and relaunch', () => {
  const manifest = { id: '42', relaunchButtons: [{ command: 'regenerate', name: 'Regenerate' }] };
  it('sets figma.command, selects the relaunched node and emits run', async () => {
    const { figma, host } = createFakeFigma({ manifest });
    const r = figma.createRectangle();
    expect(() => r.setRelaunchData({ bogus: '' })).toThrow(/not declared in manifest/);
    r.setRelaunchData({ regenerate: 'Regenerate with the same recipe' });
    expect(r.getRelaunchData()).toEqual({ regenerate: 'Regenerate with the same recipe' });
    const runs: RunEvent[] = [];
    host.launch({ command: 'regenerate', nodeId: r.id });
    figma.on('run', (e) => { runs.push(e); }); // registered by the plugin's top-level code, after launch
    await host.settleAsync();
    expect(figma.command).toBe('regenerate');
    expect(figma.currentPage.selection.map((n) => n.id)).toEqual([r.id]);
    expect(runs).toEqual([{ command: 'regenerate' }]);
    const other = figma.createRectangle();
    expect(() => host.launch({ command: 'regenerate', nodeId: other.id })).toThrow(/no relaunch data/);
  });
});

describe('dynamic-page document access', () => {
  it('getNodeById throws; getNodeByIdAsync returns the same object; other pages need loadAsync', async () => {
    const { figma, host } = createFakeFigma();
    const r = figma.createRectangle();
    expect(() => figma.getNodeById(r.id)).toThrow(/dynamic-page/);
    expect(await figma.getNodeByIdAsync(r.id)).toBe(r);
    expect(await figma.getNodeByIdAsync('77:77')).toBeNull();
    expect(() => { (figma as { currentPage: PageNode }).currentPage = figma.root.children[0]!; }).toThrow(/setCurrentPageAsync/);
    expect(() => figma.root.findAll()).toThrow(/loadAllPagesAsync/);
    // a second page (as if it existed in the file, not loaded)
    const p2 = figma.createPage();
    const rec = host.nodeById<PageNode>(p2.id)!;
    expect(rec.children).toEqual([]);
    await figma.loadAllPagesAsync();
    expect(figma.root.findAll((n) => n.type === 'RECTANGLE')).toEqual([r]);
    const changed = vi.fn();
    figma.on('currentpagechange', changed);
    await figma.setCurrentPageAsync(p2);
    await host.settleAsync();
    expect(figma.currentPage).toBe(p2);
    expect(changed).toHaveBeenCalledOnce();
    const full = createFakeFigma({ documentAccess: 'full' }).figma;
    const n = full.createEllipse();
    expect(full.getNodeById(n.id)).toBe(n);
  });
});

describe('node semantics', () => {
  it('nodes are not extensible, read-only props reject writes, removed nodes throw', () => {
    const { figma } = createFakeFigma();
    const r = figma.createRectangle();
    expect(() => { (r as unknown as { fill: unknown }).fill = []; }).toThrow(/not extensible/);
    expect(() => { (r as unknown as { width: number }).width = 5; }).toThrow(/read only/);
    expect('children' in r).toBe(false);
    const g = figma.group([r], figma.currentPage);
    expect('fills' in g).toBe(false);
    r.remove();
    expect(r.removed).toBe(true);
    expect(() => r.name).toThrow(/does not exist/);
    expect(g.removed).toBe(true); // a group is deleted with its last child
  });
  it('fills are frozen; assignment replaces and fills in defaults; bad paints throw', () => {
    const { figma, host } = createFakeFigma();
    const r = figma.createRectangle();
    const fills = r.fills as Paint[];
    expect(Object.isFrozen(fills)).toBe(true);
    expect(() => fills.push(rgb(0, 0, 0))).toThrow();
    r.fills = [rgb(1, 0, 0)];
    expect(r.fills).toEqual([{ type: 'SOLID', color: { r: 1, g: 0, b: 0 }, visible: true, opacity: 1, blendMode: 'NORMAL' }]);
    expect(() => { r.fills = [{ type: 'SOLID', color: { r: 2, g: 0, b: 0 } }]; }).toThrow(/fills\[0\]\.color\.r/);
    expect(() => { r.fills = figma.mixed as unknown as Paint[]; }).toThrow(/mixed/);
    expect(host.mutations.filter((m) => m.property === 'fills')).toHaveLength(1);
  });
  it('transforms follow Figma: relative to the container (frames, not groups); absolute for nesting', () => {
    const { figma } = createFakeFigma();
    const frame = figma.createFrame();
    frame.x = 100;
    frame.y = 200;
    const inner = figma.createFrame();
    frame.appendChild(inner);
    inner.x = 10;
    inner.y = 20;
    const r = figma.createRectangle();
    r.resize(30, 40);
    inner.appendChild(r);
    r.x = 5;
    r.y = 6;
    expect(r.absoluteTransform).toEqual([[1, 0, 115], [0, 1, 226]]);
    expect(r.absoluteBoundingBox).toEqual({ x: 115, y: 226, width: 30, height: 40 });
    const e = figma.createEllipse();
    inner.appendChild(e);
    e.x = 50;
    const g = figma.group([r, e], inner);
    expect([g.x, g.y, g.width, g.height]).toEqual([5, 0, 145, 100]); // group box in inner's space
    expect(r.x).toBe(5); // children stay relative to the frame, not the group
    expect(r.absoluteTransform).toEqual([[1, 0, 115], [0, 1, 226]]);
    g.x = 15;
    expect(r.x).toBe(15);
    expect(r.absoluteBoundingBox!.x).toBe(125);
    r.rotation = 90;
    expect(r.rotation).toBeCloseTo(90, 9);
    const b = r.absoluteBoundingBox!;
    expect([b.width, b.height].map((v) => Math.round(v))).toEqual([40, 30]);
  });
  it('geometry: fillGeometry for rects / ellipses / vectors; strokeGeometry only with strokes', () => {
    const { figma } = createFakeFigma();
    const r = figma.createRectangle();
    r.resize(20, 10);
    expect(r.fillGeometry).toEqual([{ windingRule: 'NONZERO', data: 'M 0 0 L 20 0 L 20 10 L 0 10 L 0 0 Z' }]);
    expect(r.strokeGeometry).toEqual([]);
    r.strokes = [rgb(0, 0, 0)];
    expect(r.strokeGeometry[0]!.data).toMatch(/^M /);
    const e = figma.createEllipse();
    expect(e.fillGeometry[0]!.data).toMatch(/ C /);
    const v = figma.createVector();
    v.x = 100;
    v.vectorPaths = [{ windingRule: 'EVENODD', data: 'M 10 10 L 30 10 L 30 40 Z' }];
    expect([v.x, v.y, v.width, v.height]).toEqual([110, 10, 20, 30]); // normalised to its box
    expect(v.vectorPaths[0]!.data).toBe('M 0 0 L 20 0 L 20 30 Z');
    v.resize(40, 60);
    expect(v.vectorPaths[0]!.data).toBe('M 0 0 L 40 0 L 40 60 Z');
    expect(() => { v.vectorPaths = [{ windingRule: 'NONZERO', data: 'M 0 0 L' }]; }).toThrow(/missing a number/);
  });
  it('text needs its font loaded before characters change; auto-resizes', async () => {
    const { figma } = createFakeFigma();
    const t = figma.createText();
    expect(() => { t.characters = 'Hi'; }).toThrow(/unloaded font "Inter Regular"/);
    await figma.loadFontAsync({ family: 'Inter', style: 'Regular' });
    t.characters = 'Hello';
    t.fontSize = 20;
    expect(t.name).toBe('Hello');
    expect([t.width, t.height]).toEqual([50, 24]);
    await expect(figma.loadFontAsync({ family: 'Nope', style: 'Regular' })).rejects.toThrow(/could not be loaded/);
  });
  it('clone goes to the current page; insertChild checks its index; no cycles', () => {
    const { figma } = createFakeFigma();
    const frame = figma.createFrame();
    const r = figma.createRectangle();
    frame.appendChild(r);
    r.setPluginData('k', 'v');
    const c = r.clone();
    expect(c.parent!.id).toBe(figma.currentPage.id);
    expect(c.getPluginData('k')).toBe('v');
    expect(c.id).not.toBe(r.id);
    expect(() => frame.insertChild(5, c)).toThrow(/out of range/);
    frame.insertChild(0, c);
    expect(frame.children.map((n) => n.id)).toEqual([c.id, r.id]);
    const inner = figma.createFrame();
    frame.appendChild(inner);
    expect(() => inner.appendChild(frame)).toThrow(/descendant/);
  });
  it('viewport scrollAndZoomIntoView centres the nodes', () => {
    const { figma } = createFakeFigma();
    const r = figma.createRectangle();
    r.x = 1000;
    r.resize(200, 100);
    figma.viewport.scrollAndZoomIntoView([r]);
    expect(figma.viewport.center).toEqual({ x: 1100, y: 50 });
    const b = figma.viewport.bounds;
    expect(b.x).toBeLessThanOrEqual(1000);
    expect(b.x + b.width).toBeGreaterThanOrEqual(1200);
  });
});
