/**
 * Engine worker entry (bundled by esbuild.config.mjs as a classic IIFE worker). Imports the WebGPU build of ORT
 * (its wasm: ort-wasm-simd-threaded.asyncify.wasm, passed as bytes or found under the configured base URL).
 */
import * as ort from 'onnxruntime-web/webgpu';
import { attachEngineHost, type PortLike } from './engine-host';
import type { OrtLike } from '../ort-session';

attachEngineHost(self as unknown as PortLike, { ort: ort as unknown as OrtLike });
