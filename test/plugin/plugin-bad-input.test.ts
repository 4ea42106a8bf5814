/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * plugin/ under bad input: malformed and unknown messages, wrong origins in hosted mode, unusable selections,
 * sources deleted or changed during generation, oversized results. Each case: a clear message, and the document
 * untouched (the fake's mutation log is unchanged).
 */
import { describe, expect, it } from 'vitest';
import { createDriverAsync, HOSTED_ORIGIN, insertFor, makeResultPng, rid, SD15, type Driver } from './plugin-driver';

const prepareError = async (d: Driver, mode: 'edit' | 'inpaint' | 'wireframe') =>
  (await d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode, size: SD15 }, 'error')).error;

const lastSelection = (d: Driver) => {
  const m = d.posted().filter((x) => x.type === 'selection-changed').at(-1);
  return m && m.type === 'selection-changed' ? m.selection : null;
};

describe('plugin: message validation', () => {
  it('refuses malformed and unknown messages with a warning and an error reply naming the field; nothing is written', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.hero]);
    const job = await d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode: 'edit', size: SD15 }, 'job-inputs');
    const postedBefore = d.host.uiMessages.length;
    const good = insertFor(job);
    const bad: Record<string, unknown>[] = [
      { ...good, requestId: 'bad-1', png: 'not bytes' },
      { ...good, requestId: 'bad-2', width: 0 },
      { ...good, requestId: 'bad-3', recipe: { ...good.recipe, steps: 1e9 } },
      { ...good, requestId: 'bad-4', batchCount: 65 },
      { type: 'delete-everything', requestId: 'bad-5' },
      { type: 'insert-result', requestId: 'bad-6' },
    ];
    // No usable requestId: nothing to answer on (a reply must pass the protocol too).
    const unanswerable: unknown[] = [{ type: 'insert-result' }, { ...good, requestId: 'x'.repeat(101), width: 0 }, 'hello', null];
    for (const msg of [...bad, ...unanswerable]) await d.sendAsync(msg);
    expect(d.warnings).toHaveLength(bad.length + unanswerable.length);
    for (const w of d.warnings) expect(w).toMatch(/^Dropped a malformed message: /);
    expect(d.warnings[0]).toMatch(/At png: expected a Uint8Array/);
    expect(d.warnings[4]).toMatch(/At type: expected one of "ui-ready"/);
    const replies = d.posted().slice(postedBefore);
    expect(replies.map((r) => r.requestId)).toEqual(bad.map((b) => b.requestId));
    const messages = replies.map((r) => (r.type === 'error' ? r.error.message : `not an error: ${r.type}`));
    expect(messages).toEqual([
      'The plugin refused "insert-result": At png: expected a Uint8Array, got "not bytes"',
      'The plugin refused "insert-result": At width: expected an integer in [1, 16384], got 0',
      'The plugin refused "insert-result": At recipe.steps: expected an integer in [1, 150], got 1000000000',
      'The plugin refused "insert-result": At batchCount: expected an integer in [1, 64], got 65',
      expect.stringMatching(/^The plugin refused "delete-everything": At type: expected one of "ui-ready", "prepare-job"/),
      'The plugin refused "insert-result": At jobId: expected a non-empty string, got undefined',
    ]);
    for (const r of replies) expect(r).toMatchObject({ type: 'error', error: { code: 'INVALID_MESSAGE', hint: expect.stringMatching(/manifest/) } });
    expect(d.host.mutations).toEqual([]);
    expect(d.host.errors).toEqual([]);
    // the same message, well-formed, does write
    await d.requestAsync(good, 'insert-done');
    expect(d.host.mutations.length).toBeGreaterThan(0);
  });

  it('#15.6: a prepare-job from a manifest the plugin cannot take is answered at once, naming the field', async () => {
    const d = await createDriverAsync();
    const cases: [unknown, RegExp][] = [
      [{ maxSide: 8192, multiple: 64, targetArea: 512 * 512 }, /At size\.maxSide: expected an integer in \[64, 4096\], got 8192/],
      [{ maxSide: 768, multiple: 64, targetArea: 8192 * 8192 }, /At size\.targetArea: expected an integer in \[4096, 16777216\], got 67108864/],
      [{ maxSide: 512, multiple: 64, targetArea: 512 * 512, fixed: [{ width: 0, height: 0 }] }, /At size\.fixed\.0\.width: expected an integer in \[1, 16384\], got 0/],
    ];
    for (const [size, why] of cases) {
      const reply = await d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode: 'generate', size } as never, 'error');
      expect(reply.error.code).toBe('INVALID_MESSAGE');
      expect(reply.error.message).toMatch(why);
    }
    expect(d.host.mutations).toEqual([]);
  });

  it('a handler that throws outside its own try still answers (e.g. figma.ui.resize failing)', async () => {
    const d = await createDriverAsync();
    const resize = d.figma.ui.resize.bind(d.figma.ui);
    d.figma.ui.resize = () => { throw new Error('resize is not available now'); };
    const reply = await d.requestAsync({ type: 'resize', requestId: rid('r'), width: 400, height: 700 }, 'error');
    expect(reply.error).toMatchObject({ code: 'INTERNAL', message: 'resize is not available now' });
    d.figma.ui.resize = resize;
    await d.requestAsync({ type: 'resize', requestId: rid('r'), width: 400, height: 700 }, 'ack');
  });

  it('hosted mode: a message from another origin is dropped; ours is answered (posted to our origin only)', async () => {
    const d = await createDriverAsync({ uiMode: 'hosted' });
    // Both modes open with themeColors: the hosted bootstrap forwards Figma's theme to the hosted app (issue #12).
    expect(d.host.ui?.options.themeColors).toBe(true);
    const readyEvil = { type: 'ui-ready', requestId: rid('u') };
    await d.sendAsync(readyEvil, { origin: 'https://evil.example' });
    expect(d.posted().some((m) => m.requestId === readyEvil.requestId)).toBe(false);
    expect(d.warnings).toEqual(['Dropped a message from an unexpected origin: https://evil.example (expected http://localhost:8788).']);
    // also a null-origin (inline-style) sender is not our hosted app
    const nullOrigin = { type: 'resize', requestId: rid('r'), width: 400, height: 700 };
    d.host.deliverUiMessage(nullOrigin, { origin: 'null', pluginId: '*' });
    await d.plugin.idleAsync();
    expect(d.posted().some((m) => m.requestId === nullOrigin.requestId)).toBe(false);
    expect(d.warnings).toHaveLength(2);
    const init = await d.requestAsync({ type: 'ui-ready', requestId: rid('u') }, 'init');
    expect(init.type).toBe('init');
    expect(d.host.uiMessages.at(-1)?.options).toEqual({ origin: HOSTED_ORIGIN });
  });

  it('inline mode accepts the null origin', async () => {
    const d = await createDriverAsync();
    await d.requestAsync({ type: 'resize', requestId: rid('r'), width: 400, height: 700 }, 'ack');
    expect(d.warnings).toEqual([]);
  });
});

describe('plugin: unusable selections', () => {
  const cases: [string, (d: Driver) => Promise<string>, RegExp][] = [
    ['locked', async (d) => { (d.host.nodeById(d.ids.hero) as FrameNode).locked = true; return d.ids.hero; }, /'Hero' is locked/],
    ['hidden', async (d) => { (d.host.nodeById(d.ids.hero) as FrameNode).visible = false; return d.ids.hero; }, /'Hero' is hidden/],
    ['inside a hidden frame', async (d) => { (d.host.nodeById(d.ids.photoCard) as FrameNode).visible = false; return d.ids.photo; }, /'Photo' is hidden/],
    ['zero-size', async (d) => {
      const v = d.figma.createVector();
      v.name = 'Flat line';
      v.vectorPaths = [{ windingRule: 'NONE', data: 'M 0 0 L 200 0' }];
      return v.id;
    }, /'Flat line' has no size \(200×0\)/],
    ['larger than 4096 px', async (d) => {
      const f = d.figma.createFrame();
      f.name = 'Poster';
      f.resize(5000, 300);
      return f.id;
    }, /'Poster' is 5000×300; a source can be at most 4096 px per side/],
    ['an unsupported node type', async (d) => {
      const s = d.figma.createSlice();
      s.name = 'Export slice';
      s.resize(100, 100);
      return s.id;
    }, /'Export slice' is a slice layer, which can't be used/],
  ];
  for (const [label, arrange, problem] of cases) {
    it(`${label}: problem in selection-changed, prepare-job fails, document untouched`, async () => {
      const d = await createDriverAsync();
      const id = await arrange(d);
      d.host.markSaved();
      d.host.select([id]);
      await d.host.settleAsync();
      const info = lastSelection(d)!;
      expect(info.problem).toMatch(problem);
      expect(info.availableModes).toEqual(['generate']);
      const err = await prepareError(d, 'edit');
      expect(err.code).toBe('INVALID_SELECTION');
      expect(err.message).toMatch(problem);
      expect(d.host.mutations).toEqual([]);
    });
  }

  it('a mode the selection cannot run is refused with what it needs', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.hero]);
    const err = await prepareError(d, 'inpaint');
    expect(err.code).toBe('INVALID_SELECTION');
    expect(err.message).toBe("Inpaint needs an image with a shape over it (the area to change), or a mask layer; the selection is Frame 'Hero' 720×450.");
    const none = await createDriverAsync();
    expect((await prepareError(none, 'edit')).message).toMatch(/^Edit needs one frame, image or shape selected; the selection is Nothing selected/);
  });

  it('a mask shape that does not overlap the image', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.hero, d.ids.rectangle]);
    await d.host.settleAsync();
    expect(lastSelection(d)!.problem).toBe("'Rectangle' does not overlap 'Hero'. Move the mask shape over the image.");
    expect((await prepareError(d, 'inpaint')).code).toBe('INVALID_SELECTION');
  });

  it('an empty mask (an open path with no area) and an all-covering mask are refused', async () => {
    const d = await createDriverAsync();
    const line = d.figma.createVector();
    line.name = 'Scribble';
    line.vectorPaths = [{ windingRule: 'NONE', data: 'M 0 0 L 100 100' }];
    line.strokes = [];
    d.figma.currentPage.appendChild(line);
    line.x = 100;
    line.y = 100;
    const cover = d.figma.createRectangle();
    cover.name = 'Cover';
    cover.resize(800, 500);
    d.figma.currentPage.appendChild(cover);
    cover.x = -40;
    cover.y = -20;
    d.host.markSaved();
    d.host.select([d.ids.hero, line.id]);
    const empty = await prepareError(d, 'inpaint');
    expect(empty.message).toBe("The mask 'Scribble' covers none of 'Hero', so there is nothing to change.");
    d.host.select([d.ids.hero, cover.id]);
    const all = await prepareError(d, 'inpaint');
    expect(all.message).toBe("The mask 'Cover' covers all of 'Hero'. Inpaint changes only part of an image.");
    expect(all.hint).toMatch(/Use Edit/);
    expect(d.host.mutations).toEqual([]);
  });

  it('a wireframe frame with nothing visible in it', async () => {
    const d = await createDriverAsync();
    d.host.select([d.ids.photo]);
    const err = await prepareError(d, 'wireframe');
    expect(err.code).toBe('INVALID_SELECTION');
  });
});

describe('plugin: the source changes during generation', () => {
  const run = async (change: (d: Driver) => Promise<void> | void, expected: RegExp) => {
    const d = await createDriverAsync();
    d.host.select([d.ids.hero]);
    const job = await d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode: 'edit', size: SD15 }, 'job-inputs');
    await change(d);
    d.host.markSaved();
    const err = await d.requestAsync(insertFor(job), 'error');
    expect(err.error.code).toBe('SOURCE_CHANGED');
    expect(err.error.message).toMatch(expected);
    expect(d.host.mutations).toEqual([]);
    expect(d.host.undoSteps).toBe(0);
    // One message: the UI shows the error at the selection; no error toast on top of it.
    expect(d.host.notifications.filter((n) => n.error)).toEqual([]);
    return d;
  };

  it('deleted', () => run((d) => d.host.nodeById(d.ids.hero)!.remove(), /'Hero' was deleted while the image was being made\. Nothing was inserted\./));
  it('resized', () => run((d) => (d.host.nodeById(d.ids.hero) as FrameNode).resize(600, 450), /'Hero' was resized from 720×450 to 600×450/));
  it('on a page that is no longer open', () => run(async (d) => {
    const p = d.figma.createPage();
    await d.figma.setCurrentPageAsync(p);
  }, /'Hero' is on page 'Page 1', not on the open page/));
});

describe('plugin: results Figma cannot take', () => {
  it('a result over 4096 px is refused with what to do, document untouched', async () => {
    const d = await createDriverAsync();
    d.figma.viewport.center = { x: 0, y: 0 };
    const job = await d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode: 'generate', size: SD15, generateSize: { width: 512, height: 512 } }, 'job-inputs');
    const err = await d.requestAsync(insertFor(job, { width: 5120, height: 5120 }, { width: 512, height: 512 }), 'error');
    expect(err.error.code).toBe('INVALID_INPUT');
    expect(err.error.message).toBe('The result is 5120×5120 px, but Figma images can be at most 4096 px per side. Nothing was inserted.');
    expect(err.error.hint).toMatch(/scales results down to 4096 px/);
    expect(d.host.mutations).toEqual([]);
  });

  it('a Generate size off the model grid or not among its fixed sizes is refused, naming what is allowed', async () => {
    const d = await createDriverAsync();
    const off = await d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode: 'generate', size: SD15, generateSize: { width: 500, height: 512 } }, 'error');
    expect(off.error).toMatchObject({ code: 'INVALID_INPUT', message: 'The image width 500 px is not allowed: it must be a multiple of 64 between 64 and 768.' });
    const fixed = { maxSide: 512, multiple: 64, targetArea: 512 * 512, fixed: [{ width: 512, height: 512 }] };
    const notFixed = await d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode: 'generate', size: fixed, generateSize: { width: 512, height: 384 } }, 'error');
    expect(notFixed.error.message).toBe('The image size 512×384 is not allowed: this model only runs at 512×512.');
    d.host.select([d.ids.hero]);
    const job = await d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode: 'edit', size: fixed }, 'job-inputs');
    expect({ w: job.width, h: job.height }).toEqual({ w: 512, h: 512 });
    expect(job.placement.content).toEqual({ x: 0, y: 96, width: 512, height: 320 });
  });

  it('a PNG whose size differs from the announced one is refused', async () => {
    const d = await createDriverAsync();
    const job = await d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode: 'generate', size: SD15, generateSize: { width: 512, height: 512 } }, 'job-inputs');
    const err = await d.requestAsync(insertFor(job, { png: makeResultPng(256, 256) }), 'error');
    expect(err.error.message).toMatch(/PNG is 256×256 px, but 512×512 was announced/);
    const junk = await d.requestAsync(insertFor(job, { png: new Uint8Array(64).fill(7) }), 'error');
    expect(junk.error.code).toBe('IMAGE_DECODE_FAILED');
    expect(d.host.mutations).toEqual([]);
  });
});
