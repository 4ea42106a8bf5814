/**
 * Worker entry of the Chromium download bench (bundled by bench/chromium/download.ts). Runs where the product's
 * downloads run — a dedicated worker, like the engine worker (ui/runtime/worker/engine-worker.ts) — and measures, on
 * the same cross-origin loopback URL and interleaved round by round (best of the rounds each):
 * - a raw fetch that only counts the bytes (what the downloader competes with);
 * - the runtime's downloader (ui/runtime/downloader.ts `downloadFileAsync`, sha256 pinned, default options) into the
 *   OPFS store (hosted mode, sync access handle) and into the memory store (Figma's inline mode), and the same with
 *   `oneShotMaxBytes: 0` (hash-wasm while streaming: the path of files over 2 GiB, and every file before);
 * - where the time goes: fetch + OPFS writes without any hash, the streaming hash-wasm SHA-256 alone, WebCrypto's
 *   one-shot SHA-256 alone, reading a stored file back, and the least a verified download can do (fetch, store,
 *   one native digest, nothing else: no checks, progress, timeouts or resume bookkeeping).
 */
import { downloadFileAsync, downloadFilesAsync, type DownloadTarget } from '../../ui/runtime/downloader';
import { createSha256Async, sha256HexOneShotAsync } from '../../ui/runtime/sha256';
import { createMemoryStore } from '../../ui/runtime/store/memory-store';
import { openOpfsStoreAsync } from '../../ui/runtime/store/opfs-store';
import type { ModelStore } from '../../ui/runtime/store/model-store';

export interface DownloadBenchRequest {
  readonly url: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly rounds: number;
  /** A whole model (several files, in manifest order) for the model-level rows; measured in the first 3 rounds. */
  readonly model: readonly { readonly url: string; readonly bytes: number; readonly sha256: string; readonly name: string }[];
}

/** Best (shortest) milliseconds per measurement, and what could not be measured. */
export interface DownloadBenchResult {
  readonly ms: Readonly<Record<string, number>>;
  /** Every round's milliseconds (NaN where a round failed), for per-round ratios of pairs measured back to back. */
  readonly rounds: Readonly<Record<string, readonly number[]>>;
  readonly errors: Readonly<Record<string, string>>;
  readonly chunks: { readonly count: number; readonly meanBytes: number };
}

/** Fetch + store writes, nothing else: what any download into that store costs before verification. */
async function fetchIntoAsync(store: ModelStore, path: string, url: string): Promise<void> {
  const w = await store.openAppendAsync(path, { truncate: true });
  try {
    const reader = (await fetch(url, { cache: 'no-store' })).body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await w.writeAsync(value);
    }
  } finally {
    await w.closeAsync();
  }
}

async function rawFetchAsync(url: string): Promise<{ n: number; chunks: number }> {
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok || !res.body) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const reader = res.body.getReader();
  let n = 0;
  let chunks = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { n, chunks };
    n += value.length;
    chunks++;
  }
}

self.onmessage = async (e: MessageEvent<DownloadBenchRequest>) => {
  const { url, bytes, sha256, rounds, model } = e.data;
  const modelTargets: DownloadTarget[] = model.map((m) => ({ url: m.url, storePath: `bench-model/${m.name}`, bytes: m.bytes, sha256: m.sha256, kind: 'onnx', label: m.name }));
  const ms: Record<string, number> = {};
  const all: Record<string, number[]> = {};
  const errors: Record<string, string> = {};
  const chunks = { count: 0, meanBytes: 0 };
  const timeAsync = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
    if (errors[name]) return;
    const t = performance.now();
    try {
      await fn();
      const took = performance.now() - t;
      ms[name] = Math.min(ms[name] ?? Infinity, took);
      (all[name] ??= []).push(took);
    } catch (err) {
      errors[name] = err instanceof Error ? err.message : String(err);
    }
  };
  const opfs = await openOpfsStoreAsync().catch((err: unknown) => { errors.opfs = String(err); return null; });
  const target = { url, storePath: 'bench/model.onnx', bytes, sha256, kind: 'onnx' as const, label: 'bench/model.onnx' };
  const network = { domains: [new URL(url).origin] };
  const file = new Uint8Array(await (await fetch(url, { cache: 'no-store' })).arrayBuffer());
  for (let r = 0; r < rounds; r++) {
    await timeAsync('raw', async () => {
      const got = await rawFetchAsync(url);
      if (got.n !== bytes) throw new Error(`raw fetch got ${got.n} of ${bytes} bytes`);
      chunks.count = got.chunks;
      chunks.meanBytes = got.n / got.chunks;
    });
    if (opfs) {
      await opfs.deleteAsync('bench');
      await timeAsync('downloaderOpfs', () => downloadFileAsync(target, { store: opfs, network }));
      await opfs.deleteAsync('bench');
      await timeAsync('downloaderOpfsStreaming', () => downloadFileAsync(target, { store: opfs, network, oneShotMaxBytes: 0 }));
      await timeAsync('fetchWriteOpfs', async () => {
        await fetchIntoAsync(opfs, 'bench/raw.part', url);
      });
      await timeAsync('readBackOpfs', async () => { await opfs.readAsync!('bench/raw.part'); });
      // The least any verified download into OPFS can do: fetch + writes, then read the file back and digest it.
      await timeAsync('minimalOpfs', async () => {
        await fetchIntoAsync(opfs, 'bench/min.part', url);
        if (await sha256HexOneShotAsync((await opfs.readAsync!('bench/min.part'))!) !== sha256) throw new Error('another sha256');
      });
    }
    await timeAsync('downloaderMemory', () => downloadFileAsync(target, { store: createMemoryStore(), network }));
    await timeAsync('downloaderMemoryStreaming', () => downloadFileAsync(target, { store: createMemoryStore(), network, oneShotMaxBytes: 0 }));
    // The least any verified download into memory can do: fetch, copy each chunk into one buffer, digest it.
    await timeAsync('minimalMemory', async () => {
      const buf = new Uint8Array(bytes);
      let at = 0;
      const reader = (await fetch(url, { cache: 'no-store' })).body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buf.set(value, at);
        at += value.length;
      }
      if (await sha256HexOneShotAsync(buf) !== sha256) throw new Error('another sha256');
    });
    await timeAsync('hashWasm', async () => {
      const h = await createSha256Async();
      for (let o = 0; o < file.length; o += 1 << 20) h.update(file.subarray(o, o + (1 << 20)));
      if (h.digestHex() !== sha256) throw new Error('hash-wasm gave another sha256');
    });
    await timeAsync('webCrypto', async () => { await crypto.subtle.digest('SHA-256', file); });
    if (r < 3 && model.length > 0) {
      // A whole model, as the engine downloads one: downloadFilesAsync (one file's digest overlaps the next transfer).
      await timeAsync('rawModel', async () => { for (const m of model) await rawFetchAsync(m.url); });
      if (opfs) {
        await opfs.deleteAsync('bench-model');
        await timeAsync('modelOpfs', () => downloadFilesAsync(modelTargets, { store: opfs, network }));
        await opfs.deleteAsync('bench-model');
      }
      await timeAsync('modelMemory', () => downloadFilesAsync(modelTargets, { store: createMemoryStore(), network }));
      // The same files one after another, each verified before the next starts (no overlap), for comparison.
      await timeAsync('modelMemorySerial', async () => {
        const store = createMemoryStore();
        for (const t of modelTargets) await downloadFileAsync(t, { store, network });
      });
    }
  }
  await opfs?.deleteAsync('bench');
  (self as unknown as Worker).postMessage({ ms, rounds: all, errors, chunks } satisfies DownloadBenchResult);
};
