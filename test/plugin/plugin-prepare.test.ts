/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * plugin/ driven like a user against the fake Figma: select layers → selection-changed (proposed mode, hint,
 * problems) → prepare-job → job-inputs (the source PNG at working scale, mask paths and outlines in working px).
 */
import { decode as decodePngFast } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { pathBounds } from '../../plugin/geometry';
import { computeWorkingSize } from '../../plugin/working-size';
import type { PluginToUi } from '../../protocol/messages';
import { coreRasterizer, prepareJob } from '../../ui/app/job';
import { rasterizeMask } from '../../ui/core/raster';
import { createDriverAsync, insertFor, rid, SD15, type Driver } from './plugin-driver';

const lastSelection = (d: Driver) => {
  const sel = d.posted().filter((m): m is Extract<PluginToUi, { type: 'selection-changed' }> => m.type === 'selection-changed').at(-1);
  expect(sel).toBeDefined();
  return sel!.selection;
};

const prepare = (d: Driver, mode: 'generate' | 'edit' | 'inpaint' | 'wireframe', extra: Record<string, unknown> = {}) =>
  d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode, size: SD15, ...extra }, 'job-inputs');

describe('plugin: entry points (menu commands, the quick action, the window)', () => {
  it('a menu command opens the panel on its mode', async () => {
    const d = await createDriverAsync({ command: 'inpaint' });
    await d.host.settleAsync();
    expect(d.host.ui?.options).toMatchObject({ visible: true, themeColors: true });
    const init = await d.requestAsync({ type: 'ui-ready', requestId: rid('u') }, 'init');
    expect(init.launch).toEqual({ mode: 'inpaint' });
  });

  it('the "Generate image…" quick action runs with a hidden window; the UI can show it or close the plugin', async () => {
    const d = await createDriverAsync({ command: 'generate', parameters: { prompt: '  a lighthouse at dawn ' } });
    await d.host.settleAsync();
    expect(d.host.ui?.options.visible).toBe(false);
    const init = await d.requestAsync({ type: 'ui-ready', requestId: rid('u') }, 'init');
    expect(init.launch).toEqual({ mode: 'generate', prompt: 'a lighthouse at dawn', headless: true });
    // A hidden run's insert makes no toast of its own (the UI's close message is the one toast)…
    const job = await prepare(d, 'generate');
    await d.requestAsync(insertFor(job, {}, { prompt: 'a lighthouse at dawn' }), 'insert-done');
    expect(d.host.notifications).toEqual([]);
    // …and a failed insert none either: the UI shows the window with the error in it.
    const bad = await d.requestAsync(insertFor(job, { jobId: 'job-2', png: new Uint8Array(64).fill(7) }), 'error');
    expect(bad.error.code).toBe('IMAGE_DECODE_FAILED');
    expect(d.host.notifications).toEqual([]);
    await d.requestAsync({ type: 'window', requestId: rid('w'), action: 'show' }, 'ack');
    expect(d.host.ui?.visible).toBe(true);
    await d.sendAsync({ type: 'window', requestId: rid('w'), action: 'close', message: 'Inserted “a lighthouse at dawn”.' });
    expect(d.host.ui?.closed).toBe(true);
    expect(d.host.notifications.map((n) => n.message)).toEqual(['Inserted “a lighthouse at dawn”.']);
  });

  it('the window size the user drags to is remembered and restored next time', async () => {
    const d = await createDriverAsync();
    await d.requestAsync({ type: 'resize', requestId: rid('r'), width: 420, height: 800 }, 'ack');
    expect({ w: d.host.ui?.width, h: d.host.ui?.height }).toEqual({ w: 420, h: 800 });
    expect(await d.figma.clientStorage.getAsync('window-size')).toEqual({ width: 420, height: 800 });
    d.relaunch('');
    await d.host.settleAsync();
    expect({ w: d.host.ui?.width, h: d.host.ui?.height }).toEqual({ w: 360, h: 640 });
    await d.requestAsync({ type: 'ui-ready', requestId: rid('u') }, 'init');
    expect({ w: d.host.ui?.width, h: d.host.ui?.height }).toEqual({ w: 420, h: 800 });
  });
});

describe('plugin: opening and reading the selection', () => {
  it('opens the UI at 360×640 with theme colours and answers ui-ready with init', async () => {
    const d = await createDriverAsync();
    expect(d.host.ui?.options).toMatchObject({ width: 360, height: 640, themeColors: true });
    const init = await d.requestAsync({ type: 'ui-ready', requestId: rid('u') }, 'init');
    expect(init.pluginVersion).toBe('0.1.0-test');
    expect(init.theme).toBe('light');
    expect(init.settings).toEqual({});
    expect(init.selection).toMatchObject({ proposedMode: 'generate', availableModes: ['generate'], nodes: [] });
    expect(init.relaunch).toBeUndefined();
    expect(d.host.mutations).toEqual([]);
  });

  it('proposes a mode per selection and posts selection-changed', async () => {
    const d = await createDriverAsync();
    const cases: [string[], string, string[], RegExp][] = [
      [[d.ids.hero], 'edit', ['generate', 'edit', 'boost'], /^Frame 'Hero' 720×450$/],
      [[d.ids.photo], 'edit', ['generate', 'edit', 'boost'], /^Image 'Photo' 400×300$/],
      [[d.ids.wireframe], 'wireframe', ['generate', 'edit', 'wireframe', 'boost'], /^Frame 'Wireframe' 720×450$/],
      [[d.ids.photo, d.ids.blemish], 'inpaint', ['generate', 'edit', 'inpaint', 'boost'], /Image 'Photo' 400×300 \+ 1 mask shape/],
      [[d.ids.blemish, d.ids.photo], 'inpaint', ['generate', 'edit', 'inpaint', 'boost'], /Image 'Photo'/],
      [[d.ids.maskGroup], 'inpaint', ['generate', 'edit', 'inpaint', 'wireframe', 'boost'], /Group 'Mask group' 300×300 \+ mask 'Mask'/],
      [[d.ids.mask], 'inpaint', ['generate', 'edit', 'inpaint', 'boost'], /Group 'Mask group' .* \+ mask 'Mask'/],
      [[d.ids.rectangle], 'edit', ['generate', 'edit', 'wireframe', 'boost'], /^Rectangle 'Rectangle' 200×120$/],
      [[], 'generate', ['generate'], /Nothing selected/],
    ];
    for (const [sel, mode, modes, hint] of cases) {
      d.host.select(sel);
      await d.host.settleAsync();
      const info = lastSelection(d);
      expect(info.proposedMode, sel.join(',')).toBe(mode);
      expect(info.availableModes, sel.join(',')).toEqual(modes);
      expect(info.hint).toMatch(hint);
      expect(info.problem).toBeUndefined();
      expect(info.nodes.map((n) => n.id).sort()).toEqual([...sel].sort());
    }
    expect(d.host.mutations).toEqual([]);
  });
});

describe('plugin: prepare-job', () => {
  it('Edit: exports the frame at working size, padded, with content mapping back to its bounds', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.hero]);
    const job = await prepare(d, 'edit');
    expect({ w: job.width, h: job.height }).toEqual({ w: 640, h: 384 });
    expect(computeWorkingSize(720, 450, SD15)).toEqual({ width: 640, height: 384 });
    expect(job.placement).toMatchObject({ sourceNodeId: d.ids.hero, x: 0, y: 0, width: 720, height: 450 });
    // 720×450 fitted by height: 614×384 (Figma rounds), centred → 13 px padding left.
    expect(job.placement.content).toEqual({ x: 13, y: 0, width: 614, height: 384 });
    expect(job.sourceNodeIds).toEqual([d.ids.hero]);
    // The plugin moves Figma's own export bytes (no pixel work on the main thread) and says where they sit…
    const hero = (await d.figma.getNodeByIdAsync(d.ids.hero)) as FrameNode;
    const directBytes = await hero.exportAsync({ format: 'PNG', constraint: { type: 'HEIGHT', value: 384 }, useAbsoluteBounds: true, colorProfile: 'SRGB' });
    expect(Array.from(job.image!.png)).toEqual(Array.from(directBytes));
    expect({ w: job.image!.width, h: job.image!.height }).toEqual({ w: 614, h: 384 });
    const direct = decodePngFast(directBytes);
    expect(direct.width).toBe(614);
    // …and the UI pads it onto the canvas: the content area holds exactly that export, the padding repeats the edges.
    const img = prepareJob(job, { mode: 'edit', modelId: 'm', prompt: 'p', negativePrompt: '', steps: 1, guidance: 1, strength: 0.5, maskFeather: 0, controlType: 'scribble', controlScale: 1 }, coreRasterizer).request.image!;
    expect({ w: img.width, h: img.height }).toEqual({ w: 640, h: 384 });
    const px = (im: { width: number; data: ArrayLike<number> }, x: number, y: number) => Array.from({ length: 4 }, (_, k) => im.data[(y * im.width + x) * 4 + k]);
    for (const [x, y] of [[0, 0], [300, 200], [613, 383], [100, 50]] as const) expect(px(img, x + 13, y)).toEqual(px(direct, x, y));
    expect(px(img, 0, 100)).toEqual(px(direct, 0, 100));
    expect(px(img, 639, 100)).toEqual(px(direct, 613, 100));
    expect(job.mask).toBeUndefined();
    expect(job.notes.join(' ')).toMatch(/padded to 640×384/);
    expect(d.host.mutations).toEqual([]);
  });

  it('Inpaint: the shape over the image becomes mask paths at the right place in working px', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.photo, d.ids.blemish]);
    const job = await prepare(d, 'inpaint');
    const { width: W, height: H } = job;
    expect({ W, H }).toEqual(computeWorkingSize(400, 300, SD15) && { W: 576, H: 448 });
    const c = job.placement.content;
    expect(c).toEqual({ x: 0, y: 8, width: 576, height: 432 });
    expect(job.mask?.nodeIds).toEqual([d.ids.blemish]);
    expect(job.mask?.paths.every((p) => p.nodeId === d.ids.blemish)).toBe(true);
    // Rasterise the mask like the UI does and check where it lands: the 90×90 ellipse at (250, 90) in the photo.
    const s = c.width / 400;
    const mask = rasterizeMask(job.mask!.paths, W, H);
    const at = (x: number, y: number) => mask[(Math.round(y) * W + Math.round(x)) * 4]!; // RGBA
    expect(at(c.x + 295 * s, c.y + 135 * s)).toBe(255); // centre
    expect(at(c.x + 100 * s, c.y + 100 * s)).toBe(0); // elsewhere on the photo
    expect(at(c.x + 251 * s, c.y + 91 * s)).toBe(0); // bbox corner, outside the circle
    const b = pathBounds(job.mask!.paths[0]!.d)!;
    expect(b.x).toBeCloseTo(c.x + 250 * s, 1);
    expect(b.y).toBeCloseTo(c.y + 90 * s, 1);
    expect(b.width).toBeCloseTo(90 * s, 1);
    // The image is the photo alone (the mask shape is not in it): the blemish's red is absent at its centre.
    const img = decodePngFast(job.image!.png);
    expect({ w: img.width, h: img.height }).toEqual({ w: c.width, h: c.height });
    const o = (Math.round(135 * s) * img.width + Math.round(295 * s)) * 4;
    const [r, g] = [img.data[o]!, img.data[o + 1]!];
    expect(r > 200 && g < 80).toBe(false);
    expect(d.host.mutations).toEqual([]);
  });

  it('Inpaint with a Figma mask layer: the mask ellipse is the mask, its group the source', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.maskGroup]);
    const job = await prepare(d, 'inpaint');
    expect(job.placement.sourceNodeId).toBe(d.ids.maskGroup);
    expect(job.mask?.nodeIds).toEqual([d.ids.mask]);
    const mask = rasterizeMask(job.mask!.paths, job.width, job.height);
    const c = job.placement.content;
    const s = c.width / 300;
    const at = (x: number, y: number) => mask[(Math.round(c.y + y * s) * job.width + Math.round(c.x + x * s)) * 4]; // RGBA
    expect(at(150, 150)).toBe(255);
    expect(at(5, 5)).toBe(0);
  });

  it('Wireframe: outlines of every visible shape, vector and text box in working px', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.wireframe]);
    const job = await prepare(d, 'wireframe');
    expect({ w: job.width, h: job.height }).toEqual({ w: 640, h: 384 });
    const o = job.outlines!;
    expect(o.paths.length).toBeGreaterThan(20);
    expect(o.nodeIds).toContain(d.ids.wireframeX);
    const wf = (await d.figma.getNodeByIdAsync(d.ids.wireframe)) as FrameNode;
    const texts = wf.children.filter((n) => n.type === 'TEXT');
    expect(texts.length).toBe(8);
    for (const t of texts) expect(o.nodeIds).toContain(t.id);
    const c = job.placement.content;
    const s = c.width / 720;
    // 'Logo' (text at 24, 18 in the frame) is a box at its bounds.
    const logo = texts.find((t) => t.name === 'Logo')!;
    const logoPath = o.paths.find((p) => p.nodeId === logo.id)!;
    expect(logoPath.kind).toBe('box');
    const lb = pathBounds(logoPath.d)!;
    expect(lb.x).toBeCloseTo(c.x + 24 * s, 1);
    expect(lb.y).toBeCloseTo(c.y + 18 * s, 1);
    expect(lb.width).toBeCloseTo(logo.width * s, 1);
    // The X vector's strokes run corner to corner of the placeholder (40, 96, 300×220).
    const x = o.paths.filter((p) => p.nodeId === d.ids.wireframeX);
    expect(x.length).toBeGreaterThan(0);
    expect(x.every((p) => p.kind === 'stroke')).toBe(true);
    const xb = pathBounds(x[0]!.d)!;
    // (the stroke outline is 2 px wide in node space, so allow its half-width around the centre line)
    expect(Math.abs(xb.x - (c.x + 40 * s))).toBeLessThan(1.5 * s);
    expect(Math.abs(xb.y - (c.y + 96 * s))).toBeLessThan(1.5 * s);
    expect(Math.abs(xb.width - 300 * s)).toBeLessThan(3 * s);
    // Every path lies inside the canvas (give or take stroke width).
    for (const p of o.paths) {
      const pb = pathBounds(p.d)!;
      expect(pb.x).toBeGreaterThan(-2);
      expect(pb.y + pb.height).toBeLessThan(job.height + 2);
    }
    expect(d.host.mutations).toEqual([]);
  });

  it('Generate with nothing selected: the asked size, centred in the viewport', async () => {
    const d = await createDriverAsync();
    d.figma.viewport.center = { x: 1000, y: 500 };
    const job = await prepare(d, 'generate', { generateSize: { width: 512, height: 768 } });
    expect({ w: job.width, h: job.height }).toEqual({ w: 512, h: 768 });
    expect(job.placement).toEqual({ x: 744, y: 116, width: 512, height: 768, content: { x: 0, y: 0, width: 512, height: 768 } });
    expect(job.image).toBeUndefined();
    expect(job.sourceNodeIds).toEqual([]);
  });

  it('Generate into a 720×450 frame with no size asked ("Match selection"): the frame\'s own aspect, filling it', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.hero]);
    const job = await prepare(d, 'generate');
    expect({ width: job.width, height: job.height }).toEqual({ width: 640, height: 384 });
    expect(job.placement).toMatchObject({ sourceNodeId: d.ids.hero, x: 0, y: 0, width: 720, height: 450 });
    // The frame's 1.6 aspect inside the 640×384 canvas: at most one size step is trimmed, not 37 % of the picture.
    const c = job.placement.content;
    expect(c.height).toBe(384);
    expect(c.width / c.height).toBeCloseTo(1.6, 5);
    expect(c.width / job.width).toBeGreaterThan(0.95);
  });

  it('Generate a square into a wide frame (the user chose Square): the whole picture is kept, never cropped', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.hero]);
    const job = await prepare(d, 'generate', { generateSize: { width: 512, height: 512 } });
    expect(job.placement).toMatchObject({ sourceNodeId: d.ids.hero, x: 0, y: 0, width: 720, height: 450 });
    expect(job.placement.content).toEqual({ x: 0, y: 0, width: 512, height: 512 });
    expect(job.notes.join(' ')).toMatch(/keeps its 512×512 shape.*Match selection/);
  });

  it('"Fill of the selection" with nothing selected is refused before anything runs, naming the control', async () => {
    const d = await createDriverAsync();
    d.host.select([]);
    const reply = await d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode: 'generate', size: SD15, target: 'replace-fill' });
    expect(reply.type).toBe('error');
    expect(reply.type === 'error' && reply.error).toMatchObject({ code: 'INVALID_SELECTION', message: expect.stringMatching(/Fill of the selection.*nothing is selected/), hint: expect.stringMatching(/Insert as/) });
  });

  it('prepare-job with the recipe\'s layer ids runs on them (selecting them), and says clearly when one is gone', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.text]);
    const job = await prepare(d, 'inpaint', { sourceNodeIds: [d.ids.photo, d.ids.blemish] });
    expect(job.sourceNodeIds).toEqual([d.ids.photo]);
    expect(d.figma.currentPage.selection.map((n) => n.id)).toEqual([d.ids.photo, d.ids.blemish]);
    (await d.figma.getNodeByIdAsync(d.ids.blemish))!.remove();
    const reply = await d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode: 'inpaint', size: SD15, sourceNodeIds: [d.ids.photo, d.ids.blemish] });
    expect(reply.type === 'error' && reply.error).toMatchObject({ code: 'SOURCE_CHANGED', message: expect.stringMatching(/no longer in the document/) });
  });
});

describe('plugin: style reference (pick-style, prepare-job.styleNodeId)', () => {
  it('reads one selected layer (id, name, thumbnail); refuses none, several or a hidden one in words that name the style reference', async () => {
    const d = await createDriverAsync();
    const none = await d.requestAsync({ type: 'pick-style', requestId: rid('s') }, 'error');
    expect(none.error).toMatchObject({ code: 'INVALID_SELECTION', message: 'Nothing is selected to use as the style reference.' });
    d.host.select([d.ids.hero, d.ids.photo]);
    const two = await d.requestAsync({ type: 'pick-style', requestId: rid('s') }, 'error');
    expect(two.error.message).toBe('2 layers are selected; the style reference is one image.');
    d.host.select([d.ids.photo]);
    const picked = await d.requestAsync({ type: 'pick-style', requestId: rid('s') }, 'style-picked');
    expect(picked).toMatchObject({ nodeId: d.ids.photo, name: 'Photo' });
    const thumb = decodePngFast(picked.thumbnail!);
    expect(Math.max(thumb.width, thumb.height)).toBe(128);
    const photo = (await d.figma.getNodeByIdAsync(d.ids.photo)) as RectangleNode;
    photo.visible = false;
    const hidden = await d.requestAsync({ type: 'pick-style', requestId: rid('s'), nodeId: d.ids.photo }, 'error');
    expect(hidden.error.message).toBe("'Photo' is hidden, so it can't be read as the style reference. Show it first.");
  });

  it('prepare-job with styleNodeId sends the reference at its own aspect (≤ 512 px) beside the job; a deleted one stops the job', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.hero]);
    const job = await prepare(d, 'edit', { styleNodeId: d.ids.photo });
    expect(job.style).toMatchObject({ nodeId: d.ids.photo, width: 400, height: 300 });
    const png = decodePngFast(job.style!.png);
    expect([png.width, png.height]).toEqual([400, 300]);
    const big = await prepare(d, 'generate', { styleNodeId: d.ids.hero });
    expect([big.style?.width, big.style?.height]).toEqual([512, 320]);
    (await d.figma.getNodeByIdAsync(d.ids.photo))!.remove();
    const gone = await d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode: 'edit', size: SD15, styleNodeId: d.ids.photo }, 'error');
    expect(gone.error).toMatchObject({ code: 'SOURCE_CHANGED', message: 'The style reference layer is no longer in the document.' });
  });
});
