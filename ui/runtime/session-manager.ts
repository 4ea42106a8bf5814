/**
 * The SessionSource pipelines use. All session creation, runs and releases go through ONE serial promise chain, so
 * two models never load or run at the same time (GPU memory and ORT's single wasm instance).
 *
 * Memory policy:
 * - "fast": sessions stay warm after a stage and across generations (text encoder, UNet, VAE all resident).
 * - "low-memory": a session is released as soon as its stage is done (text encoder before the UNet loads, UNet
 *   before the VAE), and acquiring one first releases every idle session. Sessions in use (a ControlNet acquired
 *   alongside the UNet) are never released under a running stage.
 *
 * A DEVICE_LOST error from a run drops every session (best-effort release) and calls `onDeviceLost`; the next acquire
 * creates fresh sessions through `createSessionAsync`, which decides where they run.
 */
import { AppError } from '../../protocol/errors';
import type { ModelRole, ModelSession, SessionSource } from '../core/session';

export type MemoryPolicy = 'fast' | 'low-memory';

export type SessionEvent =
  | { readonly type: 'create' | 'release' | 'acquire' | 'done'; readonly role: ModelRole }
  | { readonly type: 'run'; readonly role: ModelRole }
  | { readonly type: 'device-lost' };

export interface SessionManagerOptions {
  readonly policy: MemoryPolicy;
  /** Loads and creates the session for `role` (the runtime's ORT loader, or a fake in tests). */
  readonly createSessionAsync: (role: ModelRole, ctx: { policy: MemoryPolicy }) => Promise<ModelSession>;
  readonly onEvent?: (e: SessionEvent) => void;
  readonly onDeviceLost?: () => void;
}

export interface SessionManager extends SessionSource {
  readonly policy: MemoryPolicy;
  /** Roles with a live session, in creation order. */
  liveRoles(): ModelRole[];
  /** Releases every session (switching models, closing the engine). */
  releaseAllAsync(): Promise<void>;
}

/** One macrotask turn. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

interface Live {
  readonly session: ModelSession;
  inUse: number;
}

export function createSessionManager(opts: SessionManagerOptions): SessionManager {
  const live = new Map<ModelRole, Live>();
  let chain: Promise<unknown> = Promise.resolve();
  const emit = (e: SessionEvent): void => opts.onEvent?.(e);

  /** Runs `fn` after everything queued before it; a failure does not block later work. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn);
    chain = p.catch(() => undefined);
    return p;
  };

  const releaseOneAsync = async (role: ModelRole): Promise<void> => {
    const l = live.get(role);
    if (!l) return;
    live.delete(role);
    try {
      await l.session.releaseAsync();
    } finally {
      emit({ type: 'release', role });
    }
  };

  const dropAllAsync = async (): Promise<void> => {
    for (const role of [...live.keys()]) await releaseOneAsync(role).catch(() => undefined);
  };

  const wrap = (role: ModelRole, inner: ModelSession): ModelSession => ({
    inputNames: inner.inputNames,
    outputNames: inner.outputNames,
    runAsync: (feeds) =>
      serial(async () => {
        if (live.get(role)?.session !== inner) {
          throw new AppError('INTERNAL', `The ${role} session was released before this run (acquire it again).`);
        }
        emit({ type: 'run', role });
        try {
          const out = await inner.runAsync(feeds);
          // Let queued messages (a cancel from the UI) in before the next step: a wasm run can resolve on
          // microtasks alone, which would starve the worker's message queue for a whole generation.
          await yieldToEventLoop();
          return out;
        } catch (err) {
          if (err instanceof AppError && err.code === 'DEVICE_LOST') {
            emit({ type: 'device-lost' });
            opts.onDeviceLost?.();
            await dropAllAsync();
          }
          throw err;
        }
      }),
    releaseAsync: () => manager.doneWithAsync(role),
  });

  const wrappers = new Map<ModelSession, ModelSession>();

  const manager: SessionManager = {
    policy: opts.policy,
    liveRoles: () => [...live.keys()],
    acquireAsync: (role) =>
      serial(async () => {
        emit({ type: 'acquire', role });
        if (opts.policy === 'low-memory') {
          for (const [r, l] of [...live]) if (r !== role && l.inUse === 0) await releaseOneAsync(r);
        }
        let l = live.get(role);
        if (!l) {
          const session = await opts.createSessionAsync(role, { policy: opts.policy });
          l = { session, inUse: 0 };
          live.set(role, l);
          emit({ type: 'create', role });
        }
        l.inUse++;
        let w = wrappers.get(l.session);
        if (!w) { w = wrap(role, l.session); wrappers.set(l.session, w); }
        return w;
      }),
    doneWithAsync: (role) =>
      serial(async () => {
        emit({ type: 'done', role });
        const l = live.get(role);
        if (!l) return;
        l.inUse = Math.max(0, l.inUse - 1);
        if (opts.policy === 'low-memory' && l.inUse === 0) await releaseOneAsync(role);
      }),
    releaseAllAsync: () => serial(dropAllAsync),
  };
  return manager;
}
