/**
 * Message fuzzer, UI side: seeded malformed plugin → UI messages (and envelopes, sources, origins) into the real
 * bridge (ui/bridge/plugin-bridge) with the real app store on top (fake engine). Asserts: no uncaught error, no
 * document change (the UI sends no insert-result), no prototype pollution, the store's state still valid, and a
 * valid generation still served afterwards. `FUZZ_MESSAGES=10000` for the nightly size.
 */
import { describe, expect, it } from 'vitest';
import { parsePluginToUi, parseUiToPlugin, type PluginToUi, type UiToPlugin } from '../../protocol/messages';
import { selectionInfo } from '../../protocol/messages';
import { createPluginBridge, type BridgeWindow } from '../../ui/bridge/plugin-bridge';
import { createAppStore } from '../../ui/app/store';
import { createFakeEngine } from '../ui/fake-engine';
import { createRecordingRasterizer } from '../ui/fake-raster';
import { SELECTIONS } from '../ui/fake-bridge';
import { makeRecipe, makeResultPng } from '../plugin/plugin-driver';
import { createFuzzer, FUZZ_MESSAGES, FUZZ_SEED, prototypeSnapshot } from './fuzz-messages';

const COUNT = FUZZ_MESSAGES || 1000;

/** A window whose parent is a minimal plugin: answers ui-ready, prepare-job (generate), insert-result, the rest ack. */
function pluginWindow() {
  const listeners = new Set<(e: MessageEvent) => void>();
  const sent: UiToPlugin[] = [];
  const deliver = (data: unknown, source: unknown = parent, origin = 'null') => {
    for (const l of [...listeners]) l({ data, origin, source } as MessageEvent);
  };
  const reply = (m: PluginToUi) => {
    const parsed = parsePluginToUi(m);
    if (!parsed.ok) throw new Error(`test plugin broke the protocol: ${parsed.reason}`);
    setTimeout(() => deliver({ pluginMessage: m }), 0);
  };
  const placement = { x: 0, y: 0, width: 512, height: 512, content: { x: 0, y: 0, width: 512, height: 512 } };
  const parent = {
    postMessage(message: unknown) {
      const parsed = parseUiToPlugin((message as { pluginMessage?: unknown }).pluginMessage);
      if (!parsed.ok) throw new Error(`the UI posted a message that breaks the protocol: ${parsed.reason}`);
      const m = parsed.message;
      sent.push(m);
      switch (m.type) {
        case 'ui-ready': reply({ type: 'init', requestId: m.requestId, pluginVersion: '0.1.0', theme: 'light', selection: SELECTIONS.none, settings: {} }); break;
        case 'prepare-job': reply({ type: 'job-inputs', requestId: m.requestId, mode: m.mode, width: 512, height: 512, placement, sourceNodeIds: [], notes: [] }); break;
        case 'insert-result': reply({ type: 'insert-done', requestId: m.requestId, jobId: m.jobId, nodeIds: ['9:1'], notes: [] }); break;
        case 'get-history': reply({ type: 'history', requestId: m.requestId, entries: [] }); break;
        default: reply({ type: 'ack', requestId: m.requestId });
      }
    },
  };
  const win: BridgeWindow = { parent, addEventListener: (_t, l) => listeners.add(l), removeEventListener: (_t, l) => listeners.delete(l) };
  return { win, sent, deliver, parent };
}

describe(`UI message fuzzer (${COUNT} messages, seed ${FUZZ_SEED})`, () => {
  it('no uncaught error, no document change, no pollution, state still valid, still serving', async () => {
    const { win, sent, deliver, parent } = pluginWindow();
    const warnings: string[] = [];
    const bridge = createPluginBridge(win, { uiMode: 'inline' }, (t) => warnings.push(t));
    const store = createAppStore({ bridge, engine: createFakeEngine({ stepMs: 1 }), uiMode: 'inline' }, {
      raster: createRecordingRasterizer(), random: () => 0.5, saveDelayMs: 5, tokenDelayMs: 5,
    });
    const uncaught: unknown[] = [];
    const onError = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onError);
    process.on('unhandledRejection', onError);
    try {
      await store.startAsync();
      expect(store.ready.value).toBe(true);
      const pollution = prototypeSnapshot();
      const png = makeResultPng(64, 64);
      const placement = { x: 0, y: 0, width: 64, height: 64, content: { x: 0, y: 0, width: 64, height: 64 } };
      const recipe = makeRecipe({ width: 64, height: 64 });
      const templates: PluginToUi[] = [
        { type: 'init', requestId: 'x', pluginVersion: '0.1.0', theme: 'dark', selection: SELECTIONS.frame, settings: { prompt: 'p', seed: 3 } },
        { type: 'selection-changed', requestId: 'x', selection: SELECTIONS.imageWithMask },
        { type: 'selection-changed', requestId: 'x', selection: SELECTIONS.locked },
        { type: 'job-inputs', requestId: 'x', mode: 'inpaint', width: 64, height: 64, placement, image: { png, width: 64, height: 64 },
          mask: { paths: [{ d: 'M0 0L10 0L10 10Z', windingRule: 'NONZERO', kind: 'fill', nodeId: '1:6' }], nodeIds: ['1:6'] }, sourceNodeIds: ['1:5'], notes: ['n'] },
        { type: 'insert-done', requestId: 'x', jobId: 'job-1', nodeIds: ['1:2'], notes: [] },
        { type: 'history', requestId: 'x', entries: [{ nodeId: '1:2', name: 'r', recipe, thumbnail: png }] },
        { type: 'theme', requestId: 'x', theme: 'dark' },
        { type: 'ack', requestId: 'x' },
        { type: 'error', requestId: 'x', error: { code: 'INVALID_SELECTION', message: 'm', hint: 'h' } },
      ];
      const fuzz = createFuzzer(FUZZ_SEED + 1);
      const sentBefore = sent.length;
      for (let i = 0; i < COUNT; i++) {
        const msg = fuzz.next(templates.map((t) => ({ ...t, requestId: `fz-${i}` })));
        const r = fuzz.random();
        // Mostly the plugin's envelope from the parent; sometimes no envelope, the raw message, or another window.
        if (r < 0.85) deliver({ pluginMessage: msg });
        else if (r < 0.9) deliver(msg);
        else if (r < 0.95) deliver({ pluginMessage: msg }, {}, 'https://evil.example');
        else deliver(fuzz.next([{ pluginMessage: msg, pluginId: '*' }]));
        if (i % 50 === 49) await new Promise((res) => setTimeout(res, 0));
      }
      await new Promise((res) => setTimeout(res, 50));

      expect(uncaught).toEqual([]);
      expect(pollution()).toEqual([]);
      // No document change: nothing the UI sent during the fuzz asks the plugin to write.
      const during = sent.slice(sentBefore).map((m) => m.type);
      expect(during.filter((t) => t === 'insert-result' || t === 'prepare-job')).toEqual([]);
      // State stayed valid: whatever selection the store holds passes the protocol.
      if (store.selection.value) expect(() => selectionInfo.validate(store.selection.value)).not.toThrow();
      expect(['light', 'dark']).toContain(store.theme.value);
      expect(warnings.length).toBeGreaterThan(COUNT * 0.4);
      console.log(`UI fuzz: ${COUNT} messages, ${warnings.length} dropped with a warning, selection ${store.selection.value?.hint ?? 'none'}`);

      // Still serving: select nothing, a valid generation runs and inserts exactly once.
      deliver({ pluginMessage: { type: 'selection-changed', requestId: 'sel-final', selection: SELECTIONS.none } }, parent);
      store.setMode('generate');
      store.update({ prompt: 'a cabin at dusk', batchCount: 1 });
      store.error.value = null;
      await store.generateAsync();
      expect(store.error.value).toBeNull();
      expect(sent.filter((m) => m.type === 'insert-result')).toHaveLength(1);
      expect(store.notice.value).toMatch(/Inserted the image/);
    } finally {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
      store.dispose();
    }
  });
});
