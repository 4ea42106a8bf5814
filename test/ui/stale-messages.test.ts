/**
 * Issue #12 point 8, "stale messages": the previous job's footer ("Inserted the image…", "Show on canvas") goes on a
 * new run attempt, on a precondition failure and on a selection change, so only the current message shows — at the
 * control to fix. The plugin selecting the job's own results (Figma reports it after the insert) keeps it.
 */
import { describe, expect, it } from 'vitest';
import type { SelectionInfo } from '../../protocol/messages';
import { createAppStore } from '../../ui/app/store';
import { createFakeBridge, SELECTIONS } from './fake-bridge';
import { createFakeEngine } from './fake-engine';
import { createRecordingRasterizer } from './fake-raster';

async function setup(selection: SelectionInfo = SELECTIONS.none) {
  const bridge = createFakeBridge({ selection });
  const engine = createFakeEngine({ stepMs: 1 });
  const store = createAppStore({ bridge, engine, uiMode: 'hosted' }, { raster: createRecordingRasterizer(), random: () => 0.5, saveDelayMs: 30, tokenDelayMs: 10 });
  await store.startAsync();
  store.update({ prompt: 'a cabin at dusk', seedPolicy: 'fixed', seed: 7 });
  await store.generateAsync();
  expect(store.error.value).toBeNull();
  expect(store.notice.value).toMatch(/^Inserted the image \(seed 7\)/);
  expect(store.lastInserted.value).toHaveLength(1);
  return { bridge, engine, store };
}

/** What the plugin reports when it selects the results it just inserted. */
const resultsSelected = (ids: readonly string[]): SelectionInfo => ({
  proposedMode: 'edit', availableModes: ['generate', 'edit'], hint: 'Rectangle',
  nodes: ids.map((id) => ({ id, name: 'Generated', type: 'RECTANGLE', width: 512, height: 512 })),
});

describe('stale messages (#12.8)', () => {
  it('a precondition failure replaces the last job\'s footer: one message, at the control to fix', async () => {
    const { bridge, engine, store } = await setup();
    store.update({ prompt: '' });
    await store.generateAsync();
    expect(store.error.value).toMatchObject({ code: 'INVALID_INPUT', field: 'prompt' });
    expect(store.notice.value).toBeNull();
    expect(store.lastInserted.value).toEqual([]);
    expect(engine.requests).toHaveLength(1); // only the first run's image
    expect(bridge.sent.filter((m) => m.type === 'prepare-job')).toHaveLength(1);
    // "Fill of the selection" with nothing selected: the same — the error at "Insert as", no old notice beside it.
    store.update({ prompt: 'x', target: 'replace-fill' });
    await store.generateAsync();
    expect(store.error.value).toMatchObject({ field: 'target' });
    expect(store.notice.value).toBeNull();
    store.dispose();
  });

  it('a new run attempt clears the footer at once (before the plugin answers), and its own outcome replaces it', async () => {
    const { store } = await setup();
    const p = store.generateAsync();
    expect(store.notice.value).toBeNull();
    expect(store.lastInserted.value).toEqual([]);
    await p;
    expect(store.notice.value).toMatch(/^Inserted the image/);
    store.dispose();
  });

  it('the plugin selecting the results keeps the outcome; the designer selecting something else clears it', async () => {
    const { bridge, store } = await setup();
    bridge.emit({ type: 'selection-changed', requestId: 'sel-results', selection: resultsSelected(store.lastInserted.value) });
    expect(store.notice.value).toMatch(/^Inserted the image/);
    bridge.setSelection(SELECTIONS.frame);
    expect(store.notice.value).toBeNull();
    expect(store.lastInserted.value).toEqual([]);
    // Nothing left to keep: selecting nothing afterwards stays clear.
    bridge.setSelection(SELECTIONS.none);
    expect(store.notice.value).toBeNull();
    store.dispose();
  });

  it('a "Cancelled." outcome also goes with the next attempt', async () => {
    const { store } = await setup();
    const p = store.generateAsync();
    await new Promise((r) => setTimeout(r, 0));
    store.cancel();
    await p;
    expect(store.notice.value).toBe('Cancelled.');
    store.update({ prompt: ' ' });
    await store.generateAsync();
    expect(store.notice.value).toBeNull();
    expect(store.error.value).toMatchObject({ field: 'prompt' });
    store.dispose();
  });
});
