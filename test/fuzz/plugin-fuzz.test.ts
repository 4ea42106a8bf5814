/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * Message fuzzer, plugin side: seeded malformed UI → plugin messages into the real plugin (startPlugin on the fake
 * Figma with the demo document). Asserts: no uncaught error, no document change, no prototype pollution, every
 * message with a usable requestId answered exactly once (and every reply valid under the protocol), and a valid
 * prepare-job + insert-result still served afterwards. `FUZZ_MESSAGES=10000` for the nightly size.
 */
import { describe, expect, it } from 'vitest';
import { parseUiToPlugin, refusalTarget, type UiToPlugin } from '../../protocol/messages';
import { createDriverAsync, insertFor, makeRecipe, makeResultPng, rid, SD15 } from '../plugin/plugin-driver';
import { createFuzzer, FUZZ_MESSAGES, FUZZ_SEED, prototypeSnapshot } from './fuzz-messages';

const COUNT = FUZZ_MESSAGES || 1000;

describe(`plugin message fuzzer (${COUNT} messages, seed ${FUZZ_SEED})`, () => {
  it('no uncaught error, no document change, no pollution, every request answered, still serving', async () => {
    const d = await createDriverAsync();
    const pollution = prototypeSnapshot();
    const png = makeResultPng(64, 64);
    const placement = { x: 0, y: 0, width: 64, height: 64, content: { x: 0, y: 0, width: 64, height: 64 } };
    const templates: UiToPlugin[] = [
      { type: 'ui-ready', requestId: 'x' },
      { type: 'prepare-job', requestId: 'x', mode: 'generate', size: SD15, generateSize: { width: 512, height: 512 } },
      { type: 'prepare-job', requestId: 'x', mode: 'edit', size: { ...SD15, fixed: [{ width: 512, height: 512 }] } },
      {
        type: 'insert-result', requestId: 'x', jobId: 'fz-job', png, width: 64, height: 64, placement,
        recipe: makeRecipe({ width: 64, height: 64, mode: 'generate' }), target: 'new-layer', batchIndex: 0, batchCount: 1,
      },
      { type: 'notify', requestId: 'x', message: 'hello' },
      { type: 'save-settings', requestId: 'x', settings: { prompt: 'a', seed: 1, nested: { a: [1, 2] } } },
      { type: 'get-history', requestId: 'x' },
      { type: 'focus-node', requestId: 'x', nodeId: '999:999' },
      { type: 'resize', requestId: 'x', width: 400, height: 700 },
    ];
    const fuzz = createFuzzer(FUZZ_SEED);
    const expected = new Map<string, number>();
    let refused = 0;
    let skippedValidWrites = 0;
    for (let i = 0; i < COUNT; i++) {
      const msg = fuzz.next(templates.map((t) => ({ ...t, requestId: `fz-${i}` })));
      const parsed = parseUiToPlugin(msg);
      // A still-valid insert-result is a real write request, not a fuzz case: the document must stay untouched.
      if (parsed.ok && parsed.message.type === 'insert-result') { skippedValidWrites++; continue; }
      if (!parsed.ok) refused++;
      const target = refusalTarget(msg);
      const id = parsed.ok ? parsed.message.requestId : target?.requestId;
      if (id !== undefined) expected.set(id, (expected.get(id) ?? 0) + 1);
      d.host.deliverUiMessage(msg, { origin: 'null' });
      if (i % 25 === 24) { await d.plugin.idleAsync(); await d.host.settleAsync(); }
    }
    await d.plugin.idleAsync();
    await d.host.settleAsync();

    expect(d.host.errors).toEqual([]);
    expect(d.host.mutations).toEqual([]);
    expect(pollution()).toEqual([]);
    const replies = new Map<string, number>();
    for (const m of d.posted()) if (m.type !== 'selection-changed' && m.type !== 'theme') replies.set(m.requestId, (replies.get(m.requestId) ?? 0) + 1);
    const unanswered = [...expected].filter(([id, n]) => (replies.get(id) ?? 0) !== n);
    expect(unanswered).toEqual([]);
    expect(refused).toBeGreaterThan(COUNT * 0.6);
    console.log(`plugin fuzz: ${COUNT} messages, ${refused} refused, ${expected.size} request ids answered, ${skippedValidWrites} valid writes skipped`);

    // Still serving: a real prepare-job and insert-result write the document.
    const job = await d.requestAsync({ type: 'prepare-job', requestId: rid('p'), mode: 'generate', size: SD15, generateSize: { width: 512, height: 512 } }, 'job-inputs');
    const done = await d.requestAsync(insertFor(job, {}, { mode: 'generate' }), 'insert-done');
    expect(done.nodeIds).toHaveLength(1);
    expect(d.host.mutations.length).toBeGreaterThan(0);
  });
});
