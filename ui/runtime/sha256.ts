/**
 * Incremental SHA-256, so a multi-GB download is hashed while it streams, without holding the file in memory
 * (WebCrypto's subtle.digest needs the whole buffer). Checked against node:crypto in test/runtime.
 *
 * - `createSha256Async()`: hash-wasm's WebAssembly SHA-256 (a well-kept library, several times faster than JS) — what
 *   downloads use; it runs in the engine worker, off the UI thread. Falls back to the JS one where WebAssembly cannot
 *   be compiled.
 * - `createSha256()`: a small synchronous pure-JS FIPS 180-4 implementation for short inputs (store paths from URLs)
 *   and as the fallback.
 * - `sha256HexOneShotAsync()`: the platform's native SHA-256 (WebCrypto `subtle.digest`: BoringSSL in Chromium,
 *   OpenSSL in Node, both using the CPU's SHA instructions where it has them) over a whole buffer — several times the
 *   wasm rate, but one-shot: the caller holds the whole file, and WebCrypto copies its input once more.
 */
import { createSHA256 as createWasmSha256 } from 'hash-wasm';

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

export interface Sha256 {
  update(chunk: Uint8Array): void;
  /** Lowercase hex; the hasher cannot be used afterwards. */
  digestHex(): string;
  /** Bytes hashed so far. */
  readonly length: number;
}

export function createSha256(): Sha256 {
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const block = new Uint8Array(64);
  let blockLen = 0;
  let total = 0;
  let done = false;

  const compress = (b: Uint8Array, off: number): void => {
    for (let i = 0; i < 16; i++) {
      const j = off + i * 4;
      w[i] = (b[j]! << 24) | (b[j + 1]! << 16) | (b[j + 2]! << 8) | b[j + 3]!;
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15]!;
      const y = w[i - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = h[0]!, bb = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, hh = h[7]!;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[i]! + w[i]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & bb) ^ (a & c) ^ (bb & c);
      const t2 = (S0 + maj) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = bb; bb = a; a = (t1 + t2) | 0;
    }
    h[0] = (h[0]! + a) | 0; h[1] = (h[1]! + bb) | 0; h[2] = (h[2]! + c) | 0; h[3] = (h[3]! + d) | 0;
    h[4] = (h[4]! + e) | 0; h[5] = (h[5]! + f) | 0; h[6] = (h[6]! + g) | 0; h[7] = (h[7]! + hh) | 0;
  };

  return {
    get length() { return total; },
    update(chunk) {
      if (done) throw new Error('sha256: update after digest');
      total += chunk.length;
      let i = 0;
      if (blockLen > 0) {
        const take = Math.min(64 - blockLen, chunk.length);
        block.set(chunk.subarray(0, take), blockLen);
        blockLen += take;
        i = take;
        if (blockLen === 64) { compress(block, 0); blockLen = 0; }
      }
      for (; i + 64 <= chunk.length; i += 64) compress(chunk, i);
      if (i < chunk.length) { block.set(chunk.subarray(i), 0); blockLen = chunk.length - i; }
    },
    digestHex() {
      done = true;
      const bits = total * 8;
      const pad = new Uint8Array(blockLen < 56 ? 64 : 128);
      pad.set(block.subarray(0, blockLen));
      pad[blockLen] = 0x80;
      const dv = new DataView(pad.buffer);
      dv.setUint32(pad.length - 8, Math.floor(bits / 2 ** 32));
      dv.setUint32(pad.length - 4, bits >>> 0);
      for (let off = 0; off < pad.length; off += 64) compress(pad, off);
      let hex = '';
      for (const x of h) hex += (x >>> 0).toString(16).padStart(8, '0');
      return hex;
    },
  };
}

/** The streaming hasher downloads use: hash-wasm's WebAssembly SHA-256, or the JS one where wasm is unavailable. */
export async function createSha256Async(): Promise<Sha256> {
  let wasm: Awaited<ReturnType<typeof createWasmSha256>>;
  try {
    wasm = await createWasmSha256();
  } catch {
    return createSha256();
  }
  wasm.init();
  let total = 0;
  let done = false;
  return {
    get length() { return total; },
    update(chunk) {
      if (done) throw new Error('sha256: update after digest');
      total += chunk.length;
      wasm.update(chunk);
    },
    digestHex() {
      done = true;
      return wasm.digest('hex');
    },
  };
}

type Digest = (algorithm: string, data: Uint8Array) => Promise<ArrayBuffer>;

function nativeDigest(): Digest | null {
  const subtle = (globalThis as { crypto?: { subtle?: { digest?: Digest } } }).crypto?.subtle;
  return typeof subtle?.digest === 'function' ? subtle.digest.bind(subtle) : null;
}

/** Whether `sha256HexOneShotAsync` can run here (WebCrypto exists: a secure context, a worker of one, or Node). */
export function nativeSha256Available(): boolean {
  return nativeDigest() !== null;
}

/** Lowercase hex SHA-256 of `data` by the platform's native WebCrypto digest (throws where there is none). */
export async function sha256HexOneShotAsync(data: Uint8Array): Promise<string> {
  const digest = nativeDigest();
  if (!digest) throw new Error('sha256: WebCrypto is not available here');
  const bytes = new Uint8Array(await digest('SHA-256', data));
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** Largest input hashed in one native digest (2 GiB, above the largest file in the catalogue, 1.73 GB). */
export const ONE_SHOT_MAX_BYTES = 2 * 2 ** 30;

/**
 * Lowercase hex SHA-256 of bytes already in memory: one native digest where WebCrypto exists and the input is at most
 * ONE_SHOT_MAX_BYTES (WebCrypto copies its input for the moment of the digest), else hash-wasm in 1 MiB steps.
 */
export async function sha256HexOfBytesAsync(bytes: Uint8Array): Promise<string> {
  if (bytes.length <= ONE_SHOT_MAX_BYTES && nativeSha256Available()) return sha256HexOneShotAsync(bytes);
  const h = await createSha256Async();
  for (let at = 0; at < bytes.length; at += 1 << 20) h.update(bytes.subarray(at, at + (1 << 20)));
  return h.digestHex();
}
