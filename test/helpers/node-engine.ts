/**
 * Test glue for engine tests in Node: onnxruntime-web's wasm backend as the runtime's OrtLike, and the adapter report
 * of a machine with no WebGPU (Node has none), so the engine picks wasm.
 */
import * as ortModule from 'onnxruntime-web';
import type { OrtLike } from '../../ui/runtime/ort-session';
import type { AdapterInfo } from '../../ui/runtime/provider-choice';

export const nodeOrt = ortModule as unknown as OrtLike;
export const NO_GPU: AdapterInfo = { available: false, shaderF16: false, isFallback: false, unavailableReason: 'Node has no WebGPU' };
