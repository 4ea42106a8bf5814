/**
 * Instrumentation for the pipeline-overhead figure: wraps a SessionSource so every `runAsync` (and acquire) is timed,
 * without changing what the pipeline sees. Works in Node and in the page (performance.now only).
 */
import type { ModelRole, ModelSession, SessionSource } from '../../ui/core/session';

export interface RunRecord {
  readonly role: ModelRole;
  /** performance.now() at the call. */
  readonly start: number;
  readonly ms: number;
}

export interface TimedSource {
  readonly source: SessionSource;
  readonly runs: RunRecord[];
  readonly acquires: RunRecord[];
  /** Called before each run (GPU read accounting per step). */
  onRunStart?: (role: ModelRole) => void;
  /** Called after each timed run (memory sampling hooks). */
  onRun?: (r: RunRecord) => void;
  reset(): void;
}

export function createTimedSource(inner: SessionSource): TimedSource {
  const runs: RunRecord[] = [];
  const acquires: RunRecord[] = [];
  const wrap = (role: ModelRole, s: ModelSession): ModelSession => ({
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    async runAsync(feeds) {
      timed.onRunStart?.(role);
      const start = performance.now();
      try {
        return await s.runAsync(feeds);
      } finally {
        const r = { role, start, ms: performance.now() - start };
        runs.push(r);
        timed.onRun?.(r);
      }
    },
    releaseAsync: () => s.releaseAsync(),
  });
  const timed: TimedSource = {
    runs,
    acquires,
    source: {
      async acquireAsync(role) {
        const start = performance.now();
        const s = await inner.acquireAsync(role);
        acquires.push({ role, start, ms: performance.now() - start });
        return wrap(role, s);
      },
      doneWithAsync: (role) => inner.doneWithAsync(role),
    },
    reset() {
      runs.length = 0;
      acquires.length = 0;
    },
  };
  return timed;
}

/** Minimal view of onnxruntime-web's InferenceSession class, for the run hook. */
interface OrtSessionClass {
  prototype: { run: (...args: unknown[]) => Promise<unknown> };
}

export interface OrtRunHook {
  /** Milliseconds of every InferenceSession.run since the last reset (pure model compute as ORT sees it). */
  readonly runs: number[];
  reset(): void;
  restore(): void;
}

/**
 * Patches `ort.InferenceSession.prototype.run` to time the model itself, under whatever session wrapper the runtime
 * uses (so tensor conversion in the wrapper counts as pipeline overhead, the strict reading of the figure).
 */
export function hookOrtRuns(ort: { InferenceSession: unknown }): OrtRunHook {
  const cls = ort.InferenceSession as OrtSessionClass;
  const original = cls.prototype.run;
  const runs: number[] = [];
  cls.prototype.run = async function hooked(this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      runs.push(performance.now() - t0);
    }
  };
  return {
    runs,
    reset: () => { runs.length = 0; },
    restore: () => { cls.prototype.run = original; },
  };
}

export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
