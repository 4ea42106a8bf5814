/**
 * Test glue: a SessionSource over the bare `onnxruntime-web` package in Node (wasm backend, one thread), creating
 * sessions from in-memory model bytes (e.g. test/models/proof-model.ts). Records every acquire / done / run / dispose so
 * tests can assert call order, balance (every acquire given back) and that device tensors were disposed.
 * With `deviceOutputs`, outputs come back as DeviceTensor handles (like the WebGPU runtime's gpu-buffer outputs).
 * Float feeds are converted to the dtype the model declares (float32 ↔ float16), like ui/runtime/ort-session.ts; the
 * recorded feeds are what the pipeline passed, before conversion.
 * The real runtime lives in ui/runtime/; this is not it.
 */
import * as ort from 'onnxruntime-web';
import type { ModelRole, ModelSession, SessionSource } from '../../ui/core/session';
import type { DeviceTensor, HostTensor, Tensor } from '../../ui/core/tensor';
import { fromHalf, toHalf } from '../../ui/core/tensor-math';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

export interface SourceEvent {
  readonly kind: 'acquire' | 'done' | 'run' | 'release';
  readonly role: ModelRole;
}

export interface OrtNodeSource extends SessionSource {
  /** Everything that happened, in order. */
  readonly events: SourceEvent[];
  /** Feeds of every run per role (host copies), for asserting what a pipeline fed. */
  readonly feeds: Partial<Record<ModelRole, Record<string, HostTensor>[]>>;
  /** Roles acquired and not yet given back (should be empty after a pipeline finishes or fails). */
  held(): ModelRole[];
  runs(role: ModelRole): number;
  /** Device tensors handed out and not disposed. */
  undisposed(): number;
  /** Releases all ORT sessions. */
  closeAsync(): Promise<void>;
}

export interface OrtNodeSourceOptions {
  /** Return outputs as DeviceTensor handles (caller must dispose). */
  readonly deviceOutputs?: boolean;
  /** Record the feeds of every run (costs a copy). Default true. */
  readonly recordFeeds?: boolean;
}

const ORT_TYPE: Record<HostTensor['dtype'], ort.Tensor.Type> = {
  float32: 'float32', float16: 'float16', float64: 'float64', int32: 'int32', int64: 'int64',
};

/** The ORT tensor for a feed, converted float32 ↔ float16 when the model declares the other (as the runtime does). */
function toOrt(t: HostTensor, want?: string): ort.Tensor {
  if (want === 'float16' && t.dtype === 'float32') return new ort.Tensor('float16', Uint16Array.from(t.data as Float32Array, toHalf), [...t.dims]);
  if (want === 'float32' && t.dtype === 'float16') return new ort.Tensor('float32', Float32Array.from(t.data as Uint16Array, fromHalf), [...t.dims]);
  return new ort.Tensor(ORT_TYPE[t.dtype], t.data as never, [...t.dims]);
}

/** Declared input dtypes of a session (onnxruntime-web ≥ 1.22 exposes inputMetadata). */
function inputTypes(session: ort.InferenceSession): Map<string, string> {
  const meta = (session as unknown as { inputMetadata?: readonly { name: string; isTensor: boolean; type?: string }[] }).inputMetadata ?? [];
  return new Map(meta.filter((m) => m.isTensor && m.type).map((m) => [m.name, m.type!]));
}

function fromOrt(t: ort.Tensor): HostTensor {
  const dtype = t.type as HostTensor['dtype'];
  if (!(dtype in ORT_TYPE)) throw new Error(`unsupported output dtype ${t.type}`);
  return { kind: 'host', dtype, dims: [...t.dims], data: t.data as HostTensor['data'] };
}

const copyHost = (t: HostTensor): HostTensor => ({ ...t, dims: [...t.dims], data: t.data.slice() as HostTensor['data'] });

/** A SessionSource over generated model bytes. Sessions are created on first acquire and kept until closeAsync. */
export function createOrtNodeSource(models: Partial<Record<ModelRole, Uint8Array>>, opts: OrtNodeSourceOptions = {}): OrtNodeSource {
  const sessions = new Map<ModelRole, Promise<ort.InferenceSession>>();
  const heldCount = new Map<ModelRole, number>();
  const events: SourceEvent[] = [];
  const feeds: Partial<Record<ModelRole, Record<string, HostTensor>[]>> = {};
  let live = 0;
  const recordFeeds = opts.recordFeeds ?? true;

  const toHostAsync = async (t: Tensor): Promise<HostTensor> => (t.kind === 'host' ? t : t.downloadAsync());

  function wrapOutput(h: HostTensor): Tensor {
    if (!opts.deviceOutputs) return h;
    live++;
    let disposed = false;
    const d: DeviceTensor = {
      kind: 'device',
      dtype: h.dtype,
      dims: h.dims,
      downloadAsync: async () => {
        if (disposed) throw new Error('downloadAsync on a disposed device tensor');
        return copyHost(h);
      },
      dispose: () => {
        if (disposed) throw new Error('device tensor disposed twice');
        disposed = true;
        live--;
      },
    };
    return d;
  }

  return {
    events,
    feeds,
    held: () => [...heldCount.entries()].filter(([, n]) => n > 0).map(([r]) => r),
    runs: (role) => events.filter((e) => e.kind === 'run' && e.role === role).length,
    undisposed: () => live,
    async acquireAsync(role) {
      const bytes = models[role];
      if (!bytes) throw new Error(`no model for role ${role}`);
      events.push({ kind: 'acquire', role });
      heldCount.set(role, (heldCount.get(role) ?? 0) + 1);
      let s = sessions.get(role);
      if (!s) {
        s = ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
        sessions.set(role, s);
      }
      const session = await s;
      const types = inputTypes(session);
      const model: ModelSession = {
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        async runAsync(input) {
          if ((heldCount.get(role) ?? 0) <= 0) throw new Error(`run on ${role} after doneWithAsync`);
          events.push({ kind: 'run', role });
          const ortFeeds: Record<string, ort.Tensor> = {};
          const record: Record<string, HostTensor> = {};
          for (const [name, t] of Object.entries(input)) {
            const h = await toHostAsync(t);
            ortFeeds[name] = toOrt(h, types.get(name));
            if (recordFeeds) record[name] = copyHost(h);
          }
          if (recordFeeds) (feeds[role] ??= []).push(record);
          const out = await session.run(ortFeeds);
          const result: Record<string, Tensor> = {};
          for (const [name, t] of Object.entries(out)) result[name] = wrapOutput(fromOrt(t));
          return result;
        },
        async releaseAsync() {
          events.push({ kind: 'release', role });
        },
      };
      return model;
    },
    async doneWithAsync(role) {
      const n = heldCount.get(role) ?? 0;
      if (n <= 0) throw new Error(`doneWithAsync(${role}) without acquire`);
      heldCount.set(role, n - 1);
      events.push({ kind: 'done', role });
    },
    async closeAsync() {
      for (const s of sessions.values()) await (await s).release();
      sessions.clear();
    },
  };
}

/** A SessionSource that fails the test if a pipeline touches it (input validation must come first). */
export function createUntouchableSource(): SessionSource {
  return {
    acquireAsync: async (role) => {
      throw new Error(`session "${role}" acquired before the inputs were checked`);
    },
    doneWithAsync: async (role) => {
      throw new Error(`doneWithAsync("${role}") on the untouchable source`);
    },
  };
}
