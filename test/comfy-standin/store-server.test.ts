/**
 * The app store over the engine router and the stand-in ComfyUI server: nothing is contacted before the user
 * connects; "Run on → Server" picks the server's model; a batch is a queue of prompts (all queued at once, inserted
 * in order, recipes naming the engine); cancel leaves nothing of the run queued on the server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { UiToPlugin } from '../../protocol/messages';
import { createAppStore } from '../../ui/app/store';
import type { SocketLike } from '../../ui/runtime/remote/comfy-client';
import { createEngineRouter } from '../../ui/runtime/remote/engine-router';
import { createFakeEngine } from '../ui/fake-engine';
import { createRecordingRasterizer } from '../ui/fake-raster';
import { startStandinAsync, type RunningStandin, type StandinOptions } from './server';
import { SELECTIONS, createFakeBridge } from '../ui/fake-bridge';

const servers: RunningStandin[] = [];
afterEach(async () => { for (const s of servers.splice(0)) await s.closeAsync(); });

async function setupAsync(opts: StandinOptions = {}) {
  const s = await startStandinAsync({ stepMs: 5, checkpoints: ['sd15-random.safetensors'], ...opts });
  servers.push(s);
  const bridge = createFakeBridge({});
  const engine = createEngineRouter(createFakeEngine({ stepMs: 5 }), { domains: [s.url], socket: (u) => new WebSocket(u) as unknown as SocketLike });
  const store = createAppStore({ bridge, engine, uiMode: 'hosted' }, { raster: createRecordingRasterizer(), random: () => 0.5, saveDelayMs: 10, tokenDelayMs: 5 });
  await store.startAsync();
  return { s, bridge, store };
}

const inserts = (sent: UiToPlugin[]) => sent.filter((m): m is Extract<UiToPlugin, { type: 'insert-result' }> => m.type === 'insert-result');

describe('app store on a ComfyUI server', () => {
  it('two clicks to the server; a batch is queued at once and inserted in order', async () => {
    const { s, bridge, store } = await setupAsync();
    expect(s.standin.requests).toHaveLength(0); // nothing sent before the user connects
    store.setEngine('server'); // not connected yet: Models opens instead
    expect(store.view.value).toBe('models');
    expect(store.settings.value.engine).toBe('local');
    expect(await store.connectServerAsync({ kind: 'comfyui', url: s.url, token: '' })).toBeNull();
    expect(store.serverState.value).toBe('connected');
    store.setEngine('server');
    expect(store.model.value?.id).toBe('comfyui:sd15-random.safetensors');
    store.update({ prompt: 'a cabin', batchCount: 3, seedPolicy: 'fixed', seed: 10 });
    s.standin.paused = true;
    const run = store.generateAsync();
    await expect.poll(() => s.standin.queue.length, { timeout: 5000 }).toBe(3);
    s.standin.resume();
    await run;
    expect(store.error.value).toBeNull();
    const ins = inserts(bridge.sent);
    expect(ins.map((m) => m.recipe.seed)).toEqual([10, 11, 12]);
    expect(ins.map((m) => m.batchIndex)).toEqual([0, 1, 2]);
    expect(ins[0]?.recipe).toMatchObject({ engine: 'comfyui', serverModels: ['sd15-random.safetensors'], modelId: 'comfyui:sd15-random.safetensors' });
    store.dispose();
  });

  it('“Full resolution” is off for server models (with the reason), and the router refuses it rather than return a small image', async () => {
    const { s, store } = await setupAsync();
    await store.connectServerAsync({ kind: 'comfyui', url: s.url, token: '' });
    store.setEngine('server');
    store.update({ fullResolution: true });
    expect(store.fullResolutionPlan.value).toMatchObject({ available: false, reason: expect.stringMatching(/runs on this device/) });
    expect(store.fullResolutionOn.value).toBe(false);
    const engine = createEngineRouter(createFakeEngine({ stepMs: 5 }), { domains: [s.url], socket: (u) => new WebSocket(u) as unknown as SocketLike });
    await engine.configureServerAsync!({ kind: 'comfyui', url: s.url });
    await expect(engine.generateAsync({
      modelId: 'comfyui:sd15-random.safetensors', mode: 'generate', prompt: 'x', negativePrompt: '', width: 64, height: 64, steps: 1, guidanceScale: 1, seed: 1,
      fullResolution: { width: 128, height: 128, crop: { x: 0, y: 0, width: 64, height: 64 }, strength: 0.3 },
    }, {})).rejects.toMatchObject({ code: 'INVALID_INPUT', message: 'Full resolution runs on this device, not on a server.' });
    expect(s.standin.requests.filter((r) => r.method === 'POST' && r.path === '/prompt')).toEqual([]);
    store.dispose();
  });

  it('cancel during a queued batch: nothing of the run stays queued on the server', async () => {
    const { s, store } = await setupAsync();
    await store.connectServerAsync({ kind: 'comfyui', url: s.url, token: '' });
    store.setEngine('server');
    store.update({ prompt: 'a cabin', batchCount: 3 });
    s.standin.paused = true;
    const run = store.generateAsync();
    await expect.poll(() => s.standin.queue.length, { timeout: 5000 }).toBe(3);
    store.cancel();
    await run;
    expect(store.notice.value).toBe('Cancelled.');
    await expect.poll(() => s.standin.queue.length, { timeout: 3000 }).toBe(0);
    expect(s.standin.history.size).toBe(0);
    store.dispose();
  });

  it('style reference: off with the reason on this device; each precondition stops the run at the control; then applied and recorded for Re-run', async () => {
    const { s, bridge, store } = await setupAsync({ clipVision: ['CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors'] });
    // This device's engine: the control is off, with the reason.
    expect(store.styleAvailability.value).toMatchObject({ shown: true, enabled: false });
    expect(store.styleAvailability.value.reason).toMatch(/^Style reference runs on a ComfyUI server .*Connect one in Models → Server/);
    await store.connectServerAsync({ kind: 'comfyui', url: s.url, token: '' });
    store.setEngine('server');
    expect(store.styleAvailability.value).toEqual({ shown: true, enabled: true });
    store.update({ prompt: 'a cabin', batchCount: 1 });
    store.setStyleEnabled(true);
    const prompts = () => s.standin.requests.filter((r) => r.method === 'POST' && r.path === '/prompt').length;
    // 1. The server lacks the IP-Adapter pack and a style model: named, at the style control, nothing queued.
    await store.generateAsync();
    expect(store.error.value).toMatchObject({ field: 'style', code: 'MODEL_NOT_READY' });
    expect(store.error.value?.message).toMatch(/can't apply a style reference: it needs the IP-Adapter nodes \(ComfyUI_IPAdapter_plus\), an IP-Adapter model in models\/ipadapter, or else a style model in models\/style_models\.$/);
    expect(prompts()).toBe(0);
    // 2. Installed on the server, checked again; no reference chosen yet.
    s.standin.install({ ipadapters: ['ip-adapter-plus_sd15.safetensors'] });
    await store.connectServerAsync({ kind: 'comfyui', url: s.url, token: '' });
    await store.generateAsync();
    expect(store.error.value).toMatchObject({ field: 'style', message: 'No style reference is chosen yet.' });
    // 3. “Use selection” with nothing selected: the plugin's reason, at the control.
    await store.pickStyleAsync();
    expect(store.error.value).toMatchObject({ field: 'style', code: 'INVALID_SELECTION' });
    bridge.selection = SELECTIONS.frame;
    await store.pickStyleAsync();
    expect(store.error.value).toBeNull();
    expect(store.styleRef.value).toMatchObject({ nodeId: '1:2', name: 'Hero' });
    store.styleStrength.value = 0.6;
    bridge.selection = SELECTIONS.none;
    await store.generateAsync();
    expect(store.error.value).toBeNull();
    const prep = bridge.sent.filter((m): m is Extract<UiToPlugin, { type: 'prepare-job' }> => m.type === 'prepare-job').at(-1);
    expect(prep?.styleNodeId).toBe('1:2');
    const sent = [...s.standin.history.values()].at(-1)?.prompt as [number, string, Record<string, { class_type: string; inputs: Record<string, unknown> }>];
    expect(Object.values(sent[2]).find((n) => n.class_type === 'IPAdapterAdvanced')?.inputs).toMatchObject({ weight: 0.6, weight_type: 'style transfer' });
    const recipe = inserts(bridge.sent).at(-1)?.recipe;
    expect(recipe).toMatchObject({ engine: 'comfyui', styleNodeId: '1:2', styleStrength: 0.6, serverModels: ['sd15-random.safetensors', 'ip-adapter-plus_sd15.safetensors', 'CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors'] });
    // Re-run from the recipe after turning the style off: the recipe turns it back on, with its strength and layer.
    store.setStyleEnabled(false);
    store.styleStrength.value = 0.2;
    await store.rerunAsync(recipe!, 'rerun');
    expect(store.error.value).toBeNull();
    expect(bridge.sent.filter((m): m is Extract<UiToPlugin, { type: 'prepare-job' }> => m.type === 'prepare-job').at(-1)?.styleNodeId).toBe('1:2');
    expect(inserts(bridge.sent).at(-1)?.recipe).toMatchObject({ styleNodeId: '1:2', styleStrength: 0.6, seed: recipe!.seed });
    // Switching to this device turns the style off with the reason; the run goes without it.
    store.setEngine('local');
    expect(store.styleActive.value).toBe(false);
    expect(store.styleAvailability.value.reason).toMatch(/Choose your server in “Run on”\.$/);
    store.dispose();
  });

  it('style reference with the server gone: the run stops at the Style reference control, saying no server is connected', async () => {
    const { s, store } = await setupAsync();
    await store.connectServerAsync({ kind: 'comfyui', url: s.url, token: '' });
    store.setEngine('server');
    store.setStyleEnabled(true);
    store.update({ prompt: 'a cabin' });
    await s.closeAsync();
    servers.splice(servers.indexOf(s), 1);
    await store.connectServerAsync({ kind: 'comfyui', url: s.url, token: '' });
    expect(store.serverState.value).toBe('failed');
    await store.generateAsync();
    expect(store.error.value).toMatchObject({ field: 'style', code: 'SERVER_UNREACHABLE', message: 'Style reference needs a connected server, and none is connected.' });
    store.dispose();
  });
});
