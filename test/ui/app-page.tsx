/**
 * Test page for test/ui/app.browser.test.ts: mounts the real app with the fake bridge and fake engine.
 * Query: ?selection=none|frame|imageWithMask|wireframe|locked &theme=light|dark &uiMode=inline|hosted
 *        &stepMs=N &provider=webgpu|wasm &persistent=0|1 &history=N (pre-filled history entries)
 *        &figmaClass=figma-dark|figma-light (as Figma sets on <html> in inline mode) &advanced=0 (Advanced closed)
 */
import { mountApp } from '../../ui/app/main';
import type { AppStore } from '../../ui/app/store';
import { createImage, encodePng } from '../../ui/core/image';
import { createFakeBridge, SELECTIONS } from './fake-bridge';
import { createFakeEngine } from './fake-engine';

const q = new URLSearchParams(location.search);
const selection = SELECTIONS[(q.get('selection') ?? 'none') as keyof typeof SELECTIONS] ?? SELECTIONS.none;
const persistent = q.get('persistent') !== '0';
const provider = q.get('provider') === 'wasm' ? 'wasm' : 'webgpu';
const historyCount = Number(q.get('history') ?? 0);

const history = Array.from({ length: historyCount }, (_, i) => {
  const colours: [number, number, number, number][] = [[230, 120, 80, 255], [80, 160, 220, 255], [120, 200, 120, 255], [200, 180, 90, 255]];
  return {
    nodeId: `8:${i + 1}`,
    name: `Result ${i + 1}`,
    thumbnail: encodePng(createImage(96, 64, colours[i % colours.length]!)),
    recipe: {
      version: 1 as const, mode: (['generate', 'edit', 'inpaint', 'wireframe'] as const)[i % 4]!, prompt: `earlier prompt number ${i + 1}, a lighthouse on a cliff`,
      negativePrompt: '', seed: 1000 + i, steps: 4, guidance: 1, width: 768, height: 512, modelId: 'tiny-sd', sourceNodeIds: [],
      pluginVersion: '0.1.0', createdAt: '2026-11-24T10:00:00.000Z',
    },
  };
});

// Most tests work in the Advanced settings, so they start open (saved setting); &advanced=0 starts as a new user does.
const bridge = createFakeBridge({ selection, theme: q.get('theme') === 'dark' ? 'dark' : 'light', history, latencyMs: 5, settings: { advanced: q.get('advanced') !== '0' } });
const engine = createFakeEngine({
  stepMs: Number(q.get('stepMs') ?? 40),
  downloadChunks: 8,
  downloadChunkMs: Number(q.get('downloadMs') ?? 150),
  withLoadFromFiles: q.get('uiMode') === 'inline',
  withAddCustomModel: true,
  capabilities: provider === 'wasm'
    ? { webgpu: false, adapterName: undefined, provider: 'wasm', reason: 'navigator.gpu is missing in this window.', persistentStorage: persistent,
        ...(persistent ? {} : { storageReason: 'Figma’s plugin window has no storage' }) }
    : { persistentStorage: persistent, ...(persistent ? {} : { storageReason: 'Figma’s plugin window has no storage' }) },
});

// Figma's inline UI (showUI themeColors: true) marks <html> with figma-light / figma-dark.
const figmaClass = q.get('figmaClass');
if (figmaClass) document.documentElement.classList.add(figmaClass);

let store: AppStore | null = null;
const root = document.getElementById('root') as HTMLElement;
const unmount = mountApp(root, { bridge, engine, uiMode: q.get('uiMode') === 'inline' ? 'inline' : 'hosted' }, { onStore: (s) => { store = s; } });
(window as unknown as { __t: unknown }).__t = { bridge, engine, get store() { return store; }, unmount, SELECTIONS };
