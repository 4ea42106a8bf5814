/**
 * Bundles a test entry or the engine worker for a page in Chromium, and serves onnxruntime-web's wasm beside it.
 * One place for the esbuild options every runtime browser test uses (import.meta.url → the script's own URL).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { ROOT } from './paths';
import type { FaultServer } from '../runtime/fault-server';

/** The ORT wasm build the engine loads (single-threaded asyncify: no cross-origin isolation in Figma). */
export const ORT_WASM = 'ort-wasm-simd-threaded.asyncify.wasm';

/** `entry` (relative to the repo root) as one classic script for a page or a worker. */
export async function bundleForBrowserAsync(entry: string): Promise<Uint8Array> {
  const out = await esbuild.build({
    entryPoints: [path.join(ROOT, entry)], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2022',
    define: { 'import.meta.url': '__importMetaUrl' }, banner: { js: 'var __importMetaUrl = self.location ? String(self.location.href) : "";' },
    logLevel: 'error',
  });
  return out.outputFiles[0]!.contents;
}

/** The bytes of ORT_WASM from node_modules. */
export function readOrtWasm(): Uint8Array {
  return fs.readFileSync(path.join(ROOT, 'node_modules/onnxruntime-web/dist', ORT_WASM));
}

/**
 * A runtime test page on `server`: /page.html loads /entry.js (the bundled `entry`), with /worker.js (the bundled
 * `worker`, when given) and the ORT wasm under /ort/ beside it.
 */
export async function serveEnginePageAsync(server: Pick<FaultServer, 'set'>, entry: string, worker?: string): Promise<void> {
  server.set('/entry.js', await bundleForBrowserAsync(entry), { contentType: 'text/javascript' });
  if (worker) server.set('/worker.js', await bundleForBrowserAsync(worker), { contentType: 'text/javascript' });
  server.set(`/ort/${ORT_WASM}`, readOrtWasm(), { contentType: 'application/wasm' });
  server.set('/page.html', new TextEncoder().encode('<!doctype html><meta charset="utf-8"><script src="/entry.js"></script>'), { contentType: 'text/html' });
}
