import { effect } from '@preact/signals';
import { describe, expect, it } from 'vitest';
import type { Recipe, UiToPlugin } from '../../protocol/messages';
import { batchEta, createAppStore, errorField, estimateRunEta, type RunState } from '../../ui/app/store';
import { createFakeBridge, SELECTIONS, type FakeBridgeOptions } from './fake-bridge';
import { createFakeEngine, type FakeEngineOptions } from './fake-engine';
import { createRecordingRasterizer } from './fake-raster';

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function setup(b: FakeBridgeOptions = {}, e: FakeEngineOptions = {}) {
  const bridge = createFakeBridge(b);
  const engine = createFakeEngine({ stepMs: 5, ...e });
  let seed = 0.1;
  const store = createAppStore({ bridge, engine, uiMode: 'hosted' }, {
    raster: createRecordingRasterizer(), random: () => (seed = (seed * 7.3) % 1), saveDelayMs: 30, tokenDelayMs: 10,
  });
  await store.startAsync();
  return { bridge, engine, store };
}

const types = (sent: UiToPlugin[]) => sent.map((m) => m.type);

describe('app store', () => {
  it('init: settings come back, the proposed mode is pre-selected, models and capabilities load', async () => {
    const { store } = await setup({ selection: SELECTIONS.frame, settings: { prompt: 'saved prompt', seed: 9, seedPolicy: 'fixed' }, theme: 'dark' });
    expect(store.ready.value).toBe(true);
    expect(store.mode.value).toBe('edit');
    expect(store.theme.value).toBe('dark');
    expect(store.settings.value.prompt).toBe('saved prompt');
    expect(store.models.value).toHaveLength(4);
    expect(store.capabilities.value?.provider).toBe('webgpu');
    expect(store.hintLine.value).toBe("Frame 'Hero' 1440×900 → will be edited at 640×384");
    store.dispose();
  });

  it('generate end to end: prepare-job → generate with progress + previews → insert-result per image → insert-done', async () => {
    const { bridge, engine, store } = await setup({}, {});
    store.update({ prompt: 'a cabin at dusk', batchCount: 2, seedPolicy: 'fixed', seed: 100 });
    const runs: RunState[] = [];
    let previews = 0;
    const stop = effect(() => { if (store.run.value) runs.push(store.run.value); if (store.preview.value) previews++; });
    await store.generateAsync();
    stop();
    expect(store.error.value).toBeNull();
    const flow = types(bridge.sent).filter((t) => t !== 'save-settings' && t !== 'get-history');
    expect(flow).toEqual(['ui-ready', 'prepare-job', 'insert-result', 'insert-result']);
    expect(engine.requests.map((r) => r.seed)).toEqual([100, 101]);
    expect(engine.requests[0]).toMatchObject({ modelId: 'tiny-sd', mode: 'generate', prompt: 'a cabin at dusk', width: 512, height: 512, steps: 4, guidanceScale: 1 });
    const denoise = runs.filter((r) => r.stage === 'denoise');
    expect(denoise.map((r) => `${r.batchIndex}:${r.step}/${r.total}`)).toEqual(['0:1/4', '0:2/4', '0:3/4', '0:4/4', '1:1/4', '1:2/4', '1:3/4', '1:4/4']);
    expect(denoise.slice(2).every((r) => r.etaSeconds !== undefined)).toBe(true);
    expect(previews).toBeGreaterThanOrEqual(8);
    const inserts = bridge.sent.filter((m): m is Extract<UiToPlugin, { type: 'insert-result' }> => m.type === 'insert-result');
    expect(inserts.map((m) => [m.batchIndex, m.batchCount, m.recipe.seed])).toEqual([[0, 2, 100], [1, 2, 101]]);
    expect(new Set(inserts.map((m) => m.jobId)).size).toBe(1);
    expect(store.run.value).toBeNull();
    expect(store.notice.value).toMatch(/Inserted 2 images \(seed 100–101\)/);
    await waitFor(() => store.history.value.length === 2);
    expect(store.settings.value.seed).toBe(100);
    store.dispose();
  });

  it('cancel stops within one step and inserts nothing', async () => {
    const { bridge, engine, store } = await setup({}, { stepMs: 25 });
    store.update({ prompt: 'x' });
    store.setParam('steps', 40);
    const done = store.generateAsync();
    await waitFor(() => (store.run.value?.step ?? 0) >= 3);
    const stepAtCancel = store.run.value!.step;
    store.cancel();
    await done;
    expect(store.run.value).toBeNull();
    expect(store.notice.value).toBe('Cancelled.');
    expect(store.error.value).toBeNull();
    expect(engine.stepsAtAbort[0]).toBe(stepAtCancel);
    await new Promise((r) => setTimeout(r, 80));
    expect(engine.stepsRun[0]).toBe(stepAtCancel);
    expect(types(bridge.sent)).not.toContain('insert-result');
    store.dispose();
  });

  it('seed policies across runs: +1 each run', async () => {
    const { engine, store } = await setup();
    store.update({ prompt: 'x', seedPolicy: 'increment', seed: 7 });
    await store.generateAsync();
    await store.generateAsync();
    expect(engine.requests.map((r) => r.seed)).toEqual([7, 8]);
    expect(store.settings.value.seed).toBe(9);
    store.dispose();
  });

  it('settings are saved debounced, once, with the last value', async () => {
    const { bridge, store } = await setup();
    for (const p of ['a', 'ab', 'abc']) store.update({ prompt: p });
    await new Promise((r) => setTimeout(r, 80));
    const saves = bridge.sent.filter((m) => m.type === 'save-settings');
    expect(saves).toHaveLength(1);
    expect((bridge.savedSettings as { prompt: string }).prompt).toBe('abc');
    store.dispose();
  });

  it('a change other than typing a prompt (the model for a mode) is saved at once, so closing the plugin right after keeps it', async () => {
    const { bridge, store } = await setup();
    const before = bridge.sent.filter((m) => m.type === 'save-settings').length;
    store.update({ modelByMode: { ...store.settings.value.modelByMode, generate: 'another-model' } });
    const saves = bridge.sent.filter((m) => m.type === 'save-settings');
    expect(saves).toHaveLength(before + 1); // no timer: sent in the same turn
    expect((bridge.savedSettings as { modelByMode: Record<string, string> }).modelByMode.generate).toBe('another-model');
    // Typing after it is still debounced.
    store.update({ prompt: 'a' });
    store.update({ prompt: 'ab' });
    expect(bridge.sent.filter((m) => m.type === 'save-settings')).toHaveLength(before + 1);
    store.dispose();
  });

  it('selection-changed re-selects the mode; the problem line is kept', async () => {
    const { bridge, store } = await setup({ selection: SELECTIONS.none });
    expect(store.mode.value).toBe('generate');
    bridge.setSelection(SELECTIONS.imageWithMask);
    expect(store.mode.value).toBe('inpaint');
    bridge.setSelection(SELECTIONS.locked);
    expect(store.mode.value).toBe('generate');
    expect(store.selection.value?.problem).toMatch(/locked/);
    bridge.setTheme('dark');
    expect(store.theme.value).toBe('dark');
    store.setTheme('dark');
    await waitFor(() => (bridge.savedSettings as { theme?: string } | undefined)?.theme === 'dark');
    store.figmaTheme.value = 'light';
    expect(store.effectiveTheme.value).toBe('light');
    store.dispose();
  });

  it('relaunch "regenerate" runs at once on the recipe\'s layers with its seed; "variations" runs 4 new seeds; the seed policy is untouched', async () => {
    const recipe: Recipe = {
      version: 1, mode: 'edit', prompt: 'old prompt', negativePrompt: '', seed: 4242, steps: 6, guidance: 3, strength: 0.3,
      width: 640, height: 384, modelId: 'tiny-sd', sourceNodeIds: ['1:2'], pluginVersion: '0.1.0', createdAt: 'x',
    };
    const a = await setup({ selection: SELECTIONS.frame, relaunch: { action: 'regenerate', nodeId: '9:1', recipe } });
    expect(a.store.mode.value).toBe('edit');
    expect(a.store.settings.value).toMatchObject({ prompt: 'old prompt', seed: 4242, seedPolicy: 'random' });
    expect(a.store.params.value).toMatchObject({ steps: 6, guidance: 3, strength: 0.3 });
    // startAsync ran it: no click needed
    expect(a.engine.requests).toHaveLength(1);
    expect(a.engine.requests[0]).toMatchObject({ seed: 4242, steps: 6, strength: 0.3, mode: 'edit' });
    const prep = a.bridge.sent.find((m) => m.type === 'prepare-job');
    expect(prep).toMatchObject({ sourceNodeIds: ['1:2'] });
    a.store.dispose();
    const b = await setup({ selection: SELECTIONS.frame, relaunch: { action: 'variations', nodeId: '9:1', recipe } });
    expect(b.store.settings.value.seedPolicy).toBe('random');
    expect(b.engine.requests).toHaveLength(4);
    const seeds = b.engine.requests.map((r) => r.seed);
    expect(new Set(seeds).size).toBe(4);
    expect(seeds).not.toContain(4242);
    b.store.dispose();
  });

  it('a launch problem from the plugin (relaunch on a layer without a recipe) shows once, at the selection', async () => {
    const problem = { code: 'INVALID_SELECTION' as const, message: 'The selected layer has no generation recipe to rerun.', hint: 'Select an image this plugin made.' };
    const { engine, store } = await setup({ selection: SELECTIONS.frame, launch: { problem } });
    expect(store.error.value).toMatchObject({ ...problem, field: 'selection' });
    expect(engine.requests).toHaveLength(0);
    store.dispose();
  });

  it('a relaunch whose model is not downloaded waits at the model control, then runs once it is', async () => {
    const recipe: Recipe = {
      version: 1, mode: 'generate', prompt: 'later', negativePrompt: '', seed: 7, steps: 2, guidance: 1,
      width: 512, height: 512, modelId: 'sd-turbo', sourceNodeIds: [], pluginVersion: '0.1.0', createdAt: 'x',
    };
    const { engine, store } = await setup({ selection: SELECTIONS.none, relaunch: { action: 'regenerate', nodeId: '9:1', recipe } });
    expect(engine.requests).toHaveLength(0);
    expect(store.error.value).toMatchObject({ code: 'MODEL_NOT_READY', field: 'model' });
    expect(store.pendingRun.value).not.toBeNull();
    await store.downloadAsync('sd-turbo', { confirmed: true });
    await waitFor(() => engine.requests.length === 1 && !store.running.value);
    expect(engine.requests[0]).toMatchObject({ seed: 7 });
    expect(store.error.value).toBeNull();
    store.dispose();
  });

  it('errors in plain words with a hint: empty prompt, model not downloaded, plugin refusal', async () => {
    const { bridge, store } = await setup({ prepareError: { code: 'INVALID_SELECTION', message: "'Hero' is hidden.", hint: 'Show it first.' } });
    await store.generateAsync();
    expect(store.error.value).toMatchObject({ code: 'INVALID_INPUT', message: 'The prompt is empty.', field: 'prompt' });
    store.update({ prompt: 'x' });
    store.setModel('sd-turbo');
    await store.generateAsync();
    expect(store.error.value).toMatchObject({ code: 'MODEL_NOT_READY', message: 'SD-Turbo is not downloaded yet.', field: 'model' });
    expect(store.error.value?.hint).toMatch(/Open Models/);
    store.setModel('tiny-sd');
    await store.generateAsync();
    expect(store.error.value).toEqual({ code: 'INVALID_SELECTION', message: "'Hero' is hidden.", hint: 'Show it first.', field: 'selection' });
    bridge.prepareError = undefined;
    await store.generateAsync();
    expect(store.error.value).toBeNull();
    store.dispose();
  });

  it('downloads: non-commercial licence needs a confirm first; progress, then ready; failures keep the reason', async () => {
    const { engine, store } = await setup({}, { downloadChunks: 4, downloadChunkMs: 10, failDownloads: ['sd15-inpaint'] });
    await store.downloadAsync('sd-turbo');
    expect(store.pendingLicence.value).toBe('sd-turbo');
    expect(engine.downloads).toEqual([]);
    const seen: number[] = [];
    const stop = effect(() => { const m = store.models.value.find((x) => x.id === 'sd-turbo'); if (m?.progress) seen.push(m.progress.bytes); });
    await store.downloadAsync('sd-turbo', { confirmed: true });
    stop();
    expect(engine.downloads).toEqual(['sd-turbo']);
    expect(seen.slice(-4)).toEqual([0.65e9, 1.3e9, 1.95e9, 2.6e9]);
    expect(store.models.value.find((x) => x.id === 'sd-turbo')?.status).toBe('ready');
    expect(store.storage.value?.usedBytes).toBe(120e6 + 2.5e9 + 2.6e9);
    await store.downloadAsync('sd15-inpaint');
    const failed = store.models.value.find((x) => x.id === 'sd15-inpaint');
    expect(failed?.status).toBe('failed');
    expect(failed?.error?.message).toMatch(/stopped at 75%/);
    store.dispose();
  });

  it('live token counter with the style preset, debounced, with dropped tokens', async () => {
    const { store } = await setup();
    store.update({ prompt: 'one two three' });
    await waitFor(() => store.tokens.value?.count === 3);
    expect(store.tokens.value).toEqual({ count: 3, limit: 75, dropped: 0 });
    store.update({ prompt: Array.from({ length: 80 }, (_, i) => `w${i}`).join(' ') });
    await waitFor(() => store.tokens.value?.count === 80);
    expect(store.tokens.value?.dropped).toBe(5);
    store.update({ prompt: 'a', presetId: 'photo' });
    await waitFor(() => store.tokens.value?.count !== 80);
    // "a, professional photograph, natural light, sharp focus, high detail": 9 words + 4 commas.
    expect(store.tokens.value).toEqual({ count: 13, limit: 75, dropped: 0 });
    store.dispose();
  });

  it('ETA counts the remaining steps of this and later images', () => {
    expect(estimateRunEta({ step: 5, total: 20, batchIndex: 0, batchCount: 2, stepMs: 1000 })).toBe(35);
    expect(estimateRunEta({ step: 0, total: 20, batchIndex: 0, batchCount: 1, stepMs: 1000 })).toBeUndefined();
  });
});

describe('custom models', () => {
  it('adds by URL or JSON; bad input is explained without calling the engine', async () => {
    const { store } = await setup({}, { withAddCustomModel: true });
    expect(store.canAddCustomModel).toBe(true);
    expect((await store.addCustomModelAsync('  '))?.message).toMatch(/Paste a manifest URL/);
    expect((await store.addCustomModelAsync('{oops'))?.message).toMatch(/not valid JSON/);
    expect((await store.addCustomModelAsync('ftp://x'))?.message).toMatch(/not a URL or JSON/);
    expect((await store.addCustomModelAsync('{"name":"x"}'))?.code).toBe('INVALID_MANIFEST');
    expect(await store.addCustomModelAsync('https://example.com/a/new-model.json')).toBeNull();
    expect(store.models.value.map((m) => m.id)).toContain('new-model');
    expect(await store.addCustomModelAsync('{"id":"pasted","name":"P"}')).toBeNull();
    expect(store.models.value.map((m) => m.id)).toContain('pasted');
    store.dispose();
  });

  it('the batch ETA counts the whole batch and never goes up (7→6→2→5 s becomes a countdown)', () => {
    // 1 of 4 images done in 2 s → 6 s left for the batch (not one image's share).
    expect(batchEta({ elapsedMs: 2000, done: 0.25 })).toBe(6);
    // A slower image later would raise the estimate: the shown value keeps counting down instead.
    expect(batchEta({ elapsedMs: 6000, done: 0.5, previous: { seconds: 5, sinceMs: 1000 } })).toBe(4);
    // A faster one lowers it at once.
    expect(batchEta({ elapsedMs: 3000, done: 0.75, previous: { seconds: 5, sinceMs: 500 } })).toBe(1);
    expect(batchEta({ elapsedMs: 0, done: 0 })).toBeUndefined();
    let shown: number | undefined;
    const seq: number[] = [];
    const times = [800, 700, 2400, 600, 3000, 500, 900, 700];
    let t = 0;
    for (let k = 0; k < times.length; k++) {
      t += times[k]!;
      const next = batchEta({ elapsedMs: t, done: (k + 1) / times.length, ...(shown !== undefined ? { previous: { seconds: shown, sinceMs: times[k]! } } : {}) });
      shown = next;
      seq.push(next!);
    }
    for (let k = 1; k < seq.length; k++) expect(seq[k]).toBeLessThanOrEqual(seq[k - 1]!);
    expect(seq.at(-1)).toBe(0);
  });

  it('errors go to the control that changes them', () => {
    expect(errorField({ code: 'MODEL_NOT_READY', message: 'x' })).toBe('model');
    expect(errorField({ code: 'INVALID_SELECTION', message: 'x', hint: 'Select a frame, or set “Insert as” to “New layer”.' })).toBe('target');
    expect(errorField({ code: 'INVALID_SELECTION', message: 'x' })).toBe('selection');
    expect(errorField({ code: 'INVALID_INPUT', message: 'The prompt is empty.' })).toBe('prompt');
    expect(errorField({ code: 'INTERNAL', message: 'x' })).toBeNull();
  });

  it('"Fill of the selection" with nothing selected is refused before the plugin is even asked', async () => {
    const { bridge, engine, store } = await setup({ selection: SELECTIONS.none });
    store.update({ prompt: 'x', target: 'replace-fill' });
    await store.generateAsync();
    expect(store.error.value).toMatchObject({ code: 'INVALID_SELECTION', field: 'target' });
    expect(bridge.sent.map((m) => m.type)).not.toContain('prepare-job');
    expect(engine.requests).toHaveLength(0);
    store.dispose();
  });
});
