/**
 * Model downloads: streaming fetch with progress (bytes, rate, ETA, visible retries) per file and per model, HTTP Range
 * resume after a dropped connection, a stall or a pause, sha256 verification (see below; in the engine worker, off the
 * UI thread), and checks that catch a web page served instead of a model (content-type, size, first bytes). A file only
 * appears under its final store path once it is complete, stored in full and verified; until then it is
 * `<path>.part`. Nothing corrupt or partial is ever committed.
 *
 * Verification contract (every file, tokenizers and configs too):
 * - a file with `sha256` (from the manifest) must hash to it, and its size must equal `bytes` exactly;
 * - without one, the host's advertised sha256 when a browser can see it (an exposed `X-Linked-Etag`, a 64-hex `ETag`,
 *   or a final URL on Hugging Face's LFS CDN whose last segment is the object's sha256);
 * - otherwise trust on first use: the sha256 of the first complete download is recorded (`pins/…`, returned in the
 *   stats for the UI to show) and a later, different file from the same URL is refused.
 * A hash mismatch deletes the file and fetches it once more from byte 0 before failing.
 *
 * How the sha256 is computed (the check is the same either way): a file whose size is known and at most
 * `oneShotMaxBytes` (default 2 GiB: every file in the catalogue) is read back from the store once complete and hashed
 * in one native WebCrypto digest — the CPU's SHA instructions, several times hash-wasm's rate, and it hashes exactly
 * the bytes that were stored, whatever mix of tries, resumes and sessions wrote them. The cost is memory: the file
 * plus WebCrypto's copy of it for the moment of the digest, no more than loading the model into a session takes later.
 * Larger files, files of unknown size and places without WebCrypto hash while streaming with hash-wasm (the
 * `.part` already stored is hashed first on a resume).
 *
 * Every wait is bounded: a connect/headers timeout (a server that accepts but never answers), a body-stall timeout,
 * a finite number of tries with a visible countdown between them. Aborting `signal` (Cancel, Pause) stops the network
 * at once and keeps the `.part` for a later resume.
 *
 * Resume works cross-origin: the UI is always cross-origin to the model host and `Content-Range` is not a
 * CORS-safelisted header, so a browser usually cannot read it. The decision uses only what a browser sees: status 206
 * to our single open-ended range `bytes=N-` means "from N"; `Content-Length` (safelisted) must then equal the bytes
 * still missing when the size is known; `Content-Range` is checked only when the host exposes it. The final size and
 * sha256 catch anything else.
 *
 * Stores are checked too: every write's count (./store/opfs-store.ts) and the `.part`'s size before commit; a short or
 * refused write is QUOTA_EXCEEDED naming the file and the space still needed.
 */
import { AppError } from '../../protocol/errors';
import { fetchAllowedAsync, type NetworkPolicy } from './fetch-allowed';
import { createSha256, createSha256Async, nativeSha256Available, ONE_SHOT_MAX_BYTES, sha256HexOneShotAsync, type Sha256 } from './sha256';
import { readStoredAsync, storedSizeAsync, type ModelStore, type StoreWriter } from './store/model-store';

/** What a file must look like; `kind` picks the magic-byte check. */
export type FileKind = 'onnx' | 'data' | 'json' | 'text';

export interface DownloadTarget {
  readonly url: string;
  /** Store path of the verified file. */
  readonly storePath: string;
  /** Exact size in bytes (no tolerance), unless `sizeUnknown`. */
  readonly bytes: number;
  readonly sha256?: string;
  readonly kind: FileKind;
  /** The size is not known in advance (legacy tokenizer URLs): the server's size is taken, then pinned. */
  readonly sizeUnknown?: boolean;
  /** For messages: "SD-Turbo: unet/model.onnx". */
  readonly label: string;
}

/** A retry about to happen, for the UI: "retrying in 4 s (try 2 of 5)". */
export interface RetryInfo {
  /** The try that comes next (2 = the first retry). */
  readonly attempt: number;
  readonly of: number;
  readonly inSeconds: number;
  /** Why the last try failed ("no answer from http://… within 30 s"). */
  readonly reason: string;
}

export interface DownloadProgress {
  readonly bytes: number;
  readonly total: number;
  /** Smoothed bytes per second. */
  readonly rate: number;
  readonly etaSeconds?: number;
  /** Present while waiting to retry. */
  readonly retry?: RetryInfo;
}

/** How a file's content was checked. */
export type VerifiedBy = 'manifest' | 'host' | 'first-download' | 'pinned';

export interface DownloadStats {
  /** Body bytes received over the network (all attempts). */
  readonly bytesFetched: number;
  /** Bytes that were already there when a resume started (not fetched again). */
  readonly resumedFromBytes: number;
  readonly attempts: number;
  readonly resumes: number;
  /** sha256 of the committed file, and where the expected value came from. */
  readonly sha256: string;
  readonly verifiedBy: VerifiedBy;
}

export interface DownloadOptions {
  readonly store: ModelStore;
  readonly network: NetworkPolicy;
  /** Aborting stops the network at once; the `.part` stays for a resume. Rejects with CANCELLED. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: DownloadProgress) => void;
  /** Clock in ms (injectable for tests). */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Total tries per file, resumes included. Default 5. */
  readonly maxAttempts?: number;
  /** From sending the request to having the response headers (connect, TLS, redirects). Default 30 s. */
  readonly headersTimeoutMs?: number;
  /** A read that brings no byte for this long counts as a dropped connection. Default 30 s. */
  readonly stallTimeoutMs?: number;
  /** Wait before try `attempt` (2, 3, …). Default 1 s, 2 s, 4 s, 8 s, … up to 16 s. */
  readonly retryDelayMs?: (attempt: number) => number;
  /** Minimum interval between progress callbacks. Default 100 ms. */
  readonly progressIntervalMs?: number;
  /**
   * Files of a known size up to this many bytes are verified by one native sha256 over the stored file once it is
   * complete; larger ones hash while streaming (hash-wasm). Default `ONE_SHOT_MAX_BYTES`; 0 streams every file.
   */
  readonly oneShotMaxBytes?: number;
  /**
   * Called each time every byte of the file is in the store and its verification starts (downloadFilesAsync starts
   * the next file's transfer then, so one file's digest overlaps the next one's bytes).
   */
  readonly onFetched?: () => void;
}

/** Default `oneShotMaxBytes` (2 GiB, above the largest file in the catalogue). */
export { ONE_SHOT_MAX_BYTES };

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

/** "retrying in 4 s (try 2 of 5): no data for 30 s" — the line the UI shows while a retry waits. */
export function retryLine(r: RetryInfo): string {
  return `retrying in ${r.inSeconds} s (try ${r.attempt} of ${r.of}): ${r.reason}`;
}

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

/** `bytes S-E/T`; null when absent — which, cross-origin, is what a browser sees unless the host exposes it. */
export function parseContentRange(v: string | null): { start: number; end: number; total: number | null } | null {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec((v ?? '').trim());
  return m ? { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) } : null;
}

const HEX64 = /^(?:W\/)?"?([0-9a-f]{64})"?$/i;
/** Hugging Face's LFS CDN: the object's path ends in its sha256 (the LFS oid). */
const HF_LFS_CDN = /^cdn-lfs(?:-[a-z0-9-]+)?\.(?:huggingface\.co|hf\.co)$/i;

/**
 * The file's sha256 as the host advertises it, when a browser can see it: `X-Linked-Etag` (Hugging Face's LFS sha256,
 * visible only when exposed and not behind a redirect), an `ETag` that is a bare sha256, or a final URL on Hugging
 * Face's LFS CDN (`Response.url` is always visible) ending in the sha256. Null when nothing is visible.
 */
export function advertisedSha256(res: { headers: { get(name: string): string | null }; url?: string }): string | null {
  for (const name of ['x-linked-etag', 'etag']) {
    const m = HEX64.exec((res.headers.get(name) ?? '').trim());
    if (m) return m[1]!.toLowerCase();
  }
  try {
    const u = new URL(res.url ?? '');
    const last = u.pathname.split('/').pop() ?? '';
    if (HF_LFS_CDN.test(u.hostname) && /^[0-9a-f]{64}$/i.test(last)) return last.toLowerCase();
  } catch {
    // no usable URL
  }
  return null;
}

/** Where the first-download sha256 of a URL is recorded (trust on first use). */
export function pinPathFor(url: string): string {
  const h = createSha256();
  h.update(new TextEncoder().encode(url));
  return `pins/${h.digestHex().slice(0, 32)}.json`;
}

export interface Pin {
  readonly url: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly by: 'host' | 'first-download';
}

export async function readPinAsync(store: ModelStore, url: string): Promise<Pin | null> {
  try {
    const blob = await store.getAsync(pinPathFor(url));
    if (!blob) return null;
    const p = JSON.parse(await blob.text()) as Pin;
    return typeof p.sha256 === 'string' && /^[0-9a-f]{64}$/.test(p.sha256) && Number.isInteger(p.bytes) ? p : null;
  } catch {
    return null;
  }
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

function hostOf(url: string): string {
  try { return new URL(url).origin; } catch { return url; }
}

const cancelled = (): AppError => new AppError('CANCELLED', 'Download stopped.', { hint: 'What was downloaded is kept; downloading again resumes from there.' });

/** One try's outcome when it did not finish the file. */
class TryFailed extends Error {
  constructor(message: string, readonly restart = false) { super(message); }
}

/**
 * Downloads one file into the store (resuming a `.part` left by an earlier attempt, pause or session), verifies it
 * and commits it to `target.storePath`. Errors: MODEL_FETCH_FAILED (HTTP error, web page, bad size, tries used up),
 * INTEGRITY_MISMATCH (sha256), QUOTA_EXCEEDED, NETWORK_NOT_ALLOWED, CANCELLED (signal; the `.part` is kept).
 */
export async function downloadFileAsync(target: DownloadTarget, opts: DownloadOptions): Promise<DownloadStats> {
  const { store, signal } = opts;
  const now = opts.now ?? (() => Date.now());
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxAttempts = opts.maxAttempts ?? 5;
  const headersMs = opts.headersTimeoutMs ?? 30_000;
  const stallMs = opts.stallTimeoutMs ?? 30_000;
  const retryDelay = opts.retryDelayMs ?? ((attempt: number) => Math.min(16_000, 1000 * 2 ** (attempt - 2)));
  const interval = opts.progressIntervalMs ?? 100;
  const partPath = `${target.storePath}.part`;
  const fail = async (code: 'MODEL_FETCH_FAILED' | 'INTEGRITY_MISMATCH', message: string, hint?: string): Promise<never> => {
    await store.deleteAsync(partPath).catch(() => undefined);
    throw new AppError(code, message, hint ? { hint } : {});
  };

  const pin = target.sha256 ? null : await readPinAsync(store, target.url);
  /** The size the file must have; null while unknown (no manifest size, no pin, no header yet). */
  const knownSize = target.sizeUnknown ? (pin?.bytes ?? null) : target.bytes;
  let total: number | null = knownSize;
  /** One native digest of the stored file at the end (null hasher), or a streaming hash-wasm one. */
  const oneShot = knownSize !== null && knownSize <= (opts.oneShotMaxBytes ?? ONE_SHOT_MAX_BYTES) && nativeSha256Available();
  const newHasherAsync = async (): Promise<Sha256 | null> => (oneShot ? null : createSha256Async());
  let hasher = await newHasherAsync();
  let have = hasher ? await hashExistingAsync(store, partPath, hasher) : ((await storedSizeAsync(store, partPath)) ?? 0);
  if (total !== null && have > total) {
    await store.deleteAsync(partPath);
    hasher = await newHasherAsync();
    have = 0;
  }
  const resumedFromBytes = have;
  let advertised: string | null = null;
  let fetched = 0;
  let attempts = 0;
  let resumes = 0;
  let refetches = 0;
  let lastError = '';
  const meter = createRateMeter(now);
  let lastEmit = -Infinity;
  const emit = (force: boolean): void => {
    const t = now();
    if (!force && t - lastEmit < interval) return;
    lastEmit = t;
    opts.onProgress?.(progressOf(have, total ?? target.bytes, meter.update(have)));
  };
  const restart = async (): Promise<void> => {
    await store.deleteAsync(partPath).catch(() => undefined);
    hasher = await newHasherAsync();
    have = 0;
    total = knownSize;
  };
  /** Waits before the next try, counting down in whole seconds on the progress line; Cancel ends the wait. */
  const waitToRetryAsync = async (attempt: number): Promise<void> => {
    let left = Math.max(0, retryDelay(attempt));
    while (left > 0) {
      if (signal?.aborted) throw cancelled();
      opts.onProgress?.({ ...progressOf(have, total ?? target.bytes, 0), retry: { attempt, of: maxAttempts, inSeconds: Math.ceil(left / 1000), reason: lastError } });
      const step = Math.min(1000, left);
      await new Promise<void>((resolve) => {
        const done = (): void => { signal?.removeEventListener('abort', done); resolve(); };
        signal?.addEventListener('abort', done, { once: true });
        void sleep(step).then(done);
      });
      left -= step;
    }
  };

  /** One request: resolves when the file is complete in the `.part`; throws TryFailed to try again. */
  const tryOnceAsync = async (): Promise<void> => {
    const ctl = new AbortController();
    let timedOut: string | null = null;
    const onAbort = (): void => ctl.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const headersTimer = setTimeout(() => { timedOut = `no answer from ${hostOf(target.url)} within ${Math.round(headersMs / 1000)} s`; ctl.abort(); }, headersMs);
    let stallTimer: ReturnType<typeof setTimeout> | undefined;
    let writer: StoreWriter | null = null;
    try {
      let res: Response;
      try {
        res = await fetchAllowedAsync(target.url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, signal: ctl.signal, cache: 'no-store' }, opts.network);
      } catch (err) {
        if (signal?.aborted) throw cancelled();
        if (timedOut) throw new TryFailed(timedOut);
        if (err instanceof AppError && (err.code === 'MODEL_FETCH_FAILED' || err.code === 'CANCELLED')) throw new TryFailed(err.message);
        throw err;
      } finally {
        clearTimeout(headersTimer);
      }
      const status = res.status;
      const drop = async (): Promise<void> => { ctl.abort(); await res.body?.cancel().catch(() => undefined); };
      if (status === 416 && have > 0) {
        // Our partial file is as long as or longer than the server's file: start over.
        await drop();
        await restart();
        throw new TryFailed('the server refused to resume (HTTP 416)');
      }
      if (status >= 500 || status === 408 || status === 429) { await drop(); throw new TryFailed(`HTTP ${status}`); }
      if (status !== 200 && status !== 206) {
        await drop();
        return await fail('MODEL_FETCH_FAILED', `Downloading ${target.label} failed: the server answered HTTP ${status}${status === 404 ? ' (not found)' : ''} for ${target.url}.`,
          status === 404 ? 'The model may have moved; check the manifest URL.' : 'Try again later.');
      }
      const type = res.headers.get('content-type') ?? '';
      if (/text\/html|application\/xhtml/i.test(type)) {
        await drop();
        return await fail('MODEL_FETCH_FAILED', `Downloading ${target.label} failed: the server sent a web page (${type}) instead of the file.`, 'The URL probably points to a login or error page; check the manifest URL.');
      }
      advertised ??= advertisedSha256(res);
      const lenHeader = res.headers.get('content-length');
      const len = lenHeader !== null && /^\d+$/.test(lenHeader.trim()) ? Number(lenHeader) : null;
      const sizeProblem = async (serverTotal: number): Promise<never> => {
        await drop();
        return fail('MODEL_FETCH_FAILED', `Downloading ${target.label} failed: the server's file has ${fmtBytes(serverTotal)} (${serverTotal} bytes) but ${pin ? 'the first download had' : 'the manifest expects'} ${fmtBytes(total!)} (${total} bytes).`,
          serverTotal < 64 * 1024 && total! > 1e6 ? 'The server probably sent an error page.' : 'The model files may have changed upstream; the manifest needs updating.');
      };
      if (status === 206) {
        // Decide from what a browser can see: our range was `bytes=have-`, so 206 means "from `have`". Content-Range
        // is checked only when the host exposes it; Content-Length (safelisted) must be the bytes still missing.
        const cr = parseContentRange(res.headers.get('content-range'));
        if (cr && cr.start !== have) {
          await drop();
          await restart();
          throw new TryFailed(`the server resumed at byte ${cr.start} instead of ${have}`);
        }
        if (cr?.total !== undefined && cr.total !== null) {
          if (total !== null && cr.total !== total) return await sizeProblem(cr.total);
          total = cr.total;
        }
        if (len !== null && total !== null && len !== total - have) {
          await drop();
          await restart();
          throw new TryFailed(`the server's partial answer has ${len} bytes where ${total - have} were missing`);
        }
        if (total === null && len !== null) total = have + len;
        if (have > 0) resumes++;
      } else {
        if (have > 0) {
          // The server ignored Range: the body is the whole file again.
          hasher = await newHasherAsync();
          have = 0;
        }
        if (len !== null) {
          if (total !== null && len !== total) return await sizeProblem(len);
          total = len;
        }
      }
      if (!res.body) throw new TryFailed('the response had no body');

      writer = await store.openAppendAsync(partPath, total !== null ? { truncate: have === 0, expectedBytes: total } : { truncate: have === 0 });
      if (writer.size !== have) {
        // The `.part` changed under us (another tab?): start clean.
        await writer.closeAsync().catch(() => undefined);
        writer = null;
        await drop();
        await restart();
        throw new TryFailed('the partial file changed while downloading');
      }
      const reader = res.body.getReader();
      const armStall = (): void => {
        clearTimeout(stallTimer);
        stallTimer = setTimeout(() => { timedOut = `no data for ${Math.round(stallMs / 1000)} s`; ctl.abort(); }, stallMs);
      };
      armStall();
      for (;;) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (err) {
          if (signal?.aborted) throw cancelled();
          throw new TryFailed(timedOut ?? `the connection was lost: ${err instanceof Error ? err.message : String(err)}`);
        }
        if (next.done) break;
        armStall();
        const chunk = next.value;
        if (chunk.length === 0) continue;
        if (have === 0) {
          const problem = checkMagic(target.kind, chunk);
          if (problem) {
            await drop();
            await writer.closeAsync().catch(() => undefined);
            writer = null;
            return await fail('MODEL_FETCH_FAILED', `Downloading ${target.label} failed: ${problem}.`, 'Check the model URL; the server may be returning an error page.');
          }
        }
        if (total !== null && have + chunk.length > total) { await drop(); throw new TryFailed('the server sent more bytes than announced'); }
        await writer.writeAsync(chunk); // throws QuotaExceededError on a refused or short write
        hasher?.update(chunk);
        have += chunk.length;
        fetched += chunk.length;
        emit(false);
      }
      if (total === null) total = have; // no length announced: the end of the body is the end of the file
      if (have !== total) throw new TryFailed(`the connection closed at ${have} of ${total} bytes`);
    } finally {
      clearTimeout(stallTimer);
      signal?.removeEventListener('abort', onAbort);
      if (writer) await writer.closeAsync();
    }
  };

  const quotaFail = async (err: unknown): Promise<never> => {
    const need = Math.max(0, (total ?? target.bytes) - have);
    throw new AppError('QUOTA_EXCEEDED', `Not enough storage space to save ${target.label}: ${fmtBytes(need)} more is needed${have > 0 ? ` (${fmtBytes(have)} of ${fmtBytes(total ?? target.bytes)} are stored)` : ''}.`, {
      hint: 'Nothing incomplete is used. Delete another model or free disk space, then press Download: it continues from what is stored.',
      cause: err,
    });
  };

  for (;;) {
    while (total === null || have < total) {
      if (signal?.aborted) throw cancelled();
      if (attempts >= maxAttempts) {
        // The `.part` is kept: every byte in it was received in order and will be verified with the rest.
        throw new AppError('MODEL_FETCH_FAILED', `Downloading ${target.label} failed after ${attempts} tries. Last problem: ${lastError}.`, {
          hint: have > 0 ? `Check your connection and press Download again; it continues from ${fmtBytes(have)}.` : 'Check your connection and try again.',
        });
      }
      if (attempts > 0) await waitToRetryAsync(attempts + 1);
      attempts++;
      try {
        await tryOnceAsync();
      } catch (err) {
        if (err instanceof TryFailed) { lastError = err.message; continue; }
        if (isQuotaError(err)) return quotaFail(err);
        throw err;
      }
    }
    emit(true);
    opts.onFetched?.();

    // Verify the stored bytes before first use: either the stored file itself, hashed in one native digest, or (when
    // streaming) the bytes hashed on their way into the `.part`, which holds exactly those (every write's count was
    // checked) and nothing else.
    let digest: string;
    if (hasher) {
      const storedSize = await storedSizeAsync(store, partPath);
      if (storedSize !== have) return quotaFail(new Error(`the stored file has ${storedSize ?? 0} of ${have} bytes`));
      digest = hasher.digestHex();
    } else {
      const stored = await readStoredAsync(store, partPath);
      if (!stored || stored.length !== have) return quotaFail(new Error(`the stored file has ${stored?.length ?? 0} of ${have} bytes`));
      digest = await sha256HexOneShotAsync(stored);
    }
    const want = target.sha256 ?? pin?.sha256 ?? advertised;
    if (want && digest !== want) {
      await store.deleteAsync(partPath).catch(() => undefined);
      if (refetches < 1) {
        // A corrupt file is fetched again from byte 0 (once), never kept.
        refetches++;
        await restart();
        lastError = `sha256 mismatch (${digest.slice(0, 12)}…)`;
        continue;
      }
      if (!target.sha256 && pin) {
        return fail('INTEGRITY_MISMATCH', `${target.label} changed on the server since it was first downloaded: its sha256 is now ${digest}, it was ${pin.sha256}. The new file was refused and deleted.`,
          'If you trust the new version, delete the model and download it again.');
      }
      const source = target.sha256 ? 'the manifest' : 'the host';
      return fail('INTEGRITY_MISMATCH', `${target.label} is corrupt: its sha256 is ${digest}, expected ${want} (from ${source}). It was downloaded twice and deleted both times.`,
        'Try again later; if this repeats, the file changed upstream and the manifest needs updating.');
    }
    const verifiedBy: VerifiedBy = target.sha256 ? 'manifest' : pin ? 'pinned' : advertised ? 'host' : 'first-download';
    if (!target.sha256 && !pin) {
      const record: Pin = { url: target.url, sha256: digest, bytes: have, by: advertised ? 'host' : 'first-download' };
      await store.putAsync(pinPathFor(target.url), new TextEncoder().encode(JSON.stringify(record))).catch((err: unknown) => {
        if (isQuotaError(err)) return quotaFail(err);
        throw err;
      });
    }
    await store.moveAsync(partPath, target.storePath);
    const committed = await storedSizeAsync(store, target.storePath);
    if (committed !== have) {
      await store.deleteAsync(target.storePath).catch(() => undefined);
      return quotaFail(new Error(`the committed file has ${committed ?? 0} of ${have} bytes`));
    }
    return { bytesFetched: fetched, resumedFromBytes, attempts, resumes, sha256: digest, verifiedBy };
  }
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
 * Downloads several files (one model) in order, skipping ones already stored with their exact size (a stored file of
 * the wrong size is removed and fetched again), with model-level progress. Returns per-file stats (for files fetched).
 */
export async function downloadFilesAsync(targets: readonly DownloadTarget[], opts: DownloadOptions & { estimate?: EstimateFn }): Promise<DownloadStats[]> {
  const now = opts.now ?? (() => Date.now());
  const present = new Map((await opts.store.listAsync()).map((e) => [e.path, e.bytes] as const));
  const isDone = (t: DownloadTarget): boolean => present.has(t.storePath) && (t.sizeUnknown === true || present.get(t.storePath) === t.bytes);
  for (const t of targets) {
    if (present.has(t.storePath) && !isDone(t)) { await opts.store.deleteAsync(t.storePath); present.delete(t.storePath); }
  }
  const todo = targets.filter((t) => !isDone(t));
  const grandTotal = targets.reduce((s, t) => s + t.bytes, 0);
  let doneBytes = targets.filter(isDone).reduce((s, t) => s + t.bytes, 0);
  const partBytes = todo.reduce((s, t) => s + (present.get(`${t.storePath}.part`) ?? 0), 0);
  await checkQuotaAsync(todo.reduce((s, t) => s + t.bytes, 0) - partBytes, opts.estimate);
  const meter = createRateMeter(now);
  opts.onProgress?.(progressOf(doneBytes, grandTotal, 0));
  // Files go one after another on the network, but a file's verification (its native digest) overlaps the next
  // file's transfer: the next file starts as soon as every byte of this one is stored. A failure stops the others
  // (their `.part` stays for a resume) and is reported once everything has settled.
  const inner = new AbortController();
  const onOuterAbort = (): void => inner.abort();
  if (opts.signal?.aborted) inner.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const inFlight = new Map<number, number>(); // todo index → bytes stored so far, while not committed
  const report = (retry?: RetryInfo): void => {
    let bytes = doneBytes;
    for (const b of inFlight.values()) bytes += b;
    const base = progressOf(bytes, grandTotal, retry ? 0 : meter.update(bytes));
    opts.onProgress?.(retry ? { ...base, retry } : base);
  };
  const running: Promise<DownloadStats>[] = [];
  let failed = false;
  try {
    for (const [i, t] of todo.entries()) {
      if (failed) break;
      let fetched!: () => void;
      const fetchedOrSettled = new Promise<void>((resolve) => { fetched = resolve; });
      inFlight.set(i, 0);
      const run = downloadFileAsync(t, {
        ...opts,
        signal: inner.signal,
        onFetched: fetched,
        onProgress: (p) => { inFlight.set(i, p.bytes); report(p.retry); },
      }).then((s) => { inFlight.delete(i); doneBytes += t.bytes; report(); return s; });
      run.catch(() => { failed = true; inner.abort(); }).finally(fetched);
      running.push(run);
      await fetchedOrSettled;
    }
    const stats: DownloadStats[] = [];
    for (const [i, run] of running.entries()) {
      try {
        stats.push(await run);
      } catch (first) {
        // Report the failure that stopped the others, not the CANCELLED they ended with (unless the user cancelled).
        const settled = await Promise.allSettled(running);
        const isCancel = (e: unknown): boolean => e instanceof AppError && e.code === 'CANCELLED';
        const cause = opts.signal?.aborted ? -1 : settled.findIndex((r) => r.status === 'rejected' && !isCancel(r.reason));
        const at = cause >= 0 ? cause : i;
        const err: unknown = cause >= 0 ? (settled[cause] as PromiseRejectedResult).reason : first;
        const rest = todo.slice(at + 1).reduce((sum, r) => sum + r.bytes, 0);
        if (err instanceof AppError && err.code === 'QUOTA_EXCEEDED' && rest > 0) {
          throw new AppError('QUOTA_EXCEEDED', `${err.message.replace(/\.$/, '')}; the rest of the model needs ${fmtBytes(rest)} more.`, err.hint ? { hint: err.hint } : {});
        }
        throw err;
      }
    }
    opts.onProgress?.(progressOf(grandTotal, grandTotal, meter.update(grandTotal)));
    return stats;
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}
