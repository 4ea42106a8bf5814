/**
 * Engine worker entry (bundled by esbuild.config.mjs as a classic IIFE worker). Imports the WebGPU build of ORT
 * (its wasm: ort-wasm-simd-threaded.asyncify.wasm, passed as bytes or found under the configured base URL).
 */
import * as ort from 'onnxruntime-web/webgpu';
import { attachEngineHost, type PortLike } from './engine-host';
import type { OrtLike } from '../ort-session';

// The bundled upscalers (Boost) arrive with the init config: the worker source must stay small (inline mode starts
// it from a data: URL, which Chromium caps at 2 MB).
attachEngineHost(self as unknown as PortLike, { ort: ort as unknown as OrtLike });
