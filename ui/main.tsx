/**
 * UI entry (both modes). Wires the plugin bridge (Figma envelopes), the engine (ORT in a dedicated worker) and the app.
 * Build-time constants come from esbuild.config.mjs.
 */
import workerSource from 'virtual:worker-source';
import ortWasm from 'virtual:ort-wasm';
import upscalers from 'virtual:upscalers';
import { createPluginBridge } from './bridge/plugin-bridge';
import { createEngineClient } from './runtime/engine-client';
import { mountApp } from './app/main';
import { ALLOWED_DOMAINS } from './runtime/allowed-hosts';
import { createEngineRouter, decodePreviewInBrowserAsync } from './runtime/remote/engine-router';

declare const __UI_MODE__: 'inline' | 'hosted';
declare const __PLUGIN_ID__: string;
declare const __FIGMA_ORIGIN__: string;
declare const __DEV_CATALOG_URL__: string;
/** A team's server hosts added at build time (esbuild.config.mjs --server-host). */
declare const __SERVER_HOSTS__: readonly string[];

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function gunzipAsync(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Inline mode: the worker comes from a data: URL (blob:null workers are unreliable in Figma). */
function inlineWorkerUrl(source: string): string {
  const bytes = new TextEncoder().encode(source);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:text/javascript;base64,${btoa(bin)}`;
}

/** The DOM has been parsed up to the end (the inert data blocks follow the app script). */
async function documentParsedAsync(): Promise<void> {
  if (document.readyState === 'loading') {
    await new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
  }
}

/** The built-in upscalers (Boost): bytes from the inline data blocks, or same-origin URLs in hosted mode. */
const upscalerOptions = upscalers.map(({ elementId, url, ...meta }) => ({
  ...meta,
  load: async () => {
    if (url) return { kind: 'url' as const, url: new URL(url, location.href).href };
    await documentParsedAsync();
    const text = elementId ? document.getElementById(elementId)?.textContent : null;
    if (!text) throw new Error(`This build has no ${meta.id} inlined.`);
    return { kind: 'bytes' as const, bytes: base64ToBytes(text.trim()) };
  },
}));

/** Development builds (the harness) serve their model catalogue from a local origin the runtime must allow. */
const devOptions = __DEV_CATALOG_URL__
  ? { devCatalogUrl: __DEV_CATALOG_URL__, extraAllowedDomains: [new URL(__DEV_CATALOG_URL__).origin] }
  : {};

async function startAsync(): Promise<void> {
  const root = document.getElementById('root');
  if (!root) throw new Error('missing #root');
  const bridge =
    __UI_MODE__ === 'hosted'
      ? createPluginBridge(window, { uiMode: 'hosted', pluginId: __PLUGIN_ID__, figmaOrigin: __FIGMA_ORIGIN__ })
      : createPluginBridge(window, { uiMode: 'inline' });

  const localEngine =
    __UI_MODE__ === 'hosted'
      ? createEngineClient({
          workerUrl: new URL('worker.js', location.href).href,
          wasm: { kind: 'url', baseUrl: new URL('ort/', location.href).href },
          upscalers: upscalerOptions,
          ...devOptions,
        })
      : createEngineClient({
          workerUrl: inlineWorkerUrl(workerSource),
          wasm: {
            kind: 'bytes',
            loadAsync: async () => {
              // The data block follows this script in the HTML: wait until the parser has reached it.
              if (document.readyState === 'loading') {
                await new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
              }
              const first = ortWasm[0];
              const text = first ? document.getElementById(first.elementId)?.textContent : null;
              if (!text) throw new Error('This build has no ORT wasm inlined.');
              return gunzipAsync(base64ToBytes(text.trim()));
            },
          },
          upscalers: upscalerOptions,
          ...devOptions,
        });

  // The same app on a ComfyUI server when the user connects one (Models → Server); the allowlist is the manifest's
  // plus the build's --server-host entries.
  const engine = createEngineRouter(localEngine, { domains: [...ALLOWED_DOMAINS, ...__SERVER_HOSTS__], decodePreviewAsync: decodePreviewInBrowserAsync });
  mountApp(root, { bridge, engine, uiMode: __UI_MODE__ });
}

void startAsync();
