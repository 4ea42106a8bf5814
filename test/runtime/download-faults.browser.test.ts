/**
 * #15 items 1–4 in real Chromium, against a fault-injecting model host on another origin (the UI is always
 * cross-origin to the model host) and a CDP storage-quota override, with the real downloader and the real OPFS store
 * in a worker (FileSystemSyncAccessHandle, as in the engine worker):
 * 1. at the quota limit nothing partial is committed, the error names the file and the space needed, and more room
 *    resumes it to a verified file;
 * 2. a corrupt tokenizer file is re-fetched and refused, never stored;
 * 3. a host that accepts the connection but never answers, and one that stops mid-body, end in bounded time with
 *    visible retries; Cancel stops the network at once and keeps the `.part`;
 * 4. resume works cross-origin with and without `Access-Control-Expose-Headers`, each byte fetched once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import path from 'node:path';
import * as esbuild from 'esbuild';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium';
import { ROOT } from '../helpers/paths';
import { seededRandom, startFaultServerAsync, type FaultServer } from './fault-server';
import type { DownloadTarget } from '../../ui/runtime/downloader';

const sha = (b: Uint8Array): string => crypto.createHash('sha256').update(b).digest('hex');
function fakeOnnx(n: number, seed: number): Uint8Array {
  const rnd = seededRandom(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  b[0] = 0x08;
  return b;
}

let site: FaultServer; // the UI's origin
let host: FaultServer; // the model host: another origin
let browser: Browser;
let page: Page;
let cdp: CDPSession;

beforeAll(async () => {
  site = await startFaultServerAsync();
  host = await startFaultServerAsync();
  const out = await esbuild.build({
    entryPoints: [path.join(ROOT, 'test/runtime/download-faults-worker.ts')], bundle: true, write: false, format: 'iife',
    platform: 'browser', target: 'es2022', logLevel: 'error',
  });
  site.set('/worker.js', out.outputFiles[0]!.contents, { contentType: 'text/javascript' });
  site.set('/page.html', new TextEncoder().encode(`<!doctype html><meta charset="utf-8"><script>
    const w = new Worker('/worker.js'); let n = 0; const waiting = new Map();
    w.onmessage = (e) => { const p = waiting.get(e.data.id); waiting.delete(e.data.id); e.data.error ? p.reject(new Error(e.data.error)) : p.resolve(e.data.value); };
    window.call = (op, args) => new Promise((resolve, reject) => { const id = ++n; waiting.set(id, { resolve, reject }); w.postMessage({ id, op, args }); });
  </script>`), { contentType: 'text/html' });
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.log('[page]', m.text()); });
  await page.goto(`${site.url}/page.html`);
  cdp = await page.context().newCDPSession(page);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await site?.closeAsync();
  await host?.closeAsync();
});

const call = <T>(op: string, args?: unknown): Promise<T> =>
  page.evaluate(([o, a]) => (window as unknown as { call(op: string, args: unknown): Promise<unknown> }).call(o as string, a), [op, args] as const) as Promise<T>;

interface Outcome {
  stats?: { bytesFetched: number; resumes: number; attempts: number; resumedFromBytes: number; sha256: string; verifiedBy: string };
  error?: { code: string; message: string; hint?: string; detail?: string };
  retries: string[];
  ms: number;
}

const target = (p: string, data: Uint8Array, extra: Partial<DownloadTarget> = {}): DownloadTarget =>
  ({ url: `${host.url}${p}`, storePath: `blobs/sha256/${sha(data)}`, bytes: data.length, sha256: sha(data), kind: 'onnx', label: `test: ${p.slice(1)}`, ...extra });
const download = (t: DownloadTarget, o: Record<string, unknown> = {}): Promise<Outcome> =>
  call<Outcome>('download', { target: t, domains: [host.url], retryDelayMs: 50, stallTimeoutMs: 2000, headersTimeoutMs: 2000, ...o });
const stored = (p: string) => call<{ size: number; sha256: string } | null>('sha256', p);
/** Bytes the host has written for `p` (for drops this counts bytes the browser may never have received). */
const sentFor = (p: string) => host.log.filter((l) => l.path === p).reduce((s, l) => s + l.sent, 0);

describe('#15.4 resume works cross-origin', () => {
  it('the premise: without Access-Control-Expose-Headers a page cannot read Content-Range; Content-Length it can', async () => {
    const data = fakeOnnx(1000, 1);
    host.set('/premise-hidden.onnx', data);
    host.set('/premise-exposed.onnx', data, { exposeHeaders: 'Content-Range, ETag' });
    const hidden = await call<{ status: number; contentRange: string | null; contentLength: string | null }>('headersSeen', `${host.url}/premise-hidden.onnx`);
    expect(hidden).toMatchObject({ status: 206, contentRange: null, contentLength: '990' });
    const exposed = await call<{ contentRange: string | null }>('headersSeen', `${host.url}/premise-exposed.onnx`);
    expect(exposed.contentRange).toBe('bytes 10-999/1000');
  });

  for (const expose of [undefined, 'Content-Range, Content-Length, ETag']) {
    it(`two drops ${expose ? 'with' : 'without'} exposed headers: resumed twice, each byte fetched once`, async () => {
      const data = fakeOnnx(3_000_000, expose ? 2 : 3);
      const p = `/resume-${expose ? 'exposed' : 'hidden'}.onnx`;
      // Sent in 64 KiB steps so the page reads as it arrives: when a connection errors, Chromium discards body bytes
      // still queued in the stream (the downloader counts only what it read, and asks for exactly the rest).
      host.set(p, data, { dropAfter: [700_000, 900_000], trickle: { bytes: 65_536, ms: 4 }, ...(expose ? { exposeHeaders: expose } : {}) });
      const before = host.log.length;
      const r = await download(target(p, data));
      expect(r.error).toBeUndefined();
      const reqs = host.log.slice(before).filter((l) => l.path === p);
      // The first request is plain, then each resume asks for the rest and gets 206, later than the one before.
      expect(reqs.map((l) => l.status)).toEqual([200, 206, 206]);
      const starts = reqs.map((l) => Number(/^bytes=(\d+)-$/.exec(l.range ?? 'bytes=0-')![1]));
      expect(starts[0]).toBe(0);
      expect(starts[1]).toBeGreaterThan(0);
      expect(starts[2]).toBeGreaterThan(starts[1]!);
      // Every byte the browser received was used: nothing fetched twice, no restart from 0.
      expect(r.stats).toMatchObject({ resumes: 2, bytesFetched: data.length, verifiedBy: 'manifest' });
      expect(await stored(`blobs/sha256/${sha(data)}`)).toEqual({ size: data.length, sha256: sha(data) });
    });
  }
});

describe('#15.3 every wait ends; Cancel stops the network', () => {
  it('a host that accepts the connection but never sends headers: bounded tries, visible retries, a clear error', async () => {
    const data = fakeOnnx(10_000, 4);
    host.set('/hang.onnx', data, { hangHeaders: true });
    const r = await download(target('/hang.onnx', data), { headersTimeoutMs: 700, maxAttempts: 2, retryDelayMs: 1000 });
    expect(r.error?.code).toBe('MODEL_FETCH_FAILED');
    expect(r.error?.message).toBe(`Downloading test: hang.onnx failed after 2 tries. Last problem: no answer from ${host.url} within 1 s.`);
    expect(r.retries).toContain(`retrying in 1 s (try 2 of 2): no answer from ${host.url} within 1 s`);
    expect(r.ms).toBeLessThan(10_000);
    expect(await stored(`blobs/sha256/${sha(data)}`)).toBeNull();
  });

  it('a connection that keeps dropping: each try resumes, then a clear message with what is kept', async () => {
    const data = fakeOnnx(1_000_000, 8);
    host.set('/drops.onnx', data, { dropAfter: [150_000, 150_000, 150_000], trickle: { bytes: 32_768, ms: 3 } });
    const before = host.log.length;
    const r = await download(target('/drops.onnx', data), { maxAttempts: 3, retryDelayMs: 1000 });
    expect(r.error?.code).toBe('MODEL_FETCH_FAILED');
    expect(r.error?.message).toMatch(/^Downloading test: drops\.onnx failed after 3 tries\. Last problem: the connection was lost: .+\.$/);
    expect(r.error?.hint).toMatch(/^Check your connection and press Download again; it continues from \d+\.\d kB\.$/);
    console.log(`network drop: "${r.error?.message}" — ${r.error?.hint} (while waiting: "${r.retries[0]}")`);
    expect(r.retries[0]).toMatch(/^retrying in 1 s \(try 2 of 3\): the connection was lost: /);
    const reqs = host.log.slice(before).filter((l) => l.path === '/drops.onnx');
    expect(reqs.map((l) => l.status)).toEqual([200, 206, 206]);
    const part = (await stored(`blobs/sha256/${sha(data)}.part`))!;
    expect(part.sha256).toBe(sha(data.subarray(0, part.size))); // kept for Resume, never committed
    expect(await stored(`blobs/sha256/${sha(data)}`)).toBeNull();
  });

  it('a body that stalls is retried from where it stopped', async () => {
    const data = fakeOnnx(500_000, 5);
    host.set('/stall.onnx', data, { stallAfter: [200_000] });
    const r = await download(target('/stall.onnx', data), { stallTimeoutMs: 600 });
    expect(r.error).toBeUndefined();
    expect(r.retries[0]).toMatch(/^retrying in \d+ s \(try 2 of 5\): no data for 1 s$/);
    expect(r.stats).toMatchObject({ resumes: 1, bytesFetched: data.length });
  });

  it('Cancel stops the network at once and keeps the .part; the next download fetches only the rest', async () => {
    const data = fakeOnnx(2_000_000, 6);
    host.set('/cancel.onnx', data, { trickle: { bytes: 32_768, ms: 15 } });
    const r = await download(target('/cancel.onnx', data), { abortAtBytes: 300_000 });
    expect(r.error?.code).toBe('CANCELLED');
    const part = (await stored(`blobs/sha256/${sha(data)}.part`))!;
    expect(part.size).toBeGreaterThanOrEqual(300_000);
    expect(part.sha256).toBe(sha(data.subarray(0, part.size)));
    await new Promise((res) => setTimeout(res, 150));
    const sent = sentFor('/cancel.onnx');
    await new Promise((res) => setTimeout(res, 400));
    expect(sentFor('/cancel.onnx')).toBe(sent); // the host sends nothing more: the request was really aborted
    host.set('/cancel.onnx', data);
    const again = await download(target('/cancel.onnx', data));
    expect(again.stats).toMatchObject({ resumedFromBytes: part.size, bytesFetched: data.length - part.size });
    expect(await stored(`blobs/sha256/${sha(data)}`)).toEqual({ size: data.length, sha256: sha(data) });
  });
});

describe('#15.1 / #15.2 nothing corrupt is ever committed', () => {
  it('at the storage quota: QUOTA_EXCEEDED naming the file and the space needed, nothing committed; with room it resumes', async () => {
    await call('clear');
    const origin = new URL(site.url).origin;
    const usage = (await call<{ usage: number }>('estimate')).usage;
    const data = fakeOnnx(8_000_000, 7);
    host.set('/quota.onnx', data);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 3_000_000 });
    try {
      const r = await download(target('/quota.onnx', data));
      expect(r.error?.code).toBe('QUOTA_EXCEEDED');
      expect(r.error?.message).toMatch(/^Not enough storage space to save test: quota\.onnx: \d+\.\d MB more is needed/);
      expect(r.error?.detail).toMatch(/QuotaExceededError/); // thrown by the browser, or a write() count that did not add up
      console.log(`full disk: "${r.error?.message}" — ${r.error?.hint} [store said: ${r.error?.detail}]`);
      expect(await stored(`blobs/sha256/${sha(data)}`)).toBeNull();
      const part = await stored(`blobs/sha256/${sha(data)}.part`);
      if (part) expect(part.sha256).toBe(sha(data.subarray(0, part.size))); // only verified-length prefix bytes
      expect((await call<{ path: string }[]>('list')).filter((e) => !e.path.endsWith('.part'))).toEqual([]);
    } finally {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    }
    const r2 = await download(target('/quota.onnx', data));
    expect(r2.error).toBeUndefined();
    expect(await stored(`blobs/sha256/${sha(data)}`)).toEqual({ size: data.length, sha256: sha(data) });
  });

  it('a tokenizer file with one changed digit is fetched again, refused and not stored', async () => {
    const good = new TextEncoder().encode(JSON.stringify({ 'red</w>': 736, 'grey</w>': 7048 }));
    const bad = new TextEncoder().encode(new TextDecoder().decode(good).replace('736', '737'));
    host.set('/tok/vocab.json', bad, { contentType: 'application/json' });
    const before = host.log.length;
    const r = await download(target('/tok/vocab.json', good, { kind: 'json' }));
    expect(r.error?.code).toBe('INTEGRITY_MISMATCH');
    console.log(`corrupt file: "${r.error?.message}" — ${r.error?.hint}`);
    expect(host.log.slice(before).filter((l) => l.path === '/tok/vocab.json')).toHaveLength(2); // re-fetched once
    expect(await stored(`blobs/sha256/${sha(good)}`)).toBeNull();
    expect(await stored(`blobs/sha256/${sha(good)}.part`)).toBeNull();
  });
});
