/**
 * Node SessionSources for the bench: the model files come from bench-results/models/<set>/, sessions from the plain
 * bench source (the runtime's session manager replaces it once ui/runtime provides one; `kind` says which ran).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import type { ModelRole, SessionSource } from '../../ui/core/session';
import { createPlainSessionSource, type MemoryPolicy, type OrtLike } from '../common/plain-session-source';
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

export function createNodeSource(modelDir: string, files: Readonly<Partial<Record<ModelRole, BenchModelFile>>>, policy: MemoryPolicy): NodeSource {
  const loadBytesAsync = async (role: ModelRole): Promise<Uint8Array> => {
    const file = files[role];
    if (!file) throw new Error(`bench model set has no ${role}`);
    return new Uint8Array(await fs.promises.readFile(path.join(modelDir, `${file}.onnx`)));
  };
  const plain = createPlainSessionSource({ ort: ort as unknown as OrtLike, loadBytesAsync, policy });
  return { source: plain, kind: 'bench plain source (ui/runtime session manager not available)', releaseAllAsync: () => plain.releaseAllAsync() };
}
