/**
 * A plain float32-in, float32-out ModelSession over onnxruntime-web's wasm backend in Node, for models whose I/O is
 * all float32 (the converted upscalers). The production wrapper is ui/runtime/ort-session.ts; this one skips its
 * binding and dtype conversion on purpose, so tests and the bench measure the model and the tiler alone.
 */
import * as ort from 'onnxruntime-web';
import type { ModelSession } from '../../ui/core/session';
import type { HostTensor } from '../../ui/core/tensor';

export async function float32SessionAsync(bytes: Uint8Array): Promise<ModelSession> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  return {
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    async runAsync(feeds) {
      const f: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', (v as HostTensor).data as Float32Array, [...v.dims]);
      const out = await s.run(f);
      const r: Record<string, HostTensor> = {};
      for (const [k, v] of Object.entries(out)) r[k] = { kind: 'host', dtype: 'float32', dims: [...v.dims], data: v.data as Float32Array };
      return r;
    },
    releaseAsync: () => s.release(),
  };
}
