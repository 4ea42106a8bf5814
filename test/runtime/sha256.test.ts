import { describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import { createSha256, createSha256Async, nativeSha256Available, sha256HexOfBytesAsync, sha256HexOneShotAsync } from '../../ui/runtime/sha256';
import { seededRandom } from './fault-server';

describe('createSha256', () => {
  it('matches node:crypto for many sizes and chunkings (padding edges 55/56/64)', () => {
    const rnd = seededRandom(3);
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 65_537]) {
      const data = new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = Math.floor(rnd() * 256);
      const want = crypto.createHash('sha256').update(data).digest('hex');
      const h = createSha256();
      let off = 0;
      while (off < n) { const k = 1 + Math.floor(rnd() * 100); h.update(data.subarray(off, off + k)); off += k; }
      expect(h.length).toBe(n);
      expect(h.digestHex()).toBe(want);
    }
    expect((() => { const h = createSha256(); h.update(new TextEncoder().encode('abc')); return h.digestHex(); })())
      .toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('createSha256Async (hash-wasm)', () => {
  it('matches node:crypto across chunkings, and several hashers run side by side', async () => {
    const rnd = seededRandom(4);
    for (const n of [0, 1, 55, 56, 64, 65, 1000, 300_001]) {
      const data = new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = Math.floor(rnd() * 256);
      const want = crypto.createHash('sha256').update(data).digest('hex');
      const a = await createSha256Async();
      const b = await createSha256Async();
      let off = 0;
      while (off < n) { const k = 1 + Math.floor(rnd() * 70_000); a.update(data.subarray(off, off + k)); b.update(data.subarray(off, off + k)); off += k; }
      expect(a.length).toBe(n);
      expect(a.digestHex()).toBe(want);
      expect(b.digestHex()).toBe(want);
    }
  });
});

describe('native one-shot sha256 (WebCrypto)', () => {
  it('matches node:crypto, also for a view into a larger buffer', async () => {
    expect(nativeSha256Available()).toBe(true);
    const rnd = seededRandom(5);
    const big = new Uint8Array(200_003);
    for (let i = 0; i < big.length; i++) big[i] = Math.floor(rnd() * 256);
    for (const data of [new Uint8Array(0), big.subarray(0, 55), big.subarray(17, 100_017), big]) {
      const want = crypto.createHash('sha256').update(data).digest('hex');
      expect(await sha256HexOneShotAsync(data)).toBe(want);
      expect(await sha256HexOfBytesAsync(data)).toBe(want);
    }
  });
});
