/**
 * Bench plumbing: figure status against targets, the table, the timed SessionSource, and the loopback server's
 * Range support and mid-file drop (what the download figures rely on).
 */
import { describe, expect, it } from 'vitest';
import { figure, formatTable, naFigure } from '../../bench/common/report';
import { createTimedSource } from '../../bench/common/timed-source';
import { rawFetchAsync, startLoopbackServerAsync } from '../../bench/node/loopback-server';
import type { SessionSource } from '../../ui/core/session';

describe('bench figures', () => {
  it('mark pass / miss against the target, info without one, n/a for missing values', () => {
    expect(figure('S', 'ratio', 1.01, { target: '≤ 1.02', pass: (v) => v <= 1.02 }).status).toBe('pass');
    expect(figure('S', 'ratio', 1.05, { target: '≤ 1.02', pass: (v) => v <= 1.02 }).status).toBe('miss');
    expect(figure('S', 'time', 412.4, { unit: 'ms' })).toMatchObject({ status: 'info', value: '412 ms' });
    expect(figure('S', 'x', null, { naReason: 'no runtime' })).toMatchObject({ status: 'n/a', note: 'no runtime' });
    const table = formatTable([figure('A', 'one', 1.5, { target: '≤ 2', pass: (v) => v <= 2 }), naFigure('B', 'two', '≥ 1', 'why')]);
    expect(table.split('\n')).toHaveLength(2 + 4);
    expect(table).toMatch(/\[A\][\s\S]*one\s+\| 1\.500 \| ≤ 2\s+\| PASS[\s\S]*\[B\][\s\S]*two\s+\| n\/a\s+\| ≥ 1\s+\| N\/A/);
  });

  it('time every runAsync of a wrapped SessionSource without changing results', async () => {
    const inner: SessionSource = {
      acquireAsync: async () => ({
        inputNames: ['x'], outputNames: ['y'],
        runAsync: async (feeds) => { await new Promise((r) => setTimeout(r, 15)); return { y: feeds.x! }; },
        releaseAsync: async () => undefined,
      }),
      doneWithAsync: async () => undefined,
    };
    const timed = createTimedSource(inner);
    const s = await timed.source.acquireAsync('unet');
    const x = { kind: 'host', dtype: 'float32', dims: [1], data: Float32Array.from([3]) } as const;
    expect((await s.runAsync({ x })).y).toBe(x);
    await s.runAsync({ x });
    expect(timed.runs.map((r) => r.role)).toEqual(['unet', 'unet']);
    for (const r of timed.runs) expect(r.ms).toBeGreaterThanOrEqual(10);
    expect(timed.acquires).toHaveLength(1);
  });
});

describe('bench loopback server', () => {
  it('serves ranges, counts bytes, and drops the first full response halfway when asked', async () => {
    const file = Uint8Array.from({ length: 300_000 }, (_, i) => i % 251);
    const server = await startLoopbackServerAsync({ 'f.bin': file });
    try {
      const url = `${server.url}f.bin`;
      expect(await rawFetchAsync(url)).toBe(file.length);
      const part = await fetch(url, { headers: { range: 'bytes=1000-1999' } });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${file.length}`);
      expect(new Uint8Array(await part.arrayBuffer())).toEqual(file.subarray(1000, 2000));
      server.reset({ dropFirstAt: 100_000 });
      await expect(rawFetchAsync(url)).rejects.toThrow();
      expect(server.bytesSent()).toBe(100_000);
      expect(await rawFetchAsync(url)).toBe(file.length);
      expect(server.requests()).toBe(2);
    } finally {
      await server.closeAsync();
    }
  });
});
