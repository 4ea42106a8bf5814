import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import crypto from 'node:crypto';
import { AppError } from '../../protocol/errors';
import { advertisedSha256, downloadFileAsync, downloadFilesAsync, checkQuotaAsync, checkMagic, readPinAsync, retryLine, type DownloadTarget } from '../../ui/runtime/downloader';
import { syncHandleWriter, type SyncHandle } from '../../ui/runtime/store/opfs-store';
import { createMemoryStore } from '../../ui/runtime/store/memory-store';
import { writeAllAsync, type ModelStore } from '../../ui/runtime/store/model-store';
import { startFaultServerAsync, seededRandom, type FaultServer } from './fault-server';

/** A fake ONNX file: starts with the ir_version tag 0x08, then seeded bytes. */
function fakeOnnx(n: number, seed: number): Uint8Array {
  const rnd = seededRandom(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  b[0] = 0x08;
  b[1] = 0x08;
  return b;
}
const sha = (b: Uint8Array): string => crypto.createHash('sha256').update(b).digest('hex');

let server: FaultServer;
const network = () => ({ domains: [server.url] });
const fast = { sleep: async () => {}, stallTimeoutMs: 300, headersTimeoutMs: 500, retryDelayMs: () => 0, progressIntervalMs: 0 };
const target = (path: string, data: Uint8Array, extra: Partial<DownloadTarget> = {}): DownloadTarget =>
  ({ url: `${server.url}${path}`, storePath: `blobs${path}`, bytes: data.length, sha256: sha(data), kind: 'onnx', label: path, ...extra });

async function expectAppError(p: Promise<unknown>, code: string, message?: RegExp): Promise<AppError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
  if (message) expect((err as AppError).message).toMatch(message);
  return err as AppError;
}

async function storedBytes(store: ModelStore, path: string): Promise<Uint8Array | null> {
  const b = await store.getAsync(path);
  return b ? new Uint8Array(await b.arrayBuffer()) : null;
}

async function noPartialOrFinal(store: ModelStore, path: string): Promise<void> {
  expect(await store.getAsync(path)).toBeNull();
  expect(await store.getAsync(`${path}.part`)).toBeNull();
}

beforeAll(async () => { server = await startFaultServerAsync(); });
afterAll(async () => { await server.closeAsync(); });

describe('downloadFileAsync', () => {
  it('downloads, verifies and commits a file, reporting progress up to the total', async () => {
    const data = fakeOnnx(300_000, 1);
    server.set('/ok.onnx', data);
    const store = createMemoryStore();
    const progress: number[] = [];
    const stats = await downloadFileAsync(target('/ok.onnx', data), { store, network: network(), ...fast, onProgress: (p) => progress.push(p.bytes) });
    expect(await storedBytes(store, 'blobs/ok.onnx')).toEqual(data);
    expect(await store.getAsync('blobs/ok.onnx.part')).toBeNull();
    expect(stats).toMatchObject({ bytesFetched: data.length, resumes: 0, attempts: 1 });
    expect(progress.at(-1)).toBe(data.length);
    expect(progress.every((b, i) => i === 0 || b >= progress[i - 1]!)).toBe(true);
  });

  it('resumes with Range after connection drops at seeded random offsets, fetching every byte once', async () => {
    for (const seed of [11, 12, 13]) {
      const data = fakeOnnx(200_000, seed);
      const rnd = seededRandom(seed);
      // Three drops at increasing offsets; each later response is a ranged one for the rest.
      const cuts = [0, 0, 0].map(() => 1000 + Math.floor(rnd() * 50_000));
      const path = `/drop-${seed}.onnx`;
      server.set(path, data, { dropAfter: cuts });
      const before = server.log.length;
      const store = createMemoryStore();
      // The drops are closed connections, not silences: generous stall/header limits keep a loaded CI machine from
      // adding a timed-out try (which would have nothing stored yet and so no Range) to the four this test counts.
      const stats = await downloadFileAsync(target(path, data), { store, network: network(), ...fast, stallTimeoutMs: 20_000, headersTimeoutMs: 20_000 });
      expect(await storedBytes(store, `blobs${path}`)).toEqual(data);
      const reqs = server.log.slice(before);
      expect(reqs).toHaveLength(4);
      expect(reqs[0]!.range).toBeNull();
      // Each resume asks for exactly the bytes not yet received.
      let have = 0;
      for (let i = 0; i < 3; i++) {
        have += reqs[i]!.sent;
        expect(reqs[i + 1]!.range).toBe(`bytes=${have}-`);
        expect(reqs[i + 1]!.status).toBe(206);
      }
      expect(stats.resumes).toBe(3);
      expect(stats.bytesFetched).toBe(data.length); // no byte fetched twice
    }
  });

  it('starts over when the server ignores Range (HTTP 200 on resume) and still verifies', async () => {
    const data = fakeOnnx(200_000, 5);
    server.set('/norange.onnx', data, { dropAfter: [50_000], ignoreRange: true });
    const store = createMemoryStore();
    const stats = await downloadFileAsync(target('/norange.onnx', data), { store, network: network(), ...fast });
    expect(await storedBytes(store, 'blobs/norange.onnx')).toEqual(data);
    expect(stats.bytesFetched).toBe(data.length + 50_000);
  });

  it('resumes a .part left by an earlier session (hashing what is there) and counts the resumed bytes', async () => {
    const data = fakeOnnx(120_000, 6);
    server.set('/session.onnx', data);
    const store = createMemoryStore();
    await store.putAsync('blobs/session.onnx.part', data.subarray(0, 70_000));
    const before = server.log.length;
    const stats = await downloadFileAsync(target('/session.onnx', data), { store, network: network(), ...fast });
    expect(server.log[before]!.range).toBe('bytes=70000-');
    expect(stats).toMatchObject({ resumedFromBytes: 70_000, bytesFetched: 50_000 });
    expect(await storedBytes(store, 'blobs/session.onnx')).toEqual(data);
  });

  it('a corrupted byte ends in INTEGRITY_MISMATCH, and the damaged file is deleted', async () => {
    const data = fakeOnnx(100_000, 7);
    server.set('/corrupt.onnx', data, { corruptAt: 54_321 });
    const store = createMemoryStore();
    const err = await expectAppError(downloadFileAsync(target('/corrupt.onnx', data), { store, network: network(), ...fast }), 'INTEGRITY_MISMATCH', /sha256.*expected.*deleted/);
    expect(err.message).toContain(sha(data));
    await noPartialOrFinal(store, 'blobs/corrupt.onnx');
  });

  it('404 → MODEL_FETCH_FAILED naming the status and URL, nothing stored', async () => {
    const store = createMemoryStore();
    const data = fakeOnnx(1000, 8);
    await expectAppError(downloadFileAsync(target('/missing.onnx', data), { store, network: network(), ...fast }), 'MODEL_FETCH_FAILED', /HTTP 404.*missing\.onnx/);
    await noPartialOrFinal(store, 'blobs/missing.onnx');
  });

  it('5xx is retried and then fails clearly after maxAttempts', async () => {
    const data = fakeOnnx(1000, 9);
    server.set('/busy.onnx', data, { status: 503 });
    const store = createMemoryStore();
    await expectAppError(downloadFileAsync(target('/busy.onnx', data), { store, network: network(), ...fast, maxAttempts: 3 }), 'MODEL_FETCH_FAILED', /after 3 tries\. Last problem: HTTP 503\./);
    await noPartialOrFinal(store, 'blobs/busy.onnx');
  });

  it('a slow trickle completes', async () => {
    const data = fakeOnnx(20_000, 10);
    server.set('/slow.onnx', data, { trickle: { bytes: 2000, ms: 10 } });
    const store = createMemoryStore();
    await downloadFileAsync(target('/slow.onnx', data), { store, network: network(), ...fast });
    expect(await storedBytes(store, 'blobs/slow.onnx')).toEqual(data);
  });

  it('a stalled connection times out and resumes from where it stopped', async () => {
    const data = fakeOnnx(100_000, 14);
    server.set('/stall.onnx', data, { stallAfter: [30_000] });
    const before = server.log.length;
    const store = createMemoryStore();
    const stats = await downloadFileAsync(target('/stall.onnx', data), { store, network: network(), ...fast });
    expect(server.log[before + 1]!.range).toBe('bytes=30000-');
    expect(stats.resumes).toBe(1);
    expect(await storedBytes(store, 'blobs/stall.onnx')).toEqual(data);
  });

  it('text/html content-type → MODEL_FETCH_FAILED "web page", nothing stored', async () => {
    const data = fakeOnnx(5000, 15);
    server.set('/html-type.onnx', data, { contentType: 'text/html; charset=utf-8' });
    const store = createMemoryStore();
    await expectAppError(downloadFileAsync(target('/html-type.onnx', data), { store, network: network(), ...fast }), 'MODEL_FETCH_FAILED', /web page \(text\/html/);
    await noPartialOrFinal(store, 'blobs/html-type.onnx');
  });

  it('an HTML body served as octet-stream is caught by its size and by the magic bytes', async () => {
    const html = new TextEncoder().encode('<!DOCTYPE html><html><body>Sign in</body></html>');
    const data = fakeOnnx(5000, 16);
    server.set('/html-body.onnx', data, { body: html });
    const store = createMemoryStore();
    // With a sha256 the size must be exact: 50 bytes ≠ 5000.
    await expectAppError(downloadFileAsync(target('/html-body.onnx', data), { store, network: network(), ...fast }), 'MODEL_FETCH_FAILED', /manifest expects/);
    // Without sha256 or known size (tokenizer-style), the first bytes give it away.
    await expectAppError(downloadFileAsync(target('/html-body.onnx', data, { sha256: undefined, sizeUnknown: true }), { store, network: network(), ...fast }), 'MODEL_FETCH_FAILED', /web page \(HTML\)/);
    await noPartialOrFinal(store, 'blobs/html-body.onnx');
  });

  it('a host outside the allowlist → NETWORK_NOT_ALLOWED before any request', async () => {
    const before = server.log.length;
    const data = fakeOnnx(100, 17);
    server.set('/x.onnx', data);
    await expectAppError(downloadFileAsync(target('/x.onnx', data), { store: createMemoryStore(), network: { domains: ['https://huggingface.co'] }, ...fast }), 'NETWORK_NOT_ALLOWED', /127\.0\.0\.1/);
    expect(server.log.length).toBe(before);
  });

  it('a write refused for quota → QUOTA_EXCEEDED naming the file and the space needed; nothing committed', async () => {
    const data = fakeOnnx(50_000, 18);
    server.set('/big.onnx', data);
    const store = createMemoryStore({ quotaBytes: 20_000 });
    const err = await expectAppError(downloadFileAsync(target('/big.onnx', data), { store, network: network(), ...fast }), 'QUOTA_EXCEEDED', /Not enough storage space to save \/big\.onnx: .* more is needed/);
    expect(err.hint).toMatch(/free disk space/);
    expect(await store.getAsync('blobs/big.onnx')).toBeNull();
    // What is kept is a verified-length prefix of the file, for a resume once there is room.
    const part = await storedBytes(store, 'blobs/big.onnx.part');
    expect(data.subarray(0, part?.length ?? 0)).toEqual(part ?? new Uint8Array(0));
  });
});

/** A store whose writers are the OPFS sync-access-handle writer over a fake handle that misbehaves like Chromium 156 at
 * the quota limit: write() returns 4294967288 and stores part of the chunk instead of throwing. */
function quirkyQuotaStore(quota: { bytes: number }): ModelStore {
  const mem = createMemoryStore();
  const files = new Map<string, Uint8Array>();
  const used = (): number => [...files.values()].reduce((s, f) => s + f.length, 0);
  const handleFor = (path: string): SyncHandle => ({
    getSize: () => files.get(path)?.length ?? 0,
    truncate: (n) => { files.set(path, (files.get(path) ?? new Uint8Array(0)).slice(0, n)); },
    write: (buf, { at }) => {
      const cur = files.get(path) ?? new Uint8Array(0);
      const room = Math.max(0, quota.bytes - used());
      const n = Math.min(buf.length, room);
      const next = new Uint8Array(Math.max(cur.length, at + n));
      next.set(cur);
      next.set(buf.subarray(0, n), at);
      files.set(path, next);
      return n === buf.length ? n : 4294967288; // the quirk: a huge count instead of an exception
    },
    flush: () => {},
    close: () => {},
  });
  return {
    ...mem,
    async listAsync(prefix = '') { return [...files].filter(([p]) => p.startsWith(prefix)).map(([path, f]) => ({ path, bytes: f.length })); },
    async getAsync(path) { const f = files.get(path); return f ? new Blob([f as BlobPart]) : null; },
    async sizeAsync(path) { return files.get(path)?.length ?? null; },
    async readAsync(path) { return files.get(path) ?? null; },
    async putAsync(path, data) { const w = syncHandleWriter(handleFor(path), true); await writeAllAsync(w, data); await w.closeAsync(); },
    async openAppendAsync(path, o = {}) { return syncHandleWriter(handleFor(path), o.truncate === true); },
    async moveAsync(from, to) { const f = files.get(from); if (!f) throw new Error('missing'); files.delete(from); files.set(to, f); },
    async deleteAsync(path) { files.delete(path); },
  };
}

describe('two ways to hash, one check: a native digest of the stored file, or hash-wasm while streaming', () => {
  const ONE_SHOT = { oneShotMaxBytes: undefined };
  const STREAMING = { oneShotMaxBytes: 0 };
  /** The native one-shot digests of exactly `n` bytes (the whole file) made during the test. */
  const wholeFileDigests = (spy: typeof digestSpy, n: number): number =>
    spy.mock.calls.filter((c: unknown[]) => (c[1] as Uint8Array).byteLength === n).length;
  let digestSpy: { mock: { calls: unknown[][] }; mockClear(): void; mockRestore(): void };
  beforeAll(() => { digestSpy = vi.spyOn(globalThis.crypto.subtle, 'digest'); });
  afterEach(() => { digestSpy.mockClear(); });
  afterAll(() => { digestSpy.mockRestore(); });

  for (const [name, mode] of [['one-shot', ONE_SHOT], ['streaming', STREAMING]] as const) {
    it(`${name}: a corrupted byte is refused (INTEGRITY_MISMATCH), fetched again once, and nothing is kept`, async () => {
      const data = fakeOnnx(150_000, 71);
      server.set(`/corrupt-${name}.onnx`, data, { corruptAt: 99_999 });
      const store = createMemoryStore();
      await expectAppError(downloadFileAsync(target(`/corrupt-${name}.onnx`, data), { store, network: network(), ...fast, ...mode }), 'INTEGRITY_MISMATCH', /sha256.*expected.*deleted both times/);
      await noPartialOrFinal(store, `blobs/corrupt-${name}.onnx`);
      // The one-shot path really hashed the whole stored file natively (twice: both downloads); streaming never did.
      expect(wholeFileDigests(digestSpy, data.length)).toBe(name === 'one-shot' ? 2 : 0);
    });
  }

  for (const [from, to, first, second] of [['streaming', 'one-shot', STREAMING, ONE_SHOT], ['one-shot', 'streaming', ONE_SHOT, STREAMING]] as const) {
    it(`a .part left by the ${from} path resumes on the ${to} path and verifies`, async () => {
      const data = fakeOnnx(160_000, from === 'streaming' ? 73 : 74);
      const path = `/switch-${from}.onnx`;
      server.set(path, data, { dropAfter: [64_000] });
      const store = createMemoryStore();
      await expectAppError(downloadFileAsync(target(path, data), { store, network: network(), ...fast, ...first, maxAttempts: 1 }), 'MODEL_FETCH_FAILED', /after 1 tries/);
      expect((await storedBytes(store, `blobs${path}.part`))?.length).toBe(64_000);
      const stats = await downloadFileAsync(target(path, data), { store, network: network(), ...fast, ...second });
      expect(stats).toMatchObject({ resumedFromBytes: 64_000, bytesFetched: data.length - 64_000, sha256: sha(data) });
      expect(await storedBytes(store, `blobs${path}`)).toEqual(data);
    });
  }

  it('one-shot hashes what is stored: a .part damaged on disk between sessions is caught and fetched again from byte 0', async () => {
    const data = fakeOnnx(120_000, 75);
    server.set('/damaged-part.onnx', data);
    const store = createMemoryStore();
    const part = data.slice(0, 80_000);
    part[12_345] = part[12_345]! ^ 0xff;
    await store.putAsync('blobs/damaged-part.onnx.part', part);
    const stats = await downloadFileAsync(target('/damaged-part.onnx', data), { store, network: network(), ...fast });
    expect(stats).toMatchObject({ resumedFromBytes: 80_000, bytesFetched: 40_000 + data.length, sha256: sha(data) });
    expect(await storedBytes(store, 'blobs/damaged-part.onnx')).toEqual(data);
  });

  it('files of unknown size, and files above oneShotMaxBytes, stream; a pin still refuses a changed file', async () => {
    const data = fakeOnnx(90_000, 76);
    server.set('/unknown-size.onnx', data);
    const store = createMemoryStore();
    const first = await downloadFileAsync(target('/unknown-size.onnx', data, { sha256: undefined, sizeUnknown: true }), { store, network: network(), ...fast });
    expect(first).toMatchObject({ sha256: sha(data), verifiedBy: 'first-download' });
    expect(wholeFileDigests(digestSpy, data.length)).toBe(0);
    const changed = fakeOnnx(90_000, 77);
    server.set('/unknown-size.onnx', changed);
    await store.deleteAsync('blobs/unknown-size.onnx');
    // Now the pin gives the size, so the one-shot path runs — and refuses the changed file.
    await expectAppError(downloadFileAsync(target('/unknown-size.onnx', data, { sha256: undefined, sizeUnknown: true }), { store, network: network(), ...fast }), 'INTEGRITY_MISMATCH', /changed on the server/);
    expect(wholeFileDigests(digestSpy, data.length)).toBe(2);
    const big = await downloadFileAsync(target('/unknown-size.onnx', changed), { store, network: network(), ...fast, oneShotMaxBytes: changed.length - 1 });
    expect(big.sha256).toBe(sha(changed));
    expect(wholeFileDigests(digestSpy, data.length)).toBe(2);
  });
});

describe('stores verify what is stored', () => {
  it('the memory store lays a file of announced size out in one buffer, keeps what was there, and survives a wrong announcement', async () => {
    const store = createMemoryStore();
    const data = fakeOnnx(10_000, 78);
    const w1 = await store.openAppendAsync('blobs/slab.part', { truncate: true, expectedBytes: 10_000 });
    await w1.writeAsync(data.subarray(0, 3000));
    await w1.closeAsync();
    const w2 = await store.openAppendAsync('blobs/slab.part', { expectedBytes: 10_000 });
    expect(w2.size).toBe(3000);
    const reused = data.slice(3000, 7000);
    await w2.writeAsync(reused);
    reused.fill(0); // the caller reuses its buffer: the store kept a copy
    await w2.writeAsync(data.subarray(7000));
    expect(await store.sizeAsync!('blobs/slab.part')).toBe(10_000);
    const bytes = await store.readAsync!('blobs/slab.part');
    expect(bytes).toEqual(data);
    expect(bytes!.byteLength).toBe(bytes!.buffer.byteLength); // one piece, nothing joined
    // More bytes than announced still land (in a second piece), and readAsync joins them once.
    await w2.writeAsync(data.subarray(0, 5));
    expect(await storedBytes(store, 'blobs/slab.part')).toEqual(new Uint8Array([...data, ...data.subarray(0, 5)]));
    expect(await store.readAsync!('blobs/slab.part')).toEqual(new Uint8Array([...data, ...data.subarray(0, 5)]));
  });

  it('the sync-handle writer refuses a write() that returns 4294967288 and truncates back', async () => {
    const quota = { bytes: 1000 };
    const store = quirkyQuotaStore(quota);
    const w = await store.openAppendAsync('blobs/x', { truncate: true });
    await w.writeAsync(new Uint8Array(800).fill(1));
    const err = await w.writeAsync(new Uint8Array(400).fill(2)).then(() => null, (e: unknown) => e as Error);
    expect(err?.name).toBe('QuotaExceededError');
    expect(err?.message).toMatch(/write\(\) reported 4294967288/);
    expect(w.size).toBe(800);
    expect((await store.getAsync('blobs/x'))?.size).toBe(800);
  });

  it('#15.1: at the quota the download fails QUOTA_EXCEEDED, nothing is committed, and more room resumes it to a verified file', async () => {
    const data = fakeOnnx(300_000, 40);
    server.set('/quota.onnx', data);
    const quota = { bytes: 120_000 };
    const store = quirkyQuotaStore(quota);
    await expectAppError(downloadFileAsync(target('/quota.onnx', data), { store, network: network(), ...fast }), 'QUOTA_EXCEEDED', /quota\.onnx: .*more is needed/);
    expect(await store.getAsync('blobs/quota.onnx')).toBeNull();
    const part = (await storedBytes(store, 'blobs/quota.onnx.part'))!;
    expect(part.length).toBeLessThanOrEqual(120_000);
    expect(part).toEqual(data.subarray(0, part.length));
    quota.bytes = 1e9;
    const before = server.log.length;
    const stats = await downloadFileAsync(target('/quota.onnx', data), { store, network: network(), ...fast });
    expect(server.log[before]!.range).toBe(`bytes=${part.length}-`);
    expect(stats.bytesFetched).toBe(data.length - part.length);
    expect(await storedBytes(store, 'blobs/quota.onnx')).toEqual(data);
  });
});

describe('every wait is bounded, and downloads stop on request', () => {
  it('#15.3: a server that accepts but never sends headers times out, retries visibly, and fails naming the host', async () => {
    const data = fakeOnnx(1000, 41);
    server.set('/hang.onnx', data, { hangHeaders: true });
    const retries: string[] = [];
    const t0 = Date.now();
    const err = await expectAppError(downloadFileAsync(target('/hang.onnx', data), {
      store: createMemoryStore(), network: network(), ...fast, headersTimeoutMs: 200, maxAttempts: 3, retryDelayMs: () => 1000,
      onProgress: (p) => { if (p.retry) retries.push(retryLine(p.retry)); },
    }), 'MODEL_FETCH_FAILED', /after 3 tries\. Last problem: no answer from http:\/\/127\.0\.0\.1:\d+ within 0 s\./);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(retries).toContain(`retrying in 1 s (try 2 of 3): no answer from ${server.url} within 0 s`);
    expect(retries.some((r) => r.includes('(try 3 of 3)'))).toBe(true);
    expect(err.hint).toMatch(/connection/);
  });

  it('Cancel stops the network at once and keeps the .part; downloading again fetches only the rest', async () => {
    const data = fakeOnnx(400_000, 42);
    server.set('/cancel.onnx', data, { trickle: { bytes: 20_000, ms: 20 } });
    const store = createMemoryStore();
    const ctl = new AbortController();
    const p = downloadFileAsync(target('/cancel.onnx', data), { store, network: network(), ...fast, signal: ctl.signal, onProgress: (q) => { if (q.bytes >= 100_000) ctl.abort(); } });
    await expectAppError(p, 'CANCELLED');
    const part = (await storedBytes(store, 'blobs/cancel.onnx.part'))!;
    expect(part.length).toBeGreaterThanOrEqual(100_000);
    expect(part).toEqual(data.subarray(0, part.length));
    await new Promise((r) => setTimeout(r, 100));
    const sentThen = server.log.at(-1)!.sent;
    await new Promise((r) => setTimeout(r, 200));
    expect(server.log.at(-1)!.sent).toBe(sentThen); // nothing more was sent after Cancel
    server.set('/cancel.onnx', data);
    const stats = await downloadFileAsync(target('/cancel.onnx', data), { store, network: network(), ...fast });
    expect(stats.resumedFromBytes).toBe(part.length);
    expect(stats.bytesFetched).toBe(data.length - part.length);
    expect(await storedBytes(store, 'blobs/cancel.onnx')).toEqual(data);
  });

  it('Cancel during a retry wait ends the wait at once', async () => {
    const data = fakeOnnx(1000, 43);
    server.set('/wait.onnx', data, { status: 503 });
    const ctl = new AbortController();
    const t0 = Date.now();
    const p = downloadFileAsync(target('/wait.onnx', data), {
      store: createMemoryStore(), network: network(), ...fast, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), retryDelayMs: () => 60_000,
      signal: ctl.signal, onProgress: (q) => { if (q.retry) ctl.abort(); },
    });
    await expectAppError(p, 'CANCELLED');
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('#15.4: resume decided from what a browser can see', () => {
  it('without a visible Content-Range, 206 + Content-Length resumes and fetches every byte once', async () => {
    const data = fakeOnnx(200_000, 44);
    server.set('/hidden-cr.onnx', data, { dropAfter: [60_000, 50_000], noContentRange: true });
    const before = server.log.length;
    const store = createMemoryStore();
    const stats = await downloadFileAsync(target('/hidden-cr.onnx', data), { store, network: network(), ...fast });
    const reqs = server.log.slice(before);
    expect(reqs.map((r) => r.range)).toEqual([null, 'bytes=60000-', 'bytes=110000-']);
    expect(stats).toMatchObject({ resumes: 2, bytesFetched: data.length });
    expect(await storedBytes(store, 'blobs/hidden-cr.onnx')).toEqual(data);
  });

  it('a 206 whose Content-Length does not fit the missing bytes starts over cleanly (and still verifies)', async () => {
    const data = fakeOnnx(100_000, 45);
    const other = fakeOnnx(100_000 + 1, 45);
    server.set('/odd.onnx', data, { dropAfter: [30_000] });
    const store = createMemoryStore();
    await store.putAsync('blobs/odd.onnx.part', other.subarray(0, 10)); // a .part the server's file cannot continue
    server.set('/odd.onnx', other.subarray(0, 100_000 + 1), { noContentRange: true });
    await expectAppError(downloadFileAsync(target('/odd.onnx', data), { store, network: network(), ...fast }), 'MODEL_FETCH_FAILED', /manifest expects/);
    await noPartialOrFinal(store, 'blobs/odd.onnx');
  });
});

describe('every file verified', () => {
  const noSha = { sha256: undefined };
  it('a file without sha256 is checked against the host\'s advertised hash (exposed ETag) when visible', async () => {
    const data = fakeOnnx(30_000, 46);
    server.set('/etag-ok.onnx', data, { headers: { etag: `"${sha(data)}"` }, exposeHeaders: 'ETag' });
    const store = createMemoryStore();
    const stats = await downloadFileAsync(target('/etag-ok.onnx', data, noSha), { store, network: network(), ...fast });
    expect(stats).toMatchObject({ verifiedBy: 'host', sha256: sha(data) });
    const bad = fakeOnnx(30_000, 47);
    server.set('/etag-bad.onnx', bad, { headers: { 'x-linked-etag': sha(data) } });
    await expectAppError(downloadFileAsync(target('/etag-bad.onnx', bad, noSha), { store, network: network(), ...fast }), 'INTEGRITY_MISMATCH', /expected .* \(from the host\)/);
    await noPartialOrFinal(store, 'blobs/etag-bad.onnx');
  });

  it('the LFS CDN URL of Hugging Face carries the sha256', () => {
    const h = 'ab'.repeat(32);
    const none = { get: () => null };
    expect(advertisedSha256({ headers: none, url: `https://cdn-lfs.huggingface.co/repos/aa/bb/cc/${h}?x=1` })).toBe(h);
    expect(advertisedSha256({ headers: none, url: `https://cdn-lfs-us-1.hf.co/repos/aa/bb/${h}` })).toBe(h);
    expect(advertisedSha256({ headers: none, url: `https://example.com/${h}` })).toBeNull();
    expect(advertisedSha256({ headers: { get: (n: string) => (n === 'etag' ? '"0123456789abcdef0123456789abcdef01234567"' : null) }, url: '' })).toBeNull(); // a git sha1
  });

  it('trust on first use: the first sha256 is recorded and shown; a later different file is refused', async () => {
    const v1 = new TextEncoder().encode(JSON.stringify({ red: 1, grey: 2 }));
    const v2 = new TextEncoder().encode(JSON.stringify({ red: 3, grey: 2 })); // one changed digit
    server.set('/tok/vocab.json', v1);
    const store = createMemoryStore();
    const t = target('/tok/vocab.json', v1, { ...noSha, kind: 'json', sizeUnknown: true });
    const first = await downloadFileAsync(t, { store, network: network(), ...fast });
    expect(first).toMatchObject({ verifiedBy: 'first-download', sha256: sha(v1) });
    expect(await readPinAsync(store, t.url)).toMatchObject({ sha256: sha(v1), bytes: v1.length });
    await store.deleteAsync(t.storePath);
    server.set('/tok/vocab.json', v2);
    const err = await expectAppError(downloadFileAsync(t, { store, network: network(), ...fast }), 'INTEGRITY_MISMATCH', /changed on the server since it was first downloaded/);
    expect(err.message).toContain(sha(v1));
    await noPartialOrFinal(store, t.storePath);
    server.set('/tok/vocab.json', v1);
    expect(await downloadFileAsync(t, { store, network: network(), ...fast })).toMatchObject({ verifiedBy: 'pinned' });
  });

  it('a corrupt file is fetched again from byte 0, not kept', async () => {
    const data = fakeOnnx(40_000, 48);
    server.set('/flaky.onnx', data, { corruptAt: 12_345, corruptTimes: 1 });
    const store = createMemoryStore();
    const stats = await downloadFileAsync(target('/flaky.onnx', data), { store, network: network(), ...fast });
    expect(stats.bytesFetched).toBe(2 * data.length);
    expect(await storedBytes(store, 'blobs/flaky.onnx')).toEqual(data);
  });

  it('no ±5 %: a file 1 % off the manifest size is refused', async () => {
    const data = fakeOnnx(10_100, 49);
    server.set('/near.onnx', data);
    await expectAppError(downloadFileAsync(target('/near.onnx', data, { ...noSha, bytes: 10_000 }), { store: createMemoryStore(), network: network(), ...fast }), 'MODEL_FETCH_FAILED', /10100 bytes\) but the manifest expects .*10000 bytes/);
  });

  it('a moved revision re-downloads only files whose hash changed; a stored file of the wrong size is replaced', async () => {
    const a = fakeOnnx(20_000, 50);
    const b1 = fakeOnnx(20_000, 51);
    const b2 = fakeOnnx(20_000, 52);
    server.set('/rev1/a.onnx', a); server.set('/rev1/b.onnx', b1);
    server.set('/rev2/a.onnx', a); server.set('/rev2/b.onnx', b2);
    const store = createMemoryStore();
    const byHash = (p: string, d: Uint8Array): DownloadTarget => target(p, d, { storePath: `blobs/sha256/${sha(d)}` });
    await downloadFilesAsync([byHash('/rev1/a.onnx', a), byHash('/rev1/b.onnx', b1)], { store, network: network(), ...fast });
    const before = server.log.length;
    await downloadFilesAsync([byHash('/rev2/a.onnx', a), byHash('/rev2/b.onnx', b2)], { store, network: network(), ...fast });
    expect(server.log.slice(before).map((r) => r.path)).toEqual(['/rev2/b.onnx']);
    await store.putAsync(`blobs/sha256/${sha(a)}`, a.subarray(0, 100)); // damaged on disk
    await downloadFilesAsync([byHash('/rev2/a.onnx', a)], { store, network: network(), ...fast });
    expect(await storedBytes(store, `blobs/sha256/${sha(a)}`)).toEqual(a);
  });
});

describe('downloadFilesAsync / quota', () => {
  it('checks the quota before starting and names the sizes', async () => {
    const data = fakeOnnx(10_000, 19);
    server.set('/q.onnx', data);
    const before = server.log.length;
    await expectAppError(
      downloadFilesAsync([target('/q.onnx', data)], { store: createMemoryStore(), network: network(), ...fast, estimate: async () => ({ usage: 995_000, quota: 1_000_000 }) }),
      'QUOTA_EXCEEDED', /needs 10\.0 kB.*only 5\.0 kB is free/);
    expect(server.log.length).toBe(before);
    await expect(checkQuotaAsync(100, async () => { throw new Error('SecurityError'); })).resolves.toBeUndefined();
  });

  it("one file's verification overlaps the next file's transfer; every file is still verified before it is committed", async () => {
    const files = [fakeOnnx(120_000, 22), fakeOnnx(90_000, 23), fakeOnnx(60_000, 24)];
    files.forEach((f, i) => server.set(`/p/${i}.onnx`, f));
    const mem = createMemoryStore();
    const events: string[] = [];
    const store: ModelStore = { ...mem, moveAsync: async (from, to) => { events.push(`commit ${to}`); await mem.moveAsync(from, to); } };
    const fetchLogged = (u: string, init?: RequestInit): Promise<Response> => { events.push(`fetch ${new URL(u).pathname}`); return fetch(u, init); };
    const progress: number[] = [];
    const stats = await downloadFilesAsync(files.map((f, i) => target(`/p/${i}.onnx`, f)), {
      store, network: { domains: [server.url], fetch: fetchLogged }, ...fast, onProgress: (p) => progress.push(p.bytes),
    });
    expect(stats.map((x) => x.sha256)).toEqual(files.map(sha));
    for (const [i, f] of files.entries()) expect(await storedBytes(store, `blobs/p/${i}.onnx`)).toEqual(f);
    // The next file's request goes out before the previous file is committed (its digest runs meanwhile)…
    expect(events.indexOf('fetch /p/1.onnx')).toBeLessThan(events.indexOf('commit blobs/p/0.onnx'));
    expect(events.indexOf('fetch /p/2.onnx')).toBeLessThan(events.indexOf('commit blobs/p/1.onnx'));
    // …but never before the previous file's last byte is stored: one file at a time on the network.
    expect(events.filter((e) => e.startsWith('fetch'))).toEqual(['fetch /p/0.onnx', 'fetch /p/1.onnx', 'fetch /p/2.onnx']);
    expect(progress.at(-1)).toBe(270_000);
    expect(progress.every((b, i) => i === 0 || b >= progress[i - 1]!)).toBe(true);
  });

  it('a corrupt file reports INTEGRITY_MISMATCH even while the next file is downloading; a 404 later reports the 404', async () => {
    const a = fakeOnnx(80_000, 25);
    const b = fakeOnnx(300_000, 26);
    server.set('/q/a.onnx', a, { corruptAt: 1234 });
    server.set('/q/b.onnx', b);
    const store = createMemoryStore();
    await expectAppError(downloadFilesAsync([target('/q/a.onnx', a), target('/q/b.onnx', b)], { store, network: network(), ...fast }), 'INTEGRITY_MISMATCH', /a\.onnx is corrupt/);
    await noPartialOrFinal(store, 'blobs/q/a.onnx');
    const c = fakeOnnx(50_000, 27);
    server.set('/q/c.onnx', c);
    await expectAppError(downloadFilesAsync([target('/q/c.onnx', c), target('/q/missing.onnx', c)], { store, network: network(), ...fast }), 'MODEL_FETCH_FAILED', /HTTP 404/);
    expect(await storedBytes(store, 'blobs/q/c.onnx')).toEqual(c);
  });

  it('downloads several files with model-level progress and skips files already stored', async () => {
    const a = fakeOnnx(30_000, 20);
    const b = fakeOnnx(40_000, 21);
    server.set('/m/a.onnx', a);
    server.set('/m/b.onnx', b);
    const store = createMemoryStore();
    await store.putAsync('blobs/m/a.onnx', a);
    const progress: { bytes: number; total: number }[] = [];
    const stats = await downloadFilesAsync([target('/m/a.onnx', a), target('/m/b.onnx', b)], { store, network: network(), ...fast, onProgress: (p) => progress.push(p) });
    expect(stats).toHaveLength(1);
    expect(progress[0]).toMatchObject({ bytes: 30_000, total: 70_000 });
    expect(progress.at(-1)).toMatchObject({ bytes: 70_000, total: 70_000 });
  });
});

describe('checkMagic', () => {
  it('accepts ONNX (0x08) and rejects "<", other bytes, empty', () => {
    expect(checkMagic('onnx', Uint8Array.from([0x08, 0x07]))).toBeNull();
    expect(checkMagic('onnx', new TextEncoder().encode('<html>'))).toMatch(/web page/);
    expect(checkMagic('onnx', new TextEncoder().encode('<?x'))).toMatch(/"<"/);
    expect(checkMagic('onnx', Uint8Array.from([0x50, 0x4b]))).toMatch(/0x50, expected 0x08/);
    expect(checkMagic('json', new TextEncoder().encode(' {"a":1}'))).toBeNull();
    expect(checkMagic('json', new TextEncoder().encode('Not found'))).toMatch(/not JSON/);
    expect(checkMagic('data', new Uint8Array(0))).toMatch(/empty/);
  });
});
