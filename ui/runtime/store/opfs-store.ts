/**
 * ModelStore over the Origin Private File System (hosted mode: the UI has a real origin). Files are written through
 * a sync access handle inside a worker (no swap-file copy on resume) or `createWritable` elsewhere. The root folder
 * is `models/` so the store never touches other OPFS data of the origin.
 */
import { AppError } from '../../../protocol/errors';
import { createMemoryStore, NULL_ORIGIN_STORAGE_REASON } from './memory-store';
import { checkStorePath, writeAllAsync, type ModelStore, type StoreWriter } from './model-store';

/** The subset of StorageManager the store uses (injectable for tests). */
export interface StorageManagerLike {
  getDirectory(): Promise<FileSystemDirectoryHandle>;
  estimate?(): Promise<StorageEstimate>;
  persist?(): Promise<boolean>;
}

export interface SyncHandle {
  getSize(): number;
  truncate(n: number): void;
  write(buf: Uint8Array, opts: { at: number }): number;
  flush(): void;
  close(): void;
}

async function dirFor(root: FileSystemDirectoryHandle, parts: readonly string[], create: boolean): Promise<FileSystemDirectoryHandle | null> {
  let dir = root;
  for (const p of parts) {
    try {
      dir = await dir.getDirectoryHandle(p, { create });
    } catch (err) {
      if (!create && (err as { name?: string }).name === 'NotFoundError') return null;
      throw err;
    }
  }
  return dir;
}

async function fileFor(root: FileSystemDirectoryHandle, path: string, create: boolean): Promise<FileSystemFileHandle | null> {
  const parts = checkStorePath(path);
  const dir = await dirFor(root, parts.slice(0, -1), create);
  if (!dir) return null;
  try {
    return await dir.getFileHandle(parts[parts.length - 1]!, { create });
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (!create && (name === 'NotFoundError' || name === 'TypeMismatchError')) return null;
    throw err;
  }
}

async function walkAsync(dir: FileSystemDirectoryHandle, prefix: string, out: { path: string; bytes: number }[]): Promise<void> {
  const entries = (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries();
  for await (const [name, handle] of entries) {
    const path = prefix ? `${prefix}/${name}` : name;
    if (handle.kind === 'directory') await walkAsync(handle as FileSystemDirectoryHandle, path, out);
    else out.push({ path, bytes: (await (handle as FileSystemFileHandle).getFile()).size });
  }
}

/** A QuotaExceededError-shaped error (what browsers throw when the origin's quota is full). */
export function quotaError(message: string): Error {
  return Object.assign(new Error(message), { name: 'QuotaExceededError' });
}

/**
 * A writer over a FileSystemSyncAccessHandle that trusts nothing it is told: every write's returned count must equal
 * the chunk's length and the handle's size must then be exactly where it should be. Chromium at the quota limit has
 * returned 4294967288 from write() instead of throwing; that, a short write or a size that does not add up truncates
 * the file back to its last good size and throws QuotaExceededError, so a `.part` never holds bytes nobody verified.
 */
export function syncHandleWriter(h: SyncHandle, truncate: boolean): StoreWriter {
  if (truncate) h.truncate(0);
  let size = h.getSize();
  return {
    get size() { return size; },
    async writeAsync(chunk) {
      let n: number;
      try {
        n = h.write(chunk, { at: size });
      } catch (err) {
        try { h.truncate(size); } catch { /* keep the original error */ }
        throw err;
      }
      const after = h.getSize();
      if (n !== chunk.length || after !== size + chunk.length) {
        try { h.truncate(size); } catch { /* the size check below still fails the file */ }
        throw quotaError(`Storage refused a write: ${chunk.length} bytes asked, write() reported ${n}, the file holds ${after} bytes instead of ${size + chunk.length}.`);
      }
      size = after;
    },
    async closeAsync() { h.flush(); h.close(); },
  };
}

async function openWriterAsync(handle: FileSystemFileHandle, truncate: boolean): Promise<StoreWriter> {
  const createSync = (handle as unknown as { createSyncAccessHandle?: () => Promise<SyncHandle> }).createSyncAccessHandle;
  if (typeof createSync === 'function' && typeof (globalThis as { document?: unknown }).document === 'undefined') {
    return syncHandleWriter(await createSync.call(handle), truncate);
  }
  let size = truncate ? 0 : (await handle.getFile()).size;
  const w = await handle.createWritable({ keepExistingData: !truncate });
  if (!truncate) await w.seek(size);
  return {
    get size() { return size; },
    async writeAsync(chunk) { await w.write(chunk as BufferSource); size += chunk.length; },
    async closeAsync() {
      await w.close();
      // A writable stream commits on close: check that what landed is what was written.
      const landed = (await handle.getFile()).size;
      if (landed !== size) throw quotaError(`Storage kept ${landed} of ${size} bytes.`);
    },
  };
}

/** Opens the OPFS store or throws AppError STORAGE_UNAVAILABLE with the browser's reason. */
export async function openOpfsStoreAsync(storage: StorageManagerLike | undefined = globalThis.navigator?.storage): Promise<ModelStore> {
  if (!storage || typeof storage.getDirectory !== 'function') {
    throw new AppError('STORAGE_UNAVAILABLE', 'This browser has no Origin Private File System (navigator.storage.getDirectory is missing).');
  }
  let root: FileSystemDirectoryHandle;
  try {
    root = await (await storage.getDirectory()).getDirectoryHandle('models', { create: true });
  } catch (err) {
    const e = err as { name?: string; message?: string };
    throw new AppError('STORAGE_UNAVAILABLE', `The browser denied file storage here (${e.name ?? 'Error'}: ${e.message ?? String(err)}).`, { cause: err });
  }
  // Ask the browser not to evict multi-GB models under storage pressure; a refusal is not an error.
  await storage.persist?.().catch(() => false);

  const store: ModelStore = {
    kind: 'opfs',
    persistent: true,
    async listAsync(prefix = '') {
      const out: { path: string; bytes: number }[] = [];
      await walkAsync(root, '', out);
      return out.filter((e) => e.path.startsWith(prefix));
    },
    async getAsync(path) {
      const h = await fileFor(root, path, false);
      return h ? h.getFile() : null;
    },
    async sizeAsync(path) {
      const h = await fileFor(root, path, false);
      return h ? (await h.getFile()).size : null;
    },
    async readAsync(path) {
      const h = await fileFor(root, path, false);
      if (!h) return null;
      // In a worker, a sync access handle reads the file directly (several GB/s on a regular profile, ~10× a Blob's
      // arrayBuffer()); it needs the file's lock, so anywhere that fails the Blob path is taken.
      const createSync = (h as unknown as { createSyncAccessHandle?: () => Promise<SyncHandle & { read(b: Uint8Array, o: { at: number }): number }> }).createSyncAccessHandle;
      if (typeof createSync === 'function' && typeof (globalThis as { document?: unknown }).document === 'undefined') {
        const sync = await createSync.call(h).catch(() => null);
        if (sync) {
          try {
            const out = new Uint8Array(sync.getSize());
            let at = 0;
            while (at < out.length) {
              const n = sync.read(out.subarray(at), { at });
              if (n <= 0) break;
              at += n;
            }
            if (at === out.length) return out;
          } finally {
            sync.close();
          }
        }
      }
      return new Uint8Array(await (await h.getFile()).arrayBuffer());
    },
    async putAsync(path, data) {
      const h = await fileFor(root, path, true);
      const w = await openWriterAsync(h!, true);
      try {
        await writeAllAsync(w, data);
      } finally {
        await w.closeAsync();
      }
    },
    async openAppendAsync(path, o = {}) {
      const h = await fileFor(root, path, true);
      return openWriterAsync(h!, o.truncate === true);
    },
    async moveAsync(from, to) {
      const src = await fileFor(root, from, false);
      if (!src) throw new Error(`No file "${from}" to move.`);
      const parts = checkStorePath(to);
      const dir = await dirFor(root, parts.slice(0, -1), true);
      const move = (src as unknown as { move?: (d: FileSystemDirectoryHandle, n: string) => Promise<void> }).move;
      if (typeof move === 'function') {
        await store.deleteAsync(to);
        await move.call(src, dir!, parts[parts.length - 1]!);
        return;
      }
      await store.putAsync(to, await src.getFile());
      await store.deleteAsync(from);
    },
    async deleteAsync(path) {
      const parts = checkStorePath(path);
      const dir = await dirFor(root, parts.slice(0, -1), false);
      if (!dir) return;
      try {
        await dir.removeEntry(parts[parts.length - 1]!, { recursive: true });
      } catch (err) {
        if ((err as { name?: string }).name !== 'NotFoundError') throw err;
      }
    },
    async usageAsync() {
      const used = (await store.listAsync()).reduce((s, e) => s + e.bytes, 0);
      const est = await storage.estimate?.().catch(() => undefined);
      return est?.quota !== undefined ? { usedBytes: used, quotaBytes: est.quota } : { usedBytes: used };
    },
  };
  return store;
}

/**
 * OPFS when the origin allows it, else an in-memory store whose `reason` explains why nothing persists (Figma's
 * null-origin iframe throws SecurityError on every storage API).
 */
export async function openBestStoreAsync(storage: StorageManagerLike | undefined = globalThis.navigator?.storage): Promise<ModelStore> {
  try {
    return await openOpfsStoreAsync(storage);
  } catch (err) {
    const detail = err instanceof AppError ? err.message : String(err);
    return createMemoryStore({ reason: `${NULL_ORIGIN_STORAGE_REASON} (${detail})` });
  }
}
