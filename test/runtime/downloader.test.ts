import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import { AppError } from '../../protocol/errors';
import { downloadFileAsync, downloadFilesAsync, checkQuotaAsync, checkMagic, type DownloadTarget } from '../../ui/runtime/downloader';
import { createMemoryStore } from '../../ui/runtime/store/memory-store';
import type { ModelStore } from '../../ui/runtime/store/model-store';
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
const fast = { sleep: async () => {}, stallTimeoutMs: 300, progressIntervalMs: 0 };
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
      const stats = await downloadFileAsync(target(path, data), { store, network: network(), ...fast });
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
    await expectAppError(downloadFileAsync(target('/busy.onnx', data), { store, network: network(), ...fast, maxAttempts: 3 }), 'MODEL_FETCH_FAILED', /after 3 tries \(HTTP 503\)/);
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

  it('a write refused for quota → QUOTA_EXCEEDED and the partial file is removed', async () => {
    const data = fakeOnnx(50_000, 18);
    server.set('/big.onnx', data);
    const store = createMemoryStore({ quotaBytes: 20_000 });
    await expectAppError(downloadFileAsync(target('/big.onnx', data), { store, network: network(), ...fast }), 'QUOTA_EXCEEDED', /Not enough storage/);
    await noPartialOrFinal(store, 'blobs/big.onnx');
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
