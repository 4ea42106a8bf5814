/**
 * A plain SessionSource over onnxruntime-web, used by the bench only when ui/runtime's session manager is not
 * available (the report says which one ran). "fast" keeps sessions; "low-memory" releases each after its stage.
 * Host tensors only (outputs are read back), so it has no GPU-residency story of its own.
 */
import type { ModelRole, ModelSession, SessionSource } from '../../ui/core/session';
import type { HostTensor, Tensor } from '../../ui/core/tensor';

/** The slice of the onnxruntime-web module this needs (the bench passes the real `ort`). */
export interface OrtLike {
  InferenceSession: { create(bytes: Uint8Array, opts?: Record<string, unknown>): Promise<OrtSessionLike> };
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensorLike;
}
interface OrtTensorLike { type: string; dims: readonly number[]; data: unknown }
interface OrtSessionLike {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

export type MemoryPolicy = 'fast' | 'low-memory';

export function createPlainSessionSource(opts: {
  ort: OrtLike;
  loadBytesAsync: (role: ModelRole) => Promise<Uint8Array>;
  policy: MemoryPolicy;
  sessionOptions?: Record<string, unknown>;
}): SessionSource & { releaseAllAsync(): Promise<void> } {
  const live = new Map<ModelRole, { ort: OrtSessionLike; wrapped: ModelSession }>();
  const toOrt = (t: Tensor): OrtTensorLike => {
    if (t.kind !== 'host') throw new Error('plain session source takes host tensors only');
    return new opts.ort.Tensor(t.dtype, t.data, t.dims);
  };
  const fromOrt = (t: OrtTensorLike): HostTensor =>
    ({ kind: 'host', dtype: t.type as HostTensor['dtype'], dims: [...t.dims], data: t.data as HostTensor['data'] });
  return {
    async acquireAsync(role) {
      const hit = live.get(role);
      if (hit) return hit.wrapped;
      const s = await opts.ort.InferenceSession.create(await opts.loadBytesAsync(role), opts.sessionOptions ?? {});
      const wrapped: ModelSession = {
        inputNames: s.inputNames,
        outputNames: s.outputNames,
        async runAsync(feeds) {
          const ortFeeds: Record<string, OrtTensorLike> = {};
          for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(v);
          const out = await s.run(ortFeeds);
          const res: Record<string, Tensor> = {};
          for (const [k, v] of Object.entries(out)) res[k] = fromOrt(v);
          return res;
        },
        releaseAsync: () => s.release(),
      };
      live.set(role, { ort: s, wrapped });
      return wrapped;
    },
    async doneWithAsync(role) {
      if (opts.policy !== 'low-memory') return;
      const hit = live.get(role);
      live.delete(role);
      await hit?.ort.release();
    },
    async releaseAllAsync() {
      for (const [, s] of live) await s.ort.release();
      live.clear();
    },
  };
}
