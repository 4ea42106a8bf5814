/**
 * The download figures where the product downloads: a dedicated worker in Debian Chromium (like the engine worker),
 * fetching cross-origin from the Node loopback file server (bench/node/loopback-server.ts; the model host is always
 * another origin than the UI). Raw fetch and the runtime's downloader run in the same worker, round by round, on the
 * same URL; see bench/chromium/download-worker.ts for what each row measures.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { launchChromiumPersistent } from '../../test/helpers/chromium';
import { figure, naFigure, type Figure } from '../common/report';
import { startLoopbackServerAsync } from '../node/loopback-server';
import type { BenchPaths, SectionResult } from '../node/node-bench';
import type { DownloadBenchRequest, DownloadBenchResult } from './download-worker';

const S = 'Download (loopback, Chromium worker — the product path)';
const MiB = 2 ** 20;

async function bundleWorkerAsync(paths: BenchPaths): Promise<string> {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    entryPoints: [path.join(paths.root, 'bench/chromium/download-worker.ts')],
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'error',
  });
  return out.outputFiles[0]!.text;
}

/** One file of a whole model for the model-level rows. */
export interface ModelFile { readonly name: string; readonly bytes: Uint8Array; readonly sha256: string }

export async function chromiumDownloadBenchAsync(paths: BenchPaths, file: Uint8Array, sha256: string, opts: { rounds?: number; model?: readonly ModelFile[] } = {}): Promise<SectionResult> {
  const workerJs = await bundleWorkerAsync(paths);
  const model = opts.model ?? [];
  const host = await startLoopbackServerAsync({ 'model.onnx': file, ...Object.fromEntries(model.map((m) => [`m/${m.name}`, m.bytes])) });
  const page = http.createServer((req, res) => {
    if (req.url === '/worker.js') res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' }).end(workerJs);
    else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><meta charset="utf-8"><title>download bench</title>');
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  // Another port is another origin: the request is cross-origin, as from the plugin UI to a model host.
  const pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;
  // A regular on-disk profile, as a designer has: Playwright's default contexts are off-the-record, where OPFS lives
  // in memory behind an IPC per call (measured here: sync-handle writes ~3× and reads ~10× slower than on disk).
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-download-profile-'));
  const browser = await launchChromiumPersistent(profile);
  try {
    const tab = browser.pages()[0] ?? await browser.newPage();
    await tab.goto(pageUrl);
    const req: DownloadBenchRequest = {
      url: `${host.url}model.onnx`, bytes: file.length, sha256, rounds: opts.rounds ?? 5,
      model: model.map((m) => ({ url: `${host.url}m/${m.name}`, bytes: m.bytes.length, sha256: m.sha256, name: m.name })),
    };
    const r = await tab.evaluate((q) => new Promise<DownloadBenchResult>((resolve, reject) => {
      const w = new Worker('/worker.js', { type: 'module' });
      w.onmessage = (e: MessageEvent<DownloadBenchResult>) => { resolve(e.data); w.terminate(); };
      w.onerror = (e) => reject(new Error(e.message));
      w.postMessage(q);
    }), req);
    const modelBytes = model.reduce((n, m) => n + m.bytes.length, 0);
    const rate = (k: string): number | null => (r.ms[k] !== undefined ? (k.startsWith('model') || k === 'rawModel' ? modelBytes : file.length) / MiB / (r.ms[k]! / 1000) : null);
    const why = (k: string): string => r.errors[k] ?? r.errors.opfs ?? 'not measured';
    const raw = rate('raw');
    /** Median over rounds of raw ms ÷ k ms, each pair measured back to back in one round (robust to load swings). */
    const pairedRatio = (k: string, base = 'raw'): { median: number; all: number[] } | null => {
      const a = r.rounds[base] ?? [];
      const b = r.rounds[k] ?? [];
      const rs = a.slice(0, b.length).map((x, i) => x / b[i]!).filter(Number.isFinite).sort((x, y) => x - y);
      return rs.length ? { median: rs[Math.floor(rs.length / 2)]!, all: rs } : null;
    };
    const paired = (name: string, k: string, base = 'raw'): Figure => {
      const p = pairedRatio(k, base);
      return figure(S, name, p?.median ?? null, {
        digits: 2, target: '≥ 0.9', pass: (v) => v >= 0.9, naReason: why(k),
        ...(p ? { note: `median of ${p.all.length} rounds, each ${base === 'raw' ? 'raw fetch' : 'raw model fetch'} then the downloader back to back: ${p.all.map((x) => x.toFixed(2)).join(', ')}` } : {}),
      });
    };
    const mibps = (name: string, k: string, note?: string): Figure => figure(S, name, rate(k), { unit: 'MiB/s', digits: 0, naReason: why(k), ...(note ? { note } : {}) });
    const figures: Figure[] = [
      mibps(`Raw fetch, ${(file.length / MiB).toFixed(0)} MiB file (${r.chunks.count} chunks of ${(r.chunks.meanBytes / 1024).toFixed(0)} KiB on average)`, 'raw'),
      mibps('Downloader → OPFS (hosted mode), sha256 verified', 'downloaderOpfs'),
      mibps('Downloader → memory store (inline mode), sha256 verified', 'downloaderMemory'),
      mibps('Downloader → OPFS, hash-wasm while streaming (files over 2 GiB; every file before)', 'downloaderOpfsStreaming'),
      mibps('Downloader → memory, hash-wasm while streaming', 'downloaderMemoryStreaming'),
      mibps('Fetch + OPFS writes, no hash (the store alone)', 'fetchWriteOpfs'),
      mibps('SHA-256 alone: hash-wasm, streaming, 1 MiB updates', 'hashWasm'),
      mibps("SHA-256 alone: WebCrypto one-shot (BoringSSL, the CPU's SHA instructions)", 'webCrypto'),
      mibps('Reading a stored file back from OPFS (sync access handle)', 'readBackOpfs'),
      mibps('Floor, OPFS: fetch + writes, read back, one native digest — nothing else', 'minimalOpfs'),
      mibps('Floor, memory: fetch + copy into one buffer, one native digest — nothing else', 'minimalMemory'),
      paired('Downloader → OPFS ÷ raw fetch', 'downloaderOpfs'),
      paired('Downloader → memory ÷ raw fetch', 'downloaderMemory'),
      figure(S, 'Ceiling: 1 ÷ (1 + raw rate ÷ native digest rate), before any store write', raw !== null && rate('webCrypto') !== null ? 1 / (1 + raw / rate('webCrypto')!) : null, {
        digits: 2, naReason: why('webCrypto'),
        note: 'a verified file is accepted only after its last byte is hashed; the SHA-256 fast enough for loopback (native, the CPU\'s SHA instructions) is one-shot in browsers (WebCrypto has no streaming digest), so it cannot overlap the transfer, and every streaming SHA-256 a page can run (WebAssembly) is slower than the transfer itself (hash-wasm row)',
      }),
      figure(S, 'Floor ÷ raw fetch, OPFS (fetch + store + one digest, nothing else)', pairedRatio('minimalOpfs')?.median ?? null, { digits: 2, naReason: why('minimalOpfs') }),
      figure(S, 'Floor ÷ raw fetch, memory', pairedRatio('minimalMemory')?.median ?? null, { digits: 2, naReason: why('minimalMemory') }),
      figure(S, 'Before (hash-wasm while streaming) ÷ raw fetch: OPFS', pairedRatio('downloaderOpfsStreaming')?.median ?? null, { digits: 2, naReason: why('downloaderOpfsStreaming') }),
      figure(S, 'Before (hash-wasm while streaming) ÷ raw fetch: memory', pairedRatio('downloaderMemoryStreaming')?.median ?? null, { digits: 2, naReason: why('downloaderMemoryStreaming') }),
      ...(model.length > 0 ? [
        mibps(`Whole model (${model.length} files, ${(model.reduce((n, m) => n + m.bytes.length, 0) / MiB).toFixed(0)} MiB), raw fetch of each in turn`, 'rawModel', model.map((m) => `${m.name} ${(m.bytes.length / MiB).toFixed(1)} MiB`).join(', ')),
        mibps('Whole model, downloader → OPFS (a file\'s digest overlaps the next transfer)', 'modelOpfs'),
        mibps('Whole model, downloader → memory', 'modelMemory'),
        mibps('Whole model → memory, each file verified before the next starts (no overlap)', 'modelMemorySerial'),
        paired('Whole model → OPFS ÷ raw fetch', 'modelOpfs', 'rawModel'),
        paired('Whole model → memory ÷ raw fetch', 'modelMemory', 'rawModel'),
        figure(S, 'Whole model → memory, overlapped ÷ one file after another', pairedRatio('modelMemory', 'modelMemorySerial')?.median ?? null, { digits: 2, naReason: why('modelMemorySerial'), note: 'median over rounds; > 1: overlapping a file\'s digest with the next transfer helps' }),
      ] : []),
    ];
    return { figures, details: { fileBytes: file.length, ms: r.ms, rounds: r.rounds, errors: r.errors, chunks: r.chunks, chromiumVersion: browser.browser()?.version() ?? null } };
  } catch (err) {
    return { figures: [naFigure(S, 'Downloader ÷ raw fetch', '≥ 0.9', err instanceof Error ? err.message : String(err))], details: {} };
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
    await host.closeAsync();
    await new Promise<void>((resolve) => { page.closeAllConnections(); page.close(() => resolve()); });
  }
}
