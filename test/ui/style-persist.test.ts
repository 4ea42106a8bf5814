/**
 * The Style reference control is remembered between plugin sessions with the other Create settings (on/off, the
 * layer's id + name + thumbnail, strength). When the plugin opens, the remembered layer is looked up by id before
 * anything runs; when it is gone (or the id is another layer, as in another file) the control says so plainly.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../protocol/errors';
import type { PluginToUi, SelectionInfo, UiToPlugin } from '../../protocol/messages';
import type { ServerHealth } from '../../ui/contracts/engine';
import { createImage, encodePng } from '../../ui/core/image';
import {
  base64ToBytes, bytesToBase64, DEFAULT_SETTINGS, MAX_STYLE_THUMBNAIL_CHARS, parseSettings, serializeSettings,
} from '../../ui/app/settings';
import { createAppStore } from '../../ui/app/store';
import { createFakeBridge, SELECTIONS, type FakeBridge } from './fake-bridge';
import { createFakeEngine } from './fake-engine';
import { createRecordingRasterizer } from './fake-raster';

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const THUMB = encodePng(createImage(32, 24, [20, 200, 60, 255]));

/**
 * The plugin's `pick-style` by id over a document holding `layers` (id → name), answering as plugin/style-reference.ts
 * does: the layer's id, name and thumbnail, or SOURCE_CHANGED when the id is not in the document.
 */
function withDocument(bridge: FakeBridge, layers: Record<string, string>): void {
  const inner = bridge.requestAsync.bind(bridge);
  (bridge as { requestAsync: FakeBridge['requestAsync'] }).requestAsync = (msg: UiToPlugin, timeoutMs?: number): Promise<PluginToUi> => {
    if (msg.type !== 'pick-style' || !msg.nodeId) return inner(msg, timeoutMs);
    bridge.sent.push(msg);
    const name = layers[msg.nodeId];
    if (name === undefined) {
      return Promise.reject(new AppError('SOURCE_CHANGED', 'The style reference layer is no longer in the document.', {
        hint: 'Select another image and press “Use selection” under Style reference, or turn Style reference off.',
      }));
    }
    return Promise.resolve({ type: 'style-picked', requestId: msg.requestId, nodeId: msg.nodeId, name, thumbnail: THUMB });
  };
}

const HEALTH: ServerHealth = {
  kind: 'comfyui', url: 'http://127.0.0.1:8188', summary: 'ComfyUI', checkpoints: [], controlnets: [],
  modes: Object.fromEntries(['generate', 'edit', 'inpaint', 'wireframe', 'boost', 'style'].map((m) => [m, { ready: true, missing: [] }])) as unknown as ServerHealth['modes'],
};

async function open(settings: unknown, layers: Record<string, string>, selection: SelectionInfo = SELECTIONS.none) {
  const bridge = createFakeBridge({ settings, selection });
  withDocument(bridge, layers);
  const engine = createFakeEngine({ stepMs: 1 });
  Object.assign(engine, { configureServerAsync: async (c: unknown) => (c ? HEALTH : null) });
  const store = createAppStore({ bridge, engine, uiMode: 'hosted' }, { raster: createRecordingRasterizer(), random: () => 0.5, saveDelayMs: 10, tokenDelayMs: 5 });
  await store.startAsync();
  return { bridge, store };
}

const pickStyleIds = (b: FakeBridge) => b.sent.filter((m): m is Extract<UiToPlugin, { type: 'pick-style' }> => m.type === 'pick-style').map((m) => m.nodeId);

describe('style reference settings', () => {
  it('parse: defaults, round-trip, bad values dropped, an oversized thumbnail not kept', () => {
    expect(DEFAULT_SETTINGS.style).toEqual({ enabled: false, strength: 0.8, ref: null });
    const style = { enabled: true, strength: 0.35, ref: { nodeId: 'I1:2;3:4', name: 'Mood board', thumbnail: bytesToBase64(THUMB) } };
    const s = parseSettings(JSON.parse(JSON.stringify(serializeSettings({ ...DEFAULT_SETTINGS, style }))));
    expect(s.style).toEqual(style);
    expect(base64ToBytes(s.style.ref!.thumbnail!)).toEqual(THUMB);
    expect(parseSettings({ style: { enabled: 'yes', strength: 7, ref: { nodeId: '', name: 'x' } } }).style).toEqual({ enabled: false, strength: 1, ref: null });
    expect(parseSettings({ style: { ref: { nodeId: '1:2', name: 'A', thumbnail: 'not base64!' } } }).style.ref).toEqual({ nodeId: '1:2', name: 'A' });
    expect(parseSettings({ style: { ref: { nodeId: '1:2', name: 'A', thumbnail: 'A'.repeat(MAX_STYLE_THUMBNAIL_CHARS + 4) } } }).style.ref).toEqual({ nodeId: '1:2', name: 'A' });
    expect(parseSettings({ style: 'on' }).style).toEqual(DEFAULT_SETTINGS.style);
  });
});

describe('style reference across sessions', () => {
  it('the control as it was left is saved, and comes back in the next session, checked by id first', async () => {
    const first = await open({}, { '1:2': 'Hero' }, SELECTIONS.frame);
    await first.store.pickStyleAsync();
    first.store.styleStrength.value = 0.45;
    await waitFor(() => (first.bridge.savedSettings as { style?: { strength?: number } } | undefined)?.style?.strength === 0.45);
    const saved = first.bridge.savedSettings as { style: unknown };
    expect(saved.style).toEqual({ enabled: true, strength: 0.45, ref: { nodeId: '1:2', name: 'Hero', thumbnail: bytesToBase64(THUMB) } });
    first.store.dispose();

    const next = await open(saved, { '1:2': 'Hero' });
    expect(pickStyleIds(next.bridge)).toEqual(['1:2']); // looked up by id at open
    expect(next.store.styleEnabled.value).toBe(true);
    expect(next.store.styleStrength.value).toBe(0.45);
    expect(next.store.styleRef.value).toMatchObject({ nodeId: '1:2', name: 'Hero' });
    expect(next.store.styleRef.value?.thumbnail).toEqual(THUMB);
    expect(next.store.styleMissing.value).toBeNull();
    expect(next.store.error.value).toBeNull();
    // Turned off: remembered off (the reference stays for when it is turned on again).
    next.store.setStyleEnabled(false);
    await waitFor(() => (next.bridge.savedSettings as { style?: { enabled?: boolean } } | undefined)?.style?.enabled === false);
    expect((next.bridge.savedSettings as { style: { ref: unknown } }).style.ref).toMatchObject({ nodeId: '1:2' });
    next.store.dispose();
  });

  it('a remembered layer that is gone is said plainly at the control, before anything runs; a run stops there', async () => {
    const remembered = {
      engine: 'server', server: { kind: 'comfyui', url: 'http://127.0.0.1:8188', token: '' }, prompt: 'a cabin',
      style: { enabled: true, strength: 0.6, ref: { nodeId: '7:7', name: 'Mood board', thumbnail: bytesToBase64(THUMB) } },
    };
    const { bridge, store } = await open(remembered, {});
    expect(store.serverState.value).toBe('connected');
    expect(pickStyleIds(bridge)).toEqual(['7:7']);
    expect(store.styleActive.value).toBe(true);
    expect(store.styleRef.value).toBeNull();
    expect(store.styleMissing.value).toEqual({ name: 'Mood board', thumbnail: THUMB });
    expect(bridge.sent.some((m) => m.type === 'prepare-job')).toBe(false);
    // Forgotten in the saved settings: the next session does not complain again.
    await waitFor(() => (bridge.savedSettings as { style?: { ref?: unknown } } | undefined)?.style?.ref === null);
    // Generate: stopped at the style control with the same plain words, nothing asked of the plugin or the server.
    await store.generateAsync();
    expect(store.error.value).toMatchObject({
      field: 'style', code: 'SOURCE_CHANGED', message: 'The style reference “Mood board” you used last time is not in this file.',
    });
    expect(bridge.sent.some((m) => m.type === 'prepare-job')).toBe(false);
    // Choosing another one clears it.
    bridge.selection = SELECTIONS.frame;
    withDocument(bridge, { '1:2': 'Hero' });
    await store.pickStyleAsync();
    expect(store.styleMissing.value).toBeNull();
    expect(store.styleRef.value).toMatchObject({ nodeId: '1:2', name: 'Hero' });
    expect(store.error.value).toBeNull();
    store.dispose();
  });

  it('the id naming another layer (ids repeat across files) is not taken for the reference', async () => {
    const { store } = await open({ style: { enabled: true, strength: 0.8, ref: { nodeId: '1:2', name: 'Mood board' } } }, { '1:2': 'Header' });
    expect(store.styleRef.value).toBeNull();
    expect(store.styleMissing.value).toMatchObject({ name: 'Mood board' });
    store.dispose();
  });
});
