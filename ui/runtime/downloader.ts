/**
 * Model downloads: streaming fetch with progress (bytes, rate, ETA) per file and per model, HTTP Range resume after a
 * dropped connection or a stall, sha256 verification while streaming (before first use), and checks that catch a web
 * page served instead of a model (content-type, size, first bytes). A file only appears under its final store path
 * once it is complete and verified; until then it is `<path>.part`. Nothing corrupt is ever committed.
 *
 * Size policy: files with a sha256 must match `bytes` exactly; files without one carry a hub listing's rounded size
 * ("1.73 GB"), so the server's size is accepted within ±5 % of it, and the received bytes must equal the server's size.
 */
import { AppError } from '../../protocol/errors';
import { fetchAllowedAsync, type NetworkPolicy } from './fetch-allowed';
import { createSha256, type Sha256 } from './sha256';
import type { ModelStore, StoreWriter } from './store/model-store';

/** What a file must look like; `kind` picks the magic-byte check. */
export type FileKind = 'onnx' | 'data' | 'json' | 'text';

export interface DownloadTarget {
  readonly url: string;
  /** Store path of the verified file. */
  readonly storePath: string;
  readonly bytes: number;
  readonly sha256?: string;
  readonly kind: FileKind;
  /** The size is only a guess (tokenizer files): accept whatever size the server announces. */
  readonly sizeUnknown?: boolean;
  /** For messages: "unet/model.onnx". */
  readonly label: string;
}

export interface DownloadProgress {
  readonly bytes: number;
  readonly total: number;
  /** Smoothed bytes per second. */
  readonly rate: number;
  readonly etaSeconds?: number;
}

export interface DownloadStats {
  /** Body bytes received over the network (all attempts). */
  readonly bytesFetched: number;
  /** Bytes that were already there when a resume started (not fetched again). */
  readonly resumedFromBytes: number;
  readonly attempts: number;
  readonly resumes: number;
}

export interface DownloadOptions {
  readonly store: ModelStore;
  readonly network: NetworkPolicy;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: DownloadProgress) => void;
  /** Clock in ms (injectable for tests). */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Total tries per file, resumes included. Default 8. */
  readonly maxAttempts?: number;
  /** A read that brings no byte for this long counts as a dropped connection. Default 30 s. */
  readonly stallTimeoutMs?: number;
  /** Minimum interval between progress callbacks. Default 100 ms. */
  readonly progressIntervalMs?: number;
}

const fmtBytes = (n: number): string =>
  n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
export { fmtBytes as formatBytes };

/** A smoothed rate meter (exponential moving average over ≥ 200 ms windows). */
export function createRateMeter(now: () => number): { update(bytes: number): number } {
  let lastT = now();
  let lastB = 0;
  let rate = 0;
  return {
    update(bytes) {
      const t = now();
      const dt = (t - lastT) / 1000;
      if (dt >= 0.2) {
        const inst = (bytes - lastB) / dt;
        rate = rate === 0 ? inst : 0.7 * rate + 0.3 * inst;
        lastT = t;
        lastB = bytes;
      }
      return rate;
    },
  };
}

const progressOf = (bytes: number, total: number, rate: number): DownloadProgress =>
  rate > 0 ? { bytes, total, rate, etaSeconds: Math.max(0, (total - bytes) / rate) } : { bytes, total, rate };

class Retryable extends Error {}

function looksLikeHtml(head: Uint8Array): boolean {
  const text = new TextDecoder('latin1').decode(head.subarray(0, 64)).trimStart().toLowerCase();
  return text.startsWith('<!doctype') || text.startsWith('<html') || text.startsWith('<?xml') || text.startsWith('<head') || text.startsWith('<body');
}

/** Checks the first bytes of a file of `kind`; returns a problem or null. */
export function checkMagic(kind: FileKind, head: Uint8Array): string | null {
  if (head.length === 0) return 'the file is empty';
  if (looksLikeHtml(head)) return 'the server sent a web page (HTML) instead of the file';
  const first = head[0]!;
  if (kind === 'onnx' && first !== 0x08) {
    // An ONNX ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
    return first === 0x3c
      ? 'the server sent text starting with "<" (probably a web page) instead of an ONNX model'
      : `it does not start like an ONNX model (first byte 0x${first.toString(16).padStart(2, '0')}, expected 0x08)`;
  }
  if (kind === 'json') {
    const c = new TextDecoder().decode(head.subarray(0, 16)).trimStart()[0];
    if (c !== '{' && c !== '[') return 'it is not JSON';
  }
  if (kind === 'text' && first === 0x3c) return 'the server sent text starting with "<" (probably a web page)';
  return null;
}

function parseContentRange(v: string | null): { start: number; total: number | null } | null {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v ?? '');
  return m ? { start: Number(m[1]), total: m[3] === '*' ? null : Number(m[3]) } : null;
}

async function hashExistingAsync(store: ModelStore, path: string, hasher: Sha256): Promise<number> {
  const blob = await store.getAsync(path);
  if (!blob || blob.size === 0) return 0;
  const reader = (blob.stream() as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hasher.update(value);
  }
  return blob.size;
}

function isQuotaError(err: unknown): boolean {
  return !!err && typeof err === 'object' && (err as { name?: string }).name === 'QuotaExceededError';
}

/**
 * Downloads one file into the store (resuming a `.part` left by an earlier attempt or session), verifies it and
 * commits it to `target.storePath`. Errors: MODEL_FETCH_FAILED (HTTP error, web page, bad size, too many drops),
 * INTEGRITY_MISMATCH (sha256), QUOTA_EXCEEDED, NETWORK_NOT_ALLOWED, CANCELLED.
 */
export async function downloadFileAsync(target: DownloadTarget, opts: DownloadOptions): Promise<DownloadStats> {
  const { store, signal } = opts;
  const now = opts.now ?? (() => Date.now());
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxAttempts = opts.maxAttempts ?? 8;
  const stallMs = opts.stallTimeoutMs ?? 30_000;
  const interval = opts.progressIntervalMs ?? 100;
  const partPath = `${target.storePath}.part`;
  const exact = target.sha256 !== undefined;
  const fail = async (code: 'MODEL_FETCH_FAILED' | 'INTEGRITY_MISMATCH' | 'QUOTA_EXCEEDED', message: string, hint?: string): Promise<never> => {
    await store.deleteAsync(partPath).catch(() => undefined);
    throw new AppError(code, message, hint ? { hint } : {});
  };

  let hasher = createSha256();
  let have = await hashExistingAsync(store, partPath, hasher);
  const resumedFromBytes = have;
  let total: number | null = null;
  let fetched = 0;
  let attempts = 0;
  let resumes = 0;
  let lastError = '';
  const meter = createRateMeter(now);
  let lastEmit = -Infinity;
  const emit = (force: boolean): void => {
    const t = now();
    if (!force && t - lastEmit < interval) return;
    lastEmit = t;
    opts.onProgress?.(progressOf(have, total ?? target.bytes, meter.update(have)));
  };

  while (have !== total) {
    if (signal?.aborted) throw new AppError('CANCELLED', 'Download cancelled.');
    if (attempts >= maxAttempts) {
      return fail('MODEL_FETCH_FAILED', `Downloading ${target.label} failed after ${attempts} tries (${lastError}).`, 'Check your connection and try again; the download resumes where it stopped.');
    }
    if (attempts > 0) await sleep(Math.min(8000, 250 * 2 ** (attempts - 1)));
    attempts++;
    const headers: Record<string, string> = have > 0 ? { Range: `bytes=${have}-` } : {};
    const res = await fetchAllowedAsync(target.url, { headers, signal: signal ?? null, cache: 'no-store' }, opts.network)
      .catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'MODEL_FETCH_FAILED') { lastError = err.message; return null; }
        throw err;
      });
    if (!res) continue;
    const status = res.status;
    if (status === 416 && have > 0) {
      // Our partial file is longer than the server's file: start over.
      await res.body?.cancel().catch(() => undefined);
      hasher = createSha256();
      have = 0;
      total = null;
      await store.deleteAsync(partPath);
      lastError = 'HTTP 416';
      continue;
    }
    if (status >= 500 || status === 408 || status === 429) {
      await res.body?.cancel().catch(() => undefined);
      lastError = `HTTP ${status}`;
      continue;
    }
    if (status !== 200 && status !== 206) {
      await res.body?.cancel().catch(() => undefined);
      return fail('MODEL_FETCH_FAILED', `Downloading ${target.label} failed: the server answered HTTP ${status}${status === 404 ? ' (not found)' : ''} for ${target.url}.`,
        status === 404 ? 'The model may have moved; check the manifest URL.' : 'Try again later.');
    }
    const type = res.headers.get('content-type') ?? '';
    if (/text\/html|application\/xhtml/i.test(type)) {
      await res.body?.cancel().catch(() => undefined);
      return fail('MODEL_FETCH_FAILED', `Downloading ${target.label} failed: the server sent a web page (${type}) instead of the file.`, 'The URL probably points to a login or error page; check the manifest URL.');
    }
    let start = 0;
    if (status === 206) {
      const cr = parseContentRange(res.headers.get('content-range'));
      if (!cr || cr.start !== have) {
        // A range we did not ask for: discard and restart cleanly.
        await res.body?.cancel().catch(() => undefined);
        hasher = createSha256(); have = 0; total = null;
        await store.deleteAsync(partPath);
        lastError = 'unexpected Content-Range';
        continue;
      }
      start = cr.start;
      if (cr.total !== null) total = cr.total;
    } else if (have > 0) {
      // The server ignored Range: the body is the whole file again.
      hasher = createSha256();
      have = 0;
    }
    const len = res.headers.get('content-length');
    if (status === 200 && len !== null) total = Number(len);
    else if (status === 206 && total === null && len !== null) total = start + Number(len);
    if (total !== null && !target.sizeUnknown) {
      const ok = exact ? total === target.bytes : Math.abs(total - target.bytes) <= target.bytes * 0.05;
      if (!ok) {
        await res.body?.cancel().catch(() => undefined);
        return fail('MODEL_FETCH_FAILED', `Downloading ${target.label} failed: the server's file has ${fmtBytes(total)} but the manifest expects ${exact ? '' : 'about '}${fmtBytes(target.bytes)}.`,
          total < 64 * 1024 && target.bytes > 1e6 ? 'The server probably sent an error page.' : 'The model files may have changed upstream; the manifest needs updating.');
      }
    }
    if (!res.body) { lastError = 'empty response'; continue; }
    if (have > 0) resumes++;

    let writer: StoreWriter | null = null;
    const reader = res.body.getReader();
    try {
      writer = await store.openAppendAsync(partPath, { truncate: have === 0 });
      for (;;) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const stalled = new Promise<'stall'>((r) => { timer = setTimeout(() => r('stall'), stallMs); });
        const next = await Promise.race([reader.read(), stalled]).finally(() => clearTimeout(timer));
        if (next === 'stall') {
          await reader.cancel().catch(() => undefined);
          throw new Retryable(`no data for ${Math.round(stallMs / 1000)} s`);
        }
        if (next.done) break;
        const chunk = next.value;
        if (have === 0 && chunk.length > 0) {
          const problem = checkMagic(target.kind, chunk);
          if (problem) {
            await reader.cancel().catch(() => undefined);
            await writer.closeAsync().catch(() => undefined);
            writer = null;
            return await fail('MODEL_FETCH_FAILED', `Downloading ${target.label} failed: ${problem}.`, 'Check the model URL; the server may be returning an error page.');
          }
        }
        if (total !== null && have + chunk.length > total) throw new Retryable('the server sent more bytes than announced');
        await writer.writeAsync(chunk);
        hasher.update(chunk);
        have += chunk.length;
        fetched += chunk.length;
        emit(false);
      }
      if (total === null) total = have; // no length announced: the end of the body is the end of the file
      if (have !== total) throw new Retryable(`connection closed at ${have} of ${total} bytes`);
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (isQuotaError(err)) {
        await writer?.closeAsync().catch(() => undefined);
        writer = null;
        return fail('QUOTA_EXCEEDED', `Not enough storage space to save ${target.label} (${fmtBytes(target.bytes)}).`, 'Free some disk space or delete another model, then try again.');
      }
      if (signal?.aborted) throw new AppError('CANCELLED', 'Download cancelled.');
      lastError = err instanceof Error ? err.message : String(err);
      // Dropped connection or stall: loop and resume from `have`.
    } finally {
      await writer?.closeAsync().catch(() => undefined);
    }
  }
  emit(true);

  // Verify before first use.
  const digest = hasher.digestHex();
  if (target.sha256 && digest !== target.sha256) {
    return fail('INTEGRITY_MISMATCH', `${target.label} is corrupt: its sha256 is ${digest}, expected ${target.sha256}. The damaged file was deleted.`, 'Download it again; if this repeats, the file changed upstream.');
  }
  await store.moveAsync(partPath, target.storePath);
  return { bytesFetched: fetched, resumedFromBytes, attempts, resumes };
}

/** Browser storage estimate (injectable). */
export type EstimateFn = () => Promise<{ usage?: number; quota?: number }>;

/**
 * Fails early with QUOTA_EXCEEDED when the origin's free quota is below `neededBytes`, naming both sizes. Does nothing
 * when the browser cannot tell (no estimate in this context).
 */
export async function checkQuotaAsync(neededBytes: number, estimate: EstimateFn | undefined): Promise<void> {
  if (!estimate || neededBytes <= 0) return;
  let est: { usage?: number; quota?: number };
  try {
    est = await estimate();
  } catch {
    return;
  }
  if (est.quota === undefined) return;
  const free = est.quota - (est.usage ?? 0);
  if (free < neededBytes) {
    throw new AppError('QUOTA_EXCEEDED', `This model needs ${fmtBytes(neededBytes)} of storage, but only ${fmtBytes(Math.max(0, free))} is free for the plugin.`, {
      hint: 'Delete other models or free disk space, then try again.',
    });
  }
}

/**
 * Downloads several files (one model) in order, skipping ones already in the store, with model-level progress.
 * Returns per-file stats.
 */
export async function downloadFilesAsync(targets: readonly DownloadTarget[], opts: DownloadOptions & { estimate?: EstimateFn }): Promise<DownloadStats[]> {
  const now = opts.now ?? (() => Date.now());
  const present = new Map((await opts.store.listAsync()).map((e) => [e.path, e.bytes] as const));
  const todo = targets.filter((t) => !present.has(t.storePath));
  const grandTotal = targets.reduce((s, t) => s + t.bytes, 0);
  let doneBytes = targets.filter((t) => present.has(t.storePath)).reduce((s, t) => s + t.bytes, 0);
  const partBytes = todo.reduce((s, t) => s + (present.get(`${t.storePath}.part`) ?? 0), 0);
  await checkQuotaAsync(todo.reduce((s, t) => s + t.bytes, 0) - partBytes, opts.estimate);
  const meter = createRateMeter(now);
  const stats: DownloadStats[] = [];
  opts.onProgress?.(progressOf(doneBytes, grandTotal, 0));
  for (const t of todo) {
    const s = await downloadFileAsync(t, {
      ...opts,
      onProgress: (p) => {
        const bytes = doneBytes + p.bytes;
        opts.onProgress?.(progressOf(bytes, grandTotal, meter.update(bytes)));
      },
    });
    doneBytes += t.bytes;
    stats.push(s);
  }
  opts.onProgress?.(progressOf(grandTotal, grandTotal, meter.update(grandTotal)));
  return stats;
}
