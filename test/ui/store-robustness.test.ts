/**
 * #15.8, UI store: "Inserted" only on the matching insert-done; Cancel while the result is being written is not
 * taken; a prompt of invisible characters is empty. Plus the field checks that replace silent clamping.
 */
import { describe, expect, it } from 'vitest';
import type { PluginToUi, UiToPlugin } from '../../protocol/messages';
import { isBlankPrompt, numberProblem } from '../../ui/app/field-check';
import { createAppStore } from '../../ui/app/store';
import { createFakeBridge } from './fake-bridge';
import { createFakeEngine } from './fake-engine';
import { createRecordingRasterizer } from './fake-raster';

async function setup(answerInsert?: (m: Extract<UiToPlugin, { type: 'insert-result' }>, real: () => Promise<PluginToUi>) => Promise<PluginToUi>) {
  const bridge = createFakeBridge();
  if (answerInsert) {
    const real = bridge.requestAsync.bind(bridge);
    bridge.requestAsync = (m, t) => (m.type === 'insert-result' ? answerInsert(m, () => real(m, t)) : real(m, t));
  }
  const engine = createFakeEngine({ stepMs: 2 });
  const store = createAppStore({ bridge, engine, uiMode: 'hosted' }, { raster: createRecordingRasterizer(), random: () => 0.25, saveDelayMs: 10, tokenDelayMs: 5 });
  await store.startAsync();
  store.update({ prompt: 'a cabin at dusk', batchCount: 1 });
  return { bridge, engine, store };
}

describe('the UI reports "Inserted" only on the matching reply (#15.8)', () => {
  it('an ack instead of insert-done is an error, not "Inserted"', async () => {
    const { store } = await setup(async (m) => ({ type: 'ack', requestId: m.requestId }));
    await store.generateAsync();
    expect(store.notice.value ?? '').not.toMatch(/Inserted/);
    expect(store.error.value).toMatchObject({ code: 'INVALID_MESSAGE', message: expect.stringMatching(/did not confirm the insert \(it answered "ack"\)/) });
    store.dispose();
  });

  it("another job's insert-done is an error, not \"Inserted\"", async () => {
    const { store } = await setup(async (m) => ({ type: 'insert-done', requestId: m.requestId, jobId: 'job-other', nodeIds: ['9:9'], notes: [] }));
    await store.generateAsync();
    expect(store.notice.value ?? '').not.toMatch(/Inserted/);
    expect(store.error.value?.message).toMatch(/for another job, job-other/);
    expect(store.lastInserted.value).toEqual([]);
    store.dispose();
  });

  it('the matching insert-done reports Inserted', async () => {
    const { store } = await setup();
    await store.generateAsync();
    expect(store.error.value).toBeNull();
    expect(store.notice.value).toMatch(/^Inserted the image/);
    store.dispose();
  });
});

describe('Cancel while "Inserting…" (#15.8)', () => {
  it('is not taken: the image that is being written is reported as inserted, not "Cancelling…" then ignored', async () => {
    let cancelDuringInsert: (() => void) | null = null;
    const { store } = await setup(async (_m, real) => {
      cancelDuringInsert?.();
      return real();
    });
    cancelDuringInsert = () => {
      expect(store.run.value?.phase).toBe('inserting');
      store.cancel();
      expect(store.run.value?.cancelling).toBe(false);
    };
    await store.generateAsync();
    expect(store.notice.value).toMatch(/^Inserted the image/);
    store.dispose();
  });
});

describe('invisible prompts and field checks (#15.8)', () => {
  it('a prompt of zero-width characters is empty', async () => {
    expect(isBlankPrompt('\u200B\u200C\u200D\uFEFF\u2060 \u202E')).toBe(true);
    expect(isBlankPrompt('\u200Bcat')).toBe(false);
    const { bridge, store } = await setup();
    store.update({ prompt: '\u200B\u200B\u200D' });
    await store.generateAsync();
    expect(store.error.value).toMatchObject({ code: 'INVALID_INPUT', message: 'The prompt is empty.' });
    expect(bridge.sent.some((m) => m.type === 'prepare-job')).toBe(false);
    store.dispose();
  });

  it('numbers out of range or malformed are refused with what is allowed, never clamped', () => {
    const seed = { label: 'Seed', min: 0, max: 4294967295, integer: true };
    expect(numberProblem('-1', seed)).toBe('Seed must be a whole number from 0 to 4294967295; -1 is out of range.');
    expect(numberProblem('4294967296', seed)).toMatch(/out of range/);
    expect(numberProblem('1.5', seed)).toBe('Seed must be a whole number from 0 to 4294967295; 1.5 is not a whole number.');
    expect(numberProblem('', seed)).toBe('Seed needs a value: a whole number from 0 to 4294967295.');
    expect(numberProblem('12', seed)).toBeNull();
    expect(numberProblem('7.5', { label: 'Guidance', min: 0, max: 30 })).toBeNull();
    expect(numberProblem('abc', { label: 'Guidance', min: 0, max: 30 })).toMatch(/“abc” is not a number/);
  });
});
