/**
 * Node SessionSources for the bench: the runtime's session manager over the bare onnxruntime-web (wasm EP, one
 * thread, as in Figma's iframe), model files from bench-results/models/<set>/.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import type { ModelManifest } from '../../ui/core/manifest';
import type { ModelRole, SessionSource } from '../../ui/core/session';
import { createRuntimeSource, RUNTIME_SOURCE_KIND, type MemoryPolicy } from '../common/runtime-source';
import type { BenchModelFile } from '../graphs/bench-model-set';

export interface NodeSource {
  readonly source: SessionSource;
  readonly kind: string;
  releaseAllAsync(): Promise<void>;
}

/** One wasm thread, as in Figma's iframe (no cross-origin isolation). */
export function configureOrt(): void {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
}

export function createNodeSource(
  modelDir: string, manifest: ModelManifest, files: Readonly<Partial<Record<ModelRole, BenchModelFile>>>, policy: MemoryPolicy,
): NodeSource {
  const loadBytesAsync = async (role: ModelRole): Promise<Uint8Array> => {
    const file = files[role];
    if (!file) throw new Error(`bench model set has no ${role}`);
    return new Uint8Array(await fs.promises.readFile(path.join(modelDir, `${file}.onnx`)));
  };
  const manager = createRuntimeSource({ ort, manifest, provider: 'wasm', policy, loadBytesAsync });
  return { source: manager, kind: RUNTIME_SOURCE_KIND, releaseAllAsync: () => manager.releaseAllAsync() };
}
