/**
 * Where model files live. Three implementations:
 * - OPFS (./opfs-store.ts): hosted mode, a real origin — files survive closing the plugin;
 * - memory (./memory-store.ts): Figma's null-origin inline mode, where the browser denies every storage API —
 *   nothing persists, `reason` says why;
 * - a local folder the user picks (./local-folder.ts) — read-only, matched to a manifest by path and size.
 * Paths are relative, '/'-separated (e.g. "files/3f…/unet-model.onnx").
 */

export interface StoredEntry {
  readonly path: string;
  readonly bytes: number;
}

export interface StoreWriter {
  /** Bytes in the file, including what was there when it was opened (for resume). */
  readonly size: number;
  writeAsync(chunk: Uint8Array): Promise<void>;
  /** Flushes and closes. */
  closeAsync(): Promise<void>;
}

export interface StorageUsage {
  readonly usedBytes: number;
  readonly quotaBytes?: number;
}

export interface ModelStore {
  readonly kind: 'opfs' | 'memory' | 'folder';
  /** Whether files survive closing the plugin. */
  readonly persistent: boolean;
  /** Why files do not persist (shown in the UI), when `persistent` is false. */
  readonly reason?: string;
  /** Entries whose path starts with `prefix` (all when omitted). */
  listAsync(prefix?: string): Promise<StoredEntry[]>;
  /** The file as a Blob (size, arrayBuffer(), stream()), or null. */
  getAsync(path: string): Promise<Blob | null>;
  /**
   * The file's size in bytes, or null — without reading it (optional; callers fall back to `getAsync(path).size`,
   * which for the memory store copies the whole file into a Blob).
   */
  sizeAsync?(path: string): Promise<number | null>;
  /**
   * The whole file as one contiguous byte array, or null (optional; callers fall back to `getAsync` + arrayBuffer()).
   * The memory store returns its own bytes (joined once, then kept joined): callers must not modify them.
   */
  readAsync?(path: string): Promise<Uint8Array | null>;
  /** Writes a whole file from bytes, a Blob, a stream or chunks. */
  putAsync(path: string, data: Uint8Array | Blob | ReadableStream<Uint8Array> | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void>;
  /**
   * Opens a file for appending (created when missing; `truncate` empties it first). `expectedBytes`, the size the
   * file will have when complete, lets a store lay it out in one piece (the memory store allocates it once).
   */
  openAppendAsync(path: string, opts?: { truncate?: boolean; expectedBytes?: number }): Promise<StoreWriter>;
  /** Renames a file (replacing `to`). */
  moveAsync(from: string, to: string): Promise<void>;
  /** Deletes a file, or every file under `path/`. Missing paths are fine. */
  deleteAsync(path: string): Promise<void>;
  usageAsync(): Promise<StorageUsage>;
}

/** Normalises and checks a store path: no '..', no leading '/', no empty segments. */
export function checkStorePath(path: string): string[] {
  const parts = path.split('/');
  if (parts.length === 0 || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`Bad store path "${path}".`);
  }
  return parts;
}

/** Shared helper: feeds any accepted input to a writer, chunk by chunk. */
export async function writeAllAsync(
  writer: StoreWriter,
  data: Uint8Array | Blob | ReadableStream<Uint8Array> | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<void> {
  if (data instanceof Uint8Array) {
    await writer.writeAsync(data);
    return;
  }
  const stream = typeof Blob !== 'undefined' && data instanceof Blob ? (data.stream() as ReadableStream<Uint8Array>) : data;
  if (typeof ReadableStream !== 'undefined' && stream instanceof ReadableStream) {
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        await writer.writeAsync(value);
      }
    } finally {
      reader.releaseLock();
    }
  }
  for await (const chunk of stream as AsyncIterable<Uint8Array>) await writer.writeAsync(chunk);
}

/** A file's size through `sizeAsync` when the store has it, else `getAsync`; null when there is no such file. */
export async function storedSizeAsync(store: ModelStore, path: string): Promise<number | null> {
  if (store.sizeAsync) return store.sizeAsync(path);
  return (await store.getAsync(path))?.size ?? null;
}

/** A whole file as contiguous bytes through `readAsync` when the store has it, else `getAsync` + arrayBuffer(). */
export async function readStoredAsync(store: ModelStore, path: string): Promise<Uint8Array | null> {
  if (store.readAsync) return store.readAsync(path);
  const blob = await store.getAsync(path);
  return blob ? new Uint8Array(await blob.arrayBuffer()) : null;
}
