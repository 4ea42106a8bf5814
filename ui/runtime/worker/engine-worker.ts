/**
 * Engine worker entry (bundled by esbuild.config.mjs as a classic IIFE worker). Imports the WebGPU build of ORT
 * (its wasm: ort-wasm-simd-threaded.asyncify.wasm, passed as bytes or found under the configured base URL).
 */
import * as ort from 'onnxruntime-web/webgpu';
import { attachEngineHost, type PortLike } from './engine-host';
import type { OrtLike } from '../ort-session';
import { BUNDLED_UPSCALERS } from './bundled-upscalers';

const base64ToBytes = (b64: string): Uint8Array => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

attachEngineHost(self as unknown as PortLike, {
  ort: ort as unknown as OrtLike,
  upscalers: BUNDLED_UPSCALERS.map((u) => ({ ...u, loadAsync: async () => base64ToBytes(u.base64) })),
});
