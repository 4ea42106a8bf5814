/**
 * In-memory ModelStore for Figma's null-origin inline mode (and tests). Nothing survives closing the plugin.
 */
import { checkStorePath, writeAllAsync, type ModelStore, type StoreWriter } from './model-store';

/** The reason shown in the UI when the inline mode keeps models in memory only. */
export const NULL_ORIGIN_STORAGE_REASON =
  "Figma's plugin window has no origin of its own (origin \"null\"), and browsers deny every storage API there " +
  '(OPFS, IndexedDB, Cache Storage, localStorage). Downloaded models are kept in memory only and must be downloaded ' +
  'again — or loaded from a folder on your disk — each time the plugin opens. The hosted UI keeps them.';

/** A file of the memory store, whole (for handing the store over to a new engine worker). */
export interface MemoryFile {
  readonly path: string;
  readonly data: Uint8Array;
}

export interface MemoryStore extends ModelStore {
  readonly kind: 'memory';
  /**
   * Every file, each as one byte array (the store's own: a hand-over moves them, zero-copy, to a new worker's store,
   * after which this store must not be used).
   */
  exportFiles(): MemoryFile[];
}

/** `files`: the files of a store handed over from an earlier engine worker (kept as they are, not copied). */
export function createMemoryStore(opts: { reason?: string; quotaBytes?: number; files?: Iterable<MemoryFile> } = {}): MemoryStore {
  const files = new Map<string, Uint8Array[]>();
  for (const f of opts.files ?? []) {
    checkStorePath(f.path);
    files.set(f.path, [f.data]);
  }
  const sizeOf = (chunks: Uint8Array[]): number => chunks.reduce((s, c) => s + c.length, 0);
  const joined = (chunks: Uint8Array[]): Uint8Array => {
    if (chunks.length !== 1) {
      // Join once and keep the joined copy, so the file is never held twice.
      const one = new Uint8Array(sizeOf(chunks));
      let at = 0;
      for (const c of chunks) { one.set(c, at); at += c.length; }
      chunks.splice(0, chunks.length, one);
    }
    return chunks[0]!;
  };
  const store: MemoryStore = {
    kind: 'memory',
    persistent: false,
    reason: opts.reason ?? NULL_ORIGIN_STORAGE_REASON,
    async listAsync(prefix = '') {
      return [...files].filter(([p]) => p.startsWith(prefix)).map(([path, chunks]) => ({ path, bytes: sizeOf(chunks) }));
    },
    async getAsync(path) {
      const chunks = files.get(path);
      return chunks ? new Blob(chunks as BlobPart[]) : null;
    },
    async sizeAsync(path) {
      const chunks = files.get(path);
      return chunks ? sizeOf(chunks) : null;
    },
    async readAsync(path) {
      const chunks = files.get(path);
      return chunks ? joined(chunks) : null;
    },
    exportFiles() {
      return [...files].map(([path, chunks]) => ({ path, data: chunks.length === 0 ? new Uint8Array(0) : joined(chunks) }));
    },
    async putAsync(path, data) {
      const w = await store.openAppendAsync(path, { truncate: true });
      await writeAllAsync(w, data);
      await w.closeAsync();
    },
    async openAppendAsync(path, o = {}) {
      checkStorePath(path);
      let chunks = files.get(path);
      if (!chunks || o.truncate) { chunks = []; files.set(path, chunks); }
      const target = chunks;
      let size = sizeOf(target);
      // With the final size known, the file is one buffer allocated once: each write copies into it (the copy a
      // chunk costs anyway: callers may reuse their buffers) and readAsync hands it out without joining anything.
      let slab: Uint8Array | null = null;
      if (o.expectedBytes !== undefined && o.expectedBytes > size) {
        slab = new Uint8Array(o.expectedBytes);
        let at = 0;
        for (const c of target) { slab.set(c, at); at += c.length; }
        target.splice(0, target.length, slab.subarray(0, size));
      }
      const writer: StoreWriter = {
        get size() { return size; },
        async writeAsync(chunk) {
          if (opts.quotaBytes !== undefined) {
            let used = 0;
            for (const c of files.values()) used += sizeOf(c);
            if (used + chunk.length > opts.quotaBytes) {
              throw Object.assign(new Error('Quota exceeded in memory store.'), { name: 'QuotaExceededError' });
            }
          }
          if (slab && files.get(path) === target && target.length === 1 && target[0]!.buffer === slab.buffer && size + chunk.length <= slab.length) {
            slab.set(chunk, size);
            target[0] = slab.subarray(0, size + chunk.length);
          } else {
            slab = null;
            target.push(chunk.slice()); // copy: callers may reuse their buffers
          }
          size += chunk.length;
        },
        async closeAsync() {},
      };
      return writer;
    },
    async moveAsync(from, to) {
      checkStorePath(to);
      const chunks = files.get(from);
      if (!chunks) throw new Error(`No file "${from}" to move.`);
      files.delete(from);
      files.set(to, chunks);
    },
    async deleteAsync(path) {
      files.delete(path);
      for (const p of [...files.keys()]) if (p.startsWith(`${path}/`)) files.delete(p);
    },
    async usageAsync() {
      let used = 0;
      for (const c of files.values()) used += sizeOf(c);
      return opts.quotaBytes === undefined ? { usedBytes: used } : { usedBytes: used, quotaBytes: opts.quotaBytes };
    },
  };
  return store;
}
