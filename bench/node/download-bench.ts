/**
 * Download figures on loopback: the runtime's downloader against a raw fetch of the same file (throughput ratio),
 * and the extra bytes the downloader pulls when the connection drops halfway (resume cost, target ≤ 1 %).
 */
import { figure, naFigure, type Figure } from '../common/report';
import { rawFetchAsync, startLoopbackServerAsync } from './loopback-server';
import type { SectionResult } from './node-bench';

/** Downloads `url` (`bytes` long) completely, however the runtime does it (store, verify, resume). */
export type DownloadFn = (url: string, bytes: number) => Promise<void>;

const S = 'Download (loopback)';

export async function benchDownloadAsync(file: Uint8Array, download: DownloadFn | null, missingReason: string, hashRate: number | null = null, jsHashRate: number | null = null, nativeHashRate: number | null = null): Promise<SectionResult> {
  const server = await startLoopbackServerAsync({ 'model.onnx': file });
  const url = `${server.url}model.onnx`;
  const best = async (fn: () => Promise<unknown>, n: number) => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await fn();
      times.push(performance.now() - t);
    }
    return Math.min(...times);
  };
  try {
    const rawMs = await best(() => rawFetchAsync(url), 3);
    const mibps = (t: number) => file.length / 2 ** 20 / (t / 1000);
    const figures: Figure[] = [figure(S, `Raw fetch, ${(file.length / 2 ** 20).toFixed(0)} MiB file`, mibps(rawMs), { unit: 'MiB/s', digits: 0 })];
    const details: Record<string, unknown> = { fileBytes: file.length, rawMs };
    if (!download) {
      figures.push(
        naFigure(S, 'Downloader ÷ raw fetch throughput', '≥ 0.9', missingReason),
        naFigure(S, 'Extra bytes after a mid-file drop', '≤ 1 %', missingReason),
      );
      return { figures, details };
    }
    const dlMs = await best(() => download(url, file.length), 3);
    server.reset({ dropFirstAt: Math.floor(file.length / 2) });
    let dropError: string | null = null;
    try {
      await download(url, file.length);
    } catch (err) {
      dropError = err instanceof Error ? err.message : String(err);
    }
    const extra = server.bytesSent() - file.length;
    figures.push(
      figure(S, 'Downloader throughput (memory store, sha256 verified)', mibps(dlMs), { unit: 'MiB/s', digits: 0 }),
      figure(S, "The runtime's streaming sha256 alone (hash-wasm; files over 2 GiB)", hashRate, { unit: 'MiB/s', digits: 0, naReason: 'not measured' }),
      figure(S, "The runtime's one-shot native sha256 alone (WebCrypto; files up to 2 GiB)", nativeHashRate, { unit: 'MiB/s', digits: 0, naReason: 'not measured' }),
      figure(S, 'Ceiling: 1 ÷ (1 + raw rate ÷ native digest rate), before any store write', nativeHashRate ? 1 / (1 + mibps(rawMs) / nativeHashRate) : null, {
        digits: 2, naReason: 'not measured', note: 'the most any download verified by a one-shot digest after its last byte can reach against this raw fetch',
      }),
      figure(S, 'hash-wasm ÷ the pure-JS sha256 it replaced', hashRate !== null && jsHashRate ? hashRate / jsHashRate : null, { digits: 1, naReason: 'not measured' }),
      figure(S, 'Downloader ÷ raw fetch throughput', rawMs / dlMs, {
        digits: 2, target: '≥ 0.9', pass: (v) => v >= 0.9,
        note: "Node stand-in for the product path (the Chromium worker rows below are the product path): the loopback server runs on the same thread as the downloader here, so every CPU cycle the downloader spends slows the server too. A file up to 2 GiB is stored, read back and hashed in one native WebCrypto digest after the last byte (the CPU's SHA instructions); the digest cannot overlap the fetch (WebCrypto has no streaming digest), so on loopback the ratio is at most 1 ÷ (1 + raw rate ÷ native hash rate)",
      }),
      dropError
        ? naFigure(S, 'Extra bytes after a mid-file drop', '≤ 1 %', `the download failed after the drop instead of resuming: ${dropError}`)
        : figure(S, 'Extra bytes after a mid-file drop', (100 * extra) / file.length, {
          unit: '%', digits: 2, target: '≤ 1 %', pass: (v) => v <= 1, note: `${server.requests()} requests, ${extra} extra bytes`,
        }),
    );
    Object.assign(details, { downloaderMs: dlMs, dropRequests: server.requests(), extraBytes: extra, dropError });
    return { figures, details };
  } finally {
    await server.closeAsync();
  }
}
