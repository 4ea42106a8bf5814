/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * #15.8, plugin side: placement bounds, a replace-fill target hidden mid-run, invisible and bidi characters in layer
 * names. Each case: a clear message (or a clean name), and the document untouched when refused.
 */
import { describe, expect, it } from 'vitest';
import { layerName } from '../../plugin/insert-result';
import { createDriverAsync, insertFor, rid, SD15 } from './plugin-driver';

describe('plugin: placements no real job produces are refused (#15.8)', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['x = 1e9', { x: 1e9 }, /placement is out of bounds: x is 1000000000, but it must be within ±10,000,000 px\. Nothing was inserted\./],
    ['9e15 px wide', { width: 9e15 }, /width is 9000000000000000, but it must be at most 100,000 px/],
    ['content far outside the canvas', { content: { x: -1e8, y: 0, width: 512, height: 512 } }, /content\.x is -100000000/],
  ];
  for (const [label, over, why] of cases) {
    it(label, async () => {
      const d = await createDriverAsync();
      const job = await d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode: 'generate', size: SD15, generateSize: { width: 512, height: 512 } }, 'job-inputs');
      d.host.markSaved();
      const err = await d.requestAsync(insertFor(job, { placement: { ...job.placement, ...over } }, { mode: 'generate', width: 512, height: 512 }), 'error');
      expect(err.error.code).toBe('INVALID_INPUT');
      expect(err.error.message).toMatch(why);
      expect(d.host.mutations).toEqual([]);
      // the real placement still inserts
      await d.requestAsync(insertFor(job, {}, { mode: 'generate', width: 512, height: 512 }), 'insert-done');
    });
  }
});

describe('plugin: replace fill into a layer hidden or locked mid-run (#15.8)', () => {
  for (const [what, change, why] of [
    ['hidden', (n: FrameNode) => { n.visible = false; }, /'Hero' was hidden while the image was being made\. Nothing was inserted\./],
    ['locked', (n: FrameNode) => { n.locked = true; }, /'Hero' was locked while the image was being made\. Nothing was inserted\./],
  ] as const) {
    it(`${what}: refused with a message, nothing written`, async () => {
      const d = await createDriverAsync();
      d.host.select([d.ids.hero]);
      const job = await d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode: 'edit', size: SD15 }, 'job-inputs');
      change(d.host.nodeById(d.ids.hero) as FrameNode);
      d.host.markSaved();
      const err = await d.requestAsync(insertFor(job, { target: 'replace-fill' }), 'error');
      expect(err.error).toMatchObject({ code: 'SOURCE_CHANGED', message: expect.stringMatching(why) });
      expect(d.host.mutations).toEqual([]);
    });
  }
});

describe('layer names (#15.8)', () => {
  it('drops zero-width and bidi control characters; an invisible-only prompt gets the default name', () => {
    expect(layerName('\u202Egnp.exe cat')).toBe('gnp.exe cat');
    expect(layerName('a\u200Bb\u200Dc\uFEFF \u2066d\u2069')).toBe('abc d');
    expect(layerName('\u200B\u200C\u200D\uFEFF\u2060')).toBe('Generated image');
  });

  it('an inserted layer never carries U+202E', async () => {
    const d = await createDriverAsync();
    const job = await d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode: 'generate', size: SD15, generateSize: { width: 512, height: 512 } }, 'job-inputs');
    const done = await d.requestAsync(insertFor(job, {}, { mode: 'generate', width: 512, height: 512, prompt: 'a \u202Ered\u202C fox' }), 'insert-done');
    expect(d.host.nodeById(done.nodeIds[0]!)!.name).toBe('a red fox');
  });
});
