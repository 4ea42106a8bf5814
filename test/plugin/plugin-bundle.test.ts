/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * plugin/code.ts as Figma runs it: bundled like esbuild.config.mjs does (ES2020 IIFE, build-time constants), then
 * executed in a bare VM context that has only `figma`, `__html__` and `console` — no TextEncoder, no setTimeout,
 * no DOM — the way the main-thread sandbox is. Proves the entry wires the constants (hosted origin check) and that
 * nothing in the bundle needs a browser API at load time.
 */
import path from 'node:path';
import vm from 'node:vm';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { parsePluginToUi } from '../../protocol/messages';
import { createDemoDocument, createFakeFigma } from '../fake-figma';
import { ROOT } from '../helpers/paths';
import { MANIFEST } from './plugin-driver';

async function bundleAsync(mode: 'inline' | 'hosted', hostedOrigin: string): Promise<string> {
  const out = await esbuild.build({
    entryPoints: [path.join(ROOT, 'plugin/code.ts')],
    bundle: true, write: false, format: 'iife', platform: 'neutral', target: 'es2020', logLevel: 'silent',
    define: { __UI_MODE__: JSON.stringify(mode), __HOSTED_ORIGIN__: JSON.stringify(hostedOrigin), __PLUGIN_VERSION__: '"9.9.9"' },
  });
  return out.outputFiles[0]!.text;
}

async function runBundleAsync(mode: 'inline' | 'hosted') {
  const code = await bundleAsync(mode, 'https://app.example.test');
  const { figma, host } = createFakeFigma({ manifest: MANIFEST });
  const ids = await createDemoDocument(figma);
  const warnings: string[] = [];
  const sandbox = vm.createContext({
    figma, __html__: '<p>ui</p>',
    console: { log() {}, info() {}, error() {}, warn: (t: string) => warnings.push(String(t)) },
  });
  vm.runInContext(code, sandbox, { filename: 'code.js' });
  return { figma, host, ids, warnings, sandbox };
}

describe('plugin bundle (dist/code.js shape) in a bare sandbox', () => {
  it('inline: opens the UI with __html__ and answers ui-ready / selection changes', async () => {
    const { host, ids, warnings, sandbox } = await runBundleAsync('inline');
    expect(vm.runInContext('typeof TextEncoder + typeof setTimeout + typeof window', sandbox)).toBe('undefinedundefinedundefined');
    expect(host.ui?.html).toBe('<p>ui</p>');
    expect(host.ui?.options).toMatchObject({ width: 360, height: 640, themeColors: true });
    host.deliverUiMessage({ type: 'ui-ready', requestId: 'u1' }, { origin: 'null' });
    await host.settleAsync();
    host.select([ids.wireframe]);
    await host.settleAsync();
    const posted = host.uiMessages.map((m) => parsePluginToUi(m.message));
    expect(posted.every((p) => p.ok)).toBe(true);
    const types = posted.map((p) => (p.ok ? p.message.type : ''));
    expect(types).toEqual(['init', 'selection-changed']);
    const init = posted[0]!.ok ? posted[0]!.message : null;
    expect(init?.type === 'init' && init.pluginVersion).toBe('9.9.9');
    const sel = posted[1]!.ok ? posted[1]!.message : null;
    expect(sel?.type === 'selection-changed' && sel.selection.proposedMode).toBe('wireframe');
    expect(warnings).toEqual([]);
    expect(host.errors).toEqual([]);
  });

  it('hosted: the built-in origin is enforced', async () => {
    const { host, warnings } = await runBundleAsync('hosted');
    host.deliverUiMessage({ type: 'ui-ready', requestId: 'evil' }, { origin: 'http://localhost:8788', pluginId: MANIFEST.id });
    host.deliverUiMessage({ type: 'ui-ready', requestId: 'ok' }, { origin: 'https://app.example.test', pluginId: MANIFEST.id });
    await host.settleAsync();
    expect(host.uiMessages.map((m) => (m.message as { requestId: string }).requestId)).toEqual(['ok']);
    expect(host.uiMessages[0]!.options).toEqual({ origin: 'https://app.example.test' });
    expect(warnings).toEqual(['Dropped a message from an unexpected origin: http://localhost:8788 (expected https://app.example.test).']);
  });
});
