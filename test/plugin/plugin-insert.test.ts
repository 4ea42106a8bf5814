/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * plugin/ insert-result against the fake Figma: a result becomes a layer with our image bytes at the source's
 * bounds, pluginData 'recipe', relaunch buttons, one undo step per generation (batches included), plain-words
 * notifications; plus settings, history, focus-node and relaunch.
 */
import { decode as decodePngFast } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { RELAUNCH_DATA } from '../../plugin/insert-result';
import { recipe as recipeValidator } from '../../protocol/messages';
import { createDriverAsync, insertFor, makeRecipe, makeResultPng, rid, SD15, type Driver } from './plugin-driver';

const prepare = (d: Driver, mode: 'generate' | 'edit' | 'inpaint' | 'wireframe', extra: Record<string, unknown> = {}) =>
  d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode, size: SD15, ...extra }, 'job-inputs');

const node = <T extends SceneNode>(d: Driver, id: string): T => {
  const n = d.host.nodeById<T>(id);
  expect(n, id).not.toBeNull();
  return n!;
};

/** A result never covers existing work: no other top-level layer of the page overlaps it. */
const expectOnFreeSpace = (d: Driver, id: string): void => {
  const r = node<SceneNode>(d, id).absoluteBoundingBox!;
  for (const other of d.figma.currentPage.children) {
    if (other.id === id) continue;
    const b = other.absoluteBoundingBox!;
    const apart = r.x >= b.x + b.width || b.x >= r.x + r.width || r.y >= b.y + b.height || b.y >= r.y + r.height;
    expect(apart, `${other.name} overlaps the result`).toBe(true);
  }
};

const px = (im: { width: number; data: ArrayLike<number> }, x: number, y: number): number[] =>
  Array.from({ length: 3 }, (_, k) => im.data[(Math.round(y) * im.width + Math.round(x)) * 4 + k]!);

describe('plugin: insert-result', () => {
  it('Edit result: a rectangle beside the source (never on it), same size, our image bytes, recipe, relaunch, selected, one undo step', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.hero]);
    const job = await prepare(d, 'edit');
    const undoBefore = d.host.undoSteps;
    const msg = insertFor(job);
    const done = await d.requestAsync(msg, 'insert-done');
    expect(done.jobId).toBe('job-1');
    expect(done.nodeIds).toHaveLength(1);
    const rect = node<RectangleNode>(d, done.nodeIds[0]!);
    expect(rect.type).toBe('RECTANGLE');
    expect(rect.name).toBe('a cosy mountain cabin at dusk');
    // beside the source (Hero is 720×450 at 0,0): same size and top, right of it, on free space of the page
    const box = rect.absoluteBoundingBox!;
    expect({ y: box.y, width: box.width, height: box.height }).toEqual({ y: 0, width: 720, height: 450 });
    expect(box.x).toBeGreaterThanOrEqual(720 + 24);
    const page = d.figma.currentPage;
    expect(rect.parent?.id).toBe(page.id);
    expectOnFreeSpace(d, rect.id);
    // selected and scrolled into view
    expect(page.selection.map((n) => n.id)).toEqual([rect.id]);
    const vb = d.figma.viewport.bounds;
    expect(vb.x <= box.x && vb.y <= box.y && vb.x + vb.width >= box.x + box.width && vb.y + vb.height >= box.y + box.height).toBe(true);
    // the fill is an IMAGE with exactly our bytes, cropped to the content box (padding cut off)
    const fill = (rect.fills as readonly Paint[])[0] as ImagePaint;
    expect(fill.type).toBe('IMAGE');
    expect(fill.scaleMode).toBe('CROP');
    const bytes = await d.figma.getImageByHash(fill.imageHash!)!.getBytesAsync();
    expect(Array.from(bytes)).toEqual(Array.from(msg.png));
    // what the user sees: the node rendered shows the red/blue halves split at the content's centre
    const shot = decodePngFast(await rect.exportAsync({ format: 'PNG' }));
    expect({ w: shot.width, h: shot.height }).toEqual({ w: 720, h: 450 });
    const c = job.placement.content;
    const splitX = ((job.width / 2 - c.x) / c.width) * 720; // where the PNG's half-way column lands on the node
    expect(px(shot, splitX - 6, 225)).toEqual([220, 30, 30]);
    expect(px(shot, splitX + 6, 225)).toEqual([30, 30, 220]);
    // provenance
    const stored = recipeValidator.validate(JSON.parse(rect.getPluginData('recipe')));
    expect(stored).toEqual(msg.recipe);
    expect(rect.getRelaunchData()).toEqual(RELAUNCH_DATA);
    // one undo step, one success notification
    expect(d.host.undoSteps).toBe(undoBefore + 1);
    expect(d.host.pendingUndoMutations).toEqual([]);
    expect(d.host.notifications.at(-1)).toMatchObject({ message: 'Inserted “a cosy mountain cabin at dusk”.', error: false });
    // the source itself was not touched
    expect(d.host.mutations.filter((m) => m.nodeId === d.ids.hero)).toEqual([]);
  });

  it('a batch becomes a row of rectangles beside the source (one node type), all selected, one undo step', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.photo]);
    const job = await prepare(d, 'edit');
    const undoBefore = d.host.undoSteps;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const done = await d.requestAsync(insertFor(job, { batchIndex: i, batchCount: 3, jobId: 'batch-job' }, { seed: 100 + i, batchIndex: i, batchCount: 3 }), 'insert-done');
      ids.push(...done.nodeIds);
      expect(d.host.undoSteps, `after image ${i + 1}`).toBe(undoBefore + (i === 2 ? 1 : 0));
    }
    expect(d.host.commitUndoCalls).toBe(1);
    const frames = ids.map((id) => node<RectangleNode>(d, id));
    expect(frames.map((f) => f.type)).toEqual(['RECTANGLE', 'RECTANGLE', 'RECTANGLE']);
    expect(frames.map((f) => f.name)).toEqual([1, 2, 3].map((i) => `a cosy mountain cabin at dusk · ${i}/3`));
    // Photo is 400×300 at (780, 0) inside its card: the three line up on one row right of it, 24 px apart, on free space.
    const boxes = frames.map((f) => f.absoluteBoundingBox!);
    expect(boxes.map((b) => [b.y, b.width, b.height])).toEqual([[0, 400, 300], [0, 400, 300], [0, 400, 300]]);
    expect(boxes[0]!.x).toBeGreaterThanOrEqual(780 + 400 + 24);
    expect(boxes[1]!.x - boxes[0]!.x).toBe(424);
    expect(boxes[2]!.x - boxes[1]!.x).toBe(424);
    for (const id of ids) expectOnFreeSpace(d, id);
    expect(d.figma.currentPage.selection.map((n) => n.id)).toEqual(ids);
    expect(frames.map((f) => JSON.parse(f.getPluginData('recipe')).seed)).toEqual([100, 101, 102]);
    expect(d.host.notifications.filter((n) => !n.error).map((n) => n.message)).toEqual(['Inserted 3 images of “a cosy mountain cabin at dusk”.']);
    // one undo step holds all three creations
    expect(d.host.undoHistory.at(-1)!.mutations.filter((m) => m.kind === 'create').map((m) => m.nodeId).sort()).toEqual([...ids].sort());
  });

  it('a cancelled batch still ends as its own undo step when the next generation starts', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.hero]);
    const job = await prepare(d, 'edit');
    await d.requestAsync(insertFor(job, { batchIndex: 0, batchCount: 4, jobId: 'a' }), 'insert-done');
    expect(d.host.undoSteps).toBe(0);
    await d.requestAsync(insertFor(job, { jobId: 'b' }), 'insert-done');
    expect(d.host.undoSteps).toBe(2);
  });

  it('Generate with nothing selected: a rectangle centred in the view', async () => {
    const d = await createDriverAsync();
    d.figma.viewport.center = { x: 2000, y: 1000 };
    const job = await prepare(d, 'generate', { generateSize: { width: 512, height: 512 } });
    const done = await d.requestAsync(insertFor(job, {}, { mode: 'generate', prompt: 'x'.repeat(80) }), 'insert-done');
    const rect = node<RectangleNode>(d, done.nodeIds[0]!);
    expect(rect.absoluteBoundingBox).toEqual({ x: 1744, y: 744, width: 512, height: 512 });
    expect(rect.parent?.type).toBe('PAGE');
    expect(rect.name).toHaveLength(60);
    expect((rect.fills as readonly ImagePaint[])[0]!.scaleMode).toBe('FILL');
    expect(d.host.undoSteps).toBe(1);
  });

  it('Inpaint result goes beside the image (the mask shape cannot hide it, the original stays to compare)', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.photo, d.ids.blemish]);
    const job = await prepare(d, 'inpaint');
    const done = await d.requestAsync(insertFor(job), 'insert-done');
    const rect = node<RectangleNode>(d, done.nodeIds[0]!);
    const card = node<FrameNode>(d, d.ids.photoCard);
    expect(card.children.map((c) => c.id)).toEqual([d.ids.photo, d.ids.blemish]);
    const box = rect.absoluteBoundingBox!;
    expect({ y: box.y, width: box.width, height: box.height }).toEqual({ y: 0, width: 400, height: 300 });
    expect(box.x).toBeGreaterThanOrEqual(1180 + 24);
    expectOnFreeSpace(d, rect.id);
  });

  it('two Edit runs of one source line up side by side for comparison', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.hero]);
    const job = await prepare(d, 'edit');
    const a = await d.requestAsync(insertFor(job, { jobId: 'strength-a' }), 'insert-done');
    const b = await d.requestAsync(insertFor(job, { jobId: 'strength-b' }), 'insert-done');
    const [ra, rb] = [node<RectangleNode>(d, a.nodeIds[0]!).absoluteBoundingBox!, node<RectangleNode>(d, b.nodeIds[0]!).absoluteBoundingBox!];
    expect(ra.y).toBe(rb.y);
    expect(rb.x).toBeGreaterThanOrEqual(ra.x + ra.width + 24);
    expectOnFreeSpace(d, a.nodeIds[0]!);
    expectOnFreeSpace(d, b.nodeIds[0]!);
  });

  it('Generate into an empty frame fills it from inside; a square into a wide frame keeps the whole square (no crop)', async () => {
    const d = await createDriverAsync();
    const frame = d.figma.createFrame();
    frame.resize(720, 450);
    frame.x = 0;
    frame.y = 2000;
    d.host.select([frame.id]);
    const wide = await prepare(d, 'generate');
    const one = await d.requestAsync(insertFor(wide, {}, { mode: 'generate' }), 'insert-done');
    const r1 = node<RectangleNode>(d, one.nodeIds[0]!);
    expect(r1.parent?.id).toBe(frame.id);
    expect(r1.absoluteBoundingBox).toEqual({ x: 0, y: 2000, width: 720, height: 450 });
    const empty = d.figma.createFrame();
    empty.resize(720, 450);
    empty.y = 3000;
    d.host.select([empty.id]);
    const square = await prepare(d, 'generate', { generateSize: { width: 512, height: 512 } });
    const two = await d.requestAsync(insertFor(square, {}, { mode: 'generate' }), 'insert-done');
    const r2 = node<RectangleNode>(d, two.nodeIds[0]!);
    expect({ width: r2.width, height: r2.height }).toEqual({ width: 450, height: 450 });
    expect((r2.fills as readonly ImagePaint[])[0]!.scaleMode).toBe('FILL');
  });

  it('a full-resolution result (the frame at 2×) fills the frame whole: FILL, no crop, its own pixels', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.hero]);
    const job = await prepare(d, 'generate');
    expect({ w: job.width, h: job.height }).toEqual({ w: 640, h: 384 });
    const full = { width: 1440, height: 900 };
    const msg = insertFor(job, {
      png: makeResultPng(full.width, full.height), ...full, placement: { ...job.placement, content: { x: 0, y: 0, ...full } },
    }, { fullResolution: { ...full, strength: 0.3 } });
    const done = await d.requestAsync(msg, 'insert-done');
    const rect = node<RectangleNode>(d, done.nodeIds[0]!);
    expect({ w: rect.width, h: rect.height }).toEqual({ w: 720, h: 450 });
    const fill = (rect.fills as readonly Paint[])[0] as ImagePaint;
    expect(fill.scaleMode).toBe('FILL');
    expect(await d.figma.getImageByHash(fill.imageHash!)!.getSizeAsync()).toEqual(full);
    expect(JSON.parse(rect.getPluginData('recipe')).fullResolution).toEqual({ ...full, strength: 0.3 });
    // A PNG that is not the announced full-resolution size is refused.
    const wrong = insertFor(job, { jobId: 'job-2', png: makeResultPng(1440, 900), width: 1440, height: 900, placement: job.placement }, {});
    expect((await d.requestAsync(wrong, 'error')).error.message).toMatch(/does not match the job's 640×384 canvas/);
  });

  it("replace-fill swaps the source's top image fill and keeps its other fills", async () => {
    const d = await createDriverAsync();
    const photo = node<RectangleNode>(d, d.ids.photo);
    photo.fills = [{ type: 'SOLID', color: { r: 1, g: 1, b: 1 } }, ...(photo.fills as readonly Paint[])];
    d.host.markSaved();
    d.host.select([d.ids.photo]);
    const job = await prepare(d, 'edit');
    const msg = insertFor(job, { target: 'replace-fill' });
    const done = await d.requestAsync(msg, 'insert-done');
    expect(done.nodeIds).toEqual([d.ids.photo]);
    const fills = photo.fills as readonly Paint[];
    expect(fills.map((f) => f.type)).toEqual(['SOLID', 'IMAGE']);
    const img = fills[1] as ImagePaint;
    expect(img.imageHash).not.toBe(d.ids.stillLifeHash);
    expect(Array.from(await d.figma.getImageByHash(img.imageHash!)!.getBytesAsync())).toEqual(Array.from(msg.png));
    expect(JSON.parse(photo.getPluginData('recipe')).prompt).toBe(msg.recipe.prompt);
    expect(d.host.mutations.filter((m) => m.kind === 'create')).toEqual([]);
    expect(d.host.undoSteps).toBe(1);
  });

  it('uses the ids captured at prepare-job, not the selection at insert time', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.hero]);
    const job = await prepare(d, 'edit');
    d.host.select([d.ids.rectangle]);
    const done = await d.requestAsync(insertFor(job), 'insert-done');
    const box = node<RectangleNode>(d, done.nodeIds[0]!).absoluteBoundingBox!;
    expect({ y: box.y, width: box.width, height: box.height }).toEqual({ y: 0, width: 720, height: 450 });
  });
});

describe('plugin: settings, history, focus, relaunch', () => {
  it('saves settings in clientStorage and returns them in init', async () => {
    const d = await createDriverAsync();
    const settings = { modelId: 'sd15', steps: 24, theme: 'dark', recent: ['a', 'b'] };
    await d.requestAsync({ type: 'save-settings', requestId: rid('s'), settings }, 'ack');
    expect(await d.figma.clientStorage.getAsync('settings')).toEqual(settings);
    const init = await d.requestAsync({ type: 'ui-ready', requestId: rid('u') }, 'init');
    expect(init.settings).toEqual(settings);
    expect(init.theme).toBe('dark');
    const tooBig = await d.requestAsync({ type: 'save-settings', requestId: rid('s'), settings: { blob: 'x'.repeat(300_000) } }, 'error');
    expect(tooBig.error.code).toBe('INVALID_INPUT');
    expect(tooBig.error.message).toMatch(/at most 256 kB/);
    expect(await d.figma.clientStorage.getAsync('settings')).toEqual(settings);
  });

  it('lists results on the page newest first with ≤128 px thumbnails; focus-node selects one', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.hero]);
    const job = await prepare(d, 'edit');
    const first = await d.requestAsync(insertFor(job, { jobId: 'j1' }, { createdAt: '2026-01-01T10:00:00.000Z', prompt: 'older' }), 'insert-done');
    const second = await d.requestAsync(insertFor(job, { jobId: 'j2' }, { createdAt: '2026-01-02T10:00:00.000Z', prompt: 'newer' }), 'insert-done');
    const history = await d.requestAsync({ type: 'get-history', requestId: rid('h') }, 'history');
    expect(history.entries.map((e) => e.nodeId)).toEqual([second.nodeIds[0], first.nodeIds[0]]);
    expect(history.entries.map((e) => e.recipe.prompt)).toEqual(['newer', 'older']);
    const thumb = decodePngFast(history.entries[0]!.thumbnail!);
    expect(Math.max(thumb.width, thumb.height)).toBe(128);
    expect(thumb.height).toBe(80);
    const before = d.host.mutations.length;
    await d.requestAsync({ type: 'focus-node', requestId: rid('f'), nodeId: first.nodeIds[0]! }, 'ack');
    expect(d.figma.currentPage.selection.map((n) => n.id)).toEqual([first.nodeIds[0]]);
    expect(d.host.mutations.length).toBe(before);
    const gone = await d.requestAsync({ type: 'focus-node', requestId: rid('f'), nodeId: '9:999' }, 'error');
    expect(gone.error.message).toMatch(/9:999 no longer exists/);
  });

  it('focus-node switches to the page the layer is on', async () => {
    const d = await createDriverAsync();
    const page2 = d.figma.createPage();
    await d.figma.setCurrentPageAsync(page2);
    const r = d.figma.createRectangle();
    await d.figma.setCurrentPageAsync(d.figma.root.children[0]!);
    await d.requestAsync({ type: 'focus-node', requestId: rid('f'), nodeId: r.id }, 'ack');
    expect(d.figma.currentPage.id).toBe(page2.id);
    expect(d.figma.currentPage.selection.map((n) => n.id)).toEqual([r.id]);
  });

  it('relaunch "regenerate" on a result sends its recipe in init and reselects the original source', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.hero]);
    const job = await prepare(d, 'edit');
    const msg = insertFor(job);
    const done = await d.requestAsync(msg, 'insert-done');
    d.relaunch('variations', done.nodeIds[0]!);
    expect(d.figma.command).toBe('variations');
    const init = await d.requestAsync({ type: 'ui-ready', requestId: rid('u') }, 'init');
    expect(init.relaunch).toEqual({ action: 'variations', nodeId: done.nodeIds[0], recipe: msg.recipe });
    expect(init.selection.nodes.map((n) => n.id)).toEqual([d.ids.hero]);
  });

  it('relaunch on a layer whose recipe is unreadable says so in the panel and opens normally', async () => {
    const d = await createDriverAsync();
    const r = d.host.nodeById(d.ids.rectangle)!;
    r.setRelaunchData({ regenerate: '' });
    r.setPluginData('recipe', '{"version": 99');
    d.relaunch('regenerate', d.ids.rectangle);
    const init = await d.requestAsync({ type: 'ui-ready', requestId: rid('u') }, 'init');
    expect(init.relaunch).toBeUndefined();
    // Said once, in the panel that opens (not also as a toast).
    expect(init.launch?.problem).toMatchObject({ code: 'INVALID_SELECTION', message: expect.stringMatching(/no generation recipe/) });
    expect(d.host.notifications).toEqual([]);
  });

  it('a stored recipe is valid and well under the 100 kB pluginData limit', () => {
    expect(JSON.stringify(makeRecipe()).length).toBeLessThan(100_000);
  });
});
