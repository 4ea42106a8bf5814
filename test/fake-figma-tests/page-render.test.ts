/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { encodePng } from '../../ui/core/image';
import { createDemoDocument, createFakeFigma } from '../fake-figma';
import { ARTIFACTS } from '../helpers/paths';

describe('host.renderPage (the harness canvas)', () => {
  it('renders the whole page on its background, offset by pageOrigin, and re-renders only after changes', async () => {
    const { figma, host } = createFakeFigma();
    const ids = await createDemoDocument(figma);
    const page = host.renderPage();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.writeFileSync(path.join(ARTIFACTS, 'fake-figma-page.png'), encodePng(page)); // for a human look
    const o = host.pageOrigin();
    const at = (x: number, y: number): number[] => {
      const i = ((y - o.y) * page.width + (x - o.x)) * 4;
      return [...page.data.subarray(i, i + 4)];
    };
    expect(at(o.x + 1, o.y + 1)).toEqual([245, 245, 245, 255]); // page background #F5F5F5
    expect(at(780 + 100, 360 + 60)).toEqual([51, 102, 230, 255]); // the plain blue rectangle
    expect(host.renderPage()).toBe(page); // cached while nothing changes
    const changed = vi.fn();
    host.onChange(changed);
    host.nodeById<RectangleNode>(ids.rectangle)!.fills = [{ type: 'SOLID', color: { r: 1, g: 0, b: 0 } }];
    await host.settleAsync();
    expect(changed).toHaveBeenCalledOnce();
    const again = host.renderPage();
    expect(again).not.toBe(page);
    const i = ((360 + 60 - o.y) * again.width + (780 + 100 - o.x)) * 4;
    expect([...again.data.subarray(i, i + 4)]).toEqual([255, 0, 0, 255]);
  });
});

describe('events', () => {
  it('documentchange (after loadAllPagesAsync) reports creations, property changes and deletions; once fires once', async () => {
    const { figma, host } = createFakeFigma();
    expect(() => figma.on('documentchange', () => undefined)).toThrow(/loadAllPagesAsync/);
    await figma.loadAllPagesAsync();
    const batches: DocumentChangeEvent[] = [];
    figma.on('documentchange', (e) => { batches.push(e); });
    const once = vi.fn();
    figma.once('selectionchange', once);
    const r = figma.createRectangle();
    r.name = 'Result';
    r.remove();
    host.select([]);
    figma.currentPage.selection = [figma.createEllipse()];
    await host.settleAsync();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.documentChanges.map((c) => `${c.type}:${c.id}`)).toEqual([
      `CREATE:${r.id}`, `PROPERTY_CHANGE:${r.id}`, `PROPERTY_CHANGE:${r.id}`, `DELETE:${r.id}`,
      expect.stringMatching(/^CREATE:/), expect.stringMatching(/^PROPERTY_CHANGE:/),
    ]);
    expect(once).toHaveBeenCalledOnce();
  });
  it('absoluteRenderBounds is null for hidden nodes and nodes inside hidden frames', () => {
    const { figma } = createFakeFigma();
    const f = figma.createFrame();
    const r = figma.createRectangle();
    f.appendChild(r);
    expect(r.absoluteRenderBounds).toEqual({ x: 0, y: 0, width: 100, height: 100 });
    f.visible = false;
    expect(r.absoluteRenderBounds).toBeNull();
    f.visible = true;
    r.visible = false;
    expect(r.absoluteRenderBounds).toBeNull();
  });
});

describe('settleAsync', () => {
  it('rejects instead of hanging when a handler never settles', async () => {
    const { figma, host } = createFakeFigma();
    figma.showUI('x');
    figma.ui.onmessage = () => new Promise(() => undefined);
    host.deliverUiMessage({ type: 'wait-forever' });
    await expect(host.settleAsync({ timeoutMs: 100 })).rejects.toThrow(/1 plugin handler promise\(s\) still pending/);
  });
});
