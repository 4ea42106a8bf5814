/**
 * Where the Node bench meets ui/runtime: its downloader (ui/runtime/downloader.ts `downloadFileAsync`) into a
 * memory store (what Figma's inline mode uses), with sha256 verification on, behind the allowlist (the loopback
 * origin is the only allowed host).
 */
import { createHash } from 'node:crypto';
import { downloadFileAsync } from '../../ui/runtime/downloader';
import { createMemoryStore } from '../../ui/runtime/store/memory-store';
import { createSha256, createSha256Async, sha256HexOneShotAsync } from '../../ui/runtime/sha256';
import type { BenchPaths } from './node-bench';
import type { DownloadFn } from './download-bench';

/** MiB/s of the runtime's streaming sha256 (hash-wasm) over `file`: a ceiling on the downloader's throughput. */
export async function runtimeSha256RateAsync(file: Uint8Array): Promise<number> {
  const t = performance.now();
  const h = await createSha256Async();
  for (let o = 0; o < file.length; o += 1 << 16) h.update(file.subarray(o, o + (1 << 16)));
  h.digestHex();
  return file.length / 2 ** 20 / ((performance.now() - t) / 1000);
}

/** MiB/s of the native one-shot sha256 the downloader uses for files up to 2 GiB (WebCrypto; OpenSSL in Node). */
export async function nativeSha256RateAsync(file: Uint8Array): Promise<number> {
  const t = performance.now();
  await sha256HexOneShotAsync(file);
  return file.length / 2 ** 20 / ((performance.now() - t) / 1000);
}

/** MiB/s of the pure-JS sha256 (what downloads used before hash-wasm), for the side-by-side row. */
export function jsSha256Rate(file: Uint8Array): number {
  const t = performance.now();
  const h = createSha256();
  for (let o = 0; o < file.length; o += 1 << 16) h.update(file.subarray(o, o + (1 << 16)));
  h.digestHex();
  return file.length / 2 ** 20 / ((performance.now() - t) / 1000);
}

export async function createRuntimeDownload(_paths: BenchPaths, file: Uint8Array): Promise<{ download: DownloadFn | null; reason: string; hashRate: number | null; jsHashRate: number | null; nativeHashRate: number | null }> {
  const sha256 = createHash('sha256').update(file).digest('hex');
  const download: DownloadFn = async (url, bytes) => {
    const store = createMemoryStore({ reason: 'bench' });
    const origin = new URL(url).origin;
    await downloadFileAsync(
      { url, storePath: 'unet/model.onnx', bytes, sha256, kind: 'onnx', label: 'unet/model.onnx' },
      { store, network: { domains: [origin] }, sleep: async () => undefined },
    );
    const size = await store.sizeAsync?.('unet/model.onnx');
    if (size !== bytes) throw new Error(`downloaded ${size ?? 0} of ${bytes} bytes`);
  };
  return { download, reason: '', hashRate: await runtimeSha256RateAsync(file), jsHashRate: jsSha256Rate(file), nativeHashRate: await nativeSha256RateAsync(file) };
}
