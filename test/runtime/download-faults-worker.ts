/**
 * Worker script for test/runtime/download-faults.browser.test.ts: the real downloader over the real OPFS store
 * (FileSystemSyncAccessHandle, as in the engine worker), driven by messages `{ id, op, args }`.
 */
import { toAppError } from '../../protocol/errors';
import { downloadFileAsync, retryLine, type DownloadTarget } from '../../ui/runtime/downloader';
import { openOpfsStoreAsync } from '../../ui/runtime/store/opfs-store';

interface DownloadArgs {
  readonly target: DownloadTarget;
  readonly domains: string[];
  readonly headersTimeoutMs?: number;
  readonly stallTimeoutMs?: number;
  readonly retryDelayMs?: number;
  readonly maxAttempts?: number;
  /** Abort (Cancel) once this many bytes are in. */
  readonly abortAtBytes?: number;
}

const hex = (b: ArrayBuffer): string => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');

async function runAsync(op: string, args: unknown): Promise<unknown> {
  const store = await openOpfsStoreAsync();
  switch (op) {
    case 'download': {
      const a = args as DownloadArgs;
      const ctl = new AbortController();
      const retries: string[] = [];
      const t0 = performance.now();
      try {
        const stats = await downloadFileAsync(a.target, {
          store, network: { domains: a.domains }, signal: ctl.signal, progressIntervalMs: 0,
          ...(a.headersTimeoutMs ? { headersTimeoutMs: a.headersTimeoutMs } : {}),
          ...(a.stallTimeoutMs ? { stallTimeoutMs: a.stallTimeoutMs } : {}),
          ...(a.maxAttempts ? { maxAttempts: a.maxAttempts } : {}),
          ...(a.retryDelayMs !== undefined ? { retryDelayMs: () => a.retryDelayMs! } : {}),
          onProgress: (p) => {
            if (p.retry) retries.push(retryLine(p.retry));
            if (a.abortAtBytes !== undefined && p.bytes >= a.abortAtBytes) ctl.abort();
          },
        });
        return { stats, retries, ms: performance.now() - t0 };
      } catch (err) {
        const e = toAppError(err);
        const cause = (e as { cause?: unknown }).cause;
        const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : undefined;
        return { error: { code: e.code, message: e.message, hint: e.hint, ...(detail ? { detail } : {}) }, retries, ms: performance.now() - t0 };
      }
    }
    case 'list': return store.listAsync();
    case 'sha256': {
      const blob = await store.getAsync(args as string);
      return blob ? { size: blob.size, sha256: hex(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer())) } : null;
    }
    case 'clear': await store.deleteAsync('blobs'); await store.deleteAsync('pins'); return null;
    case 'estimate': return navigator.storage.estimate();
    case 'headersSeen': {
      // What a page can read of a cross-origin 206: the premise of #15.4.
      const res = await fetch(args as string, { headers: { Range: 'bytes=10-' }, cache: 'no-store' });
      await res.body?.cancel();
      return { status: res.status, contentRange: res.headers.get('content-range'), contentLength: res.headers.get('content-length'), etag: res.headers.get('etag') };
    }
    default: throw new Error(`unknown op ${op}`);
  }
}

self.onmessage = (e: MessageEvent<{ id: number; op: string; args: unknown }>) => {
  const { id, op, args } = e.data;
  runAsync(op, args).then(
    (value) => (self as unknown as Worker).postMessage({ id, value }),
    (err: unknown) => (self as unknown as Worker).postMessage({ id, error: String(err instanceof Error ? err.message : err) }),
  );
};
