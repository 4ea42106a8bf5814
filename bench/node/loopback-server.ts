/**
 * A node:http file server on 127.0.0.1 for the download figures: Range requests (206), CORS `*`, byte accounting,
 * and an optional connection drop halfway through the first full response (to measure resume cost).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackServer {
  readonly url: string;
  /** Body bytes written to sockets since the last reset. */
  bytesSent(): number;
  requests(): number;
  reset(opts?: { dropFirstAt?: number }): void;
  closeAsync(): Promise<void>;
}

export async function startLoopbackServerAsync(files: Readonly<Record<string, Uint8Array>>): Promise<LoopbackServer> {
  let sent = 0;
  let count = 0;
  let dropAt: number | null = null;
  const server = http.createServer((req, res) => {
    count++;
    const name = decodeURIComponent((req.url ?? '/').split('?')[0]!.slice(1));
    const body = files[name];
    const headers: http.OutgoingHttpHeaders = { 'access-control-allow-origin': '*', 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    if (!body) {
      res.writeHead(404, headers).end();
      return;
    }
    let start = 0;
    let end = body.length - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), end) : end;
      if (start > end) {
        res.writeHead(416, { ...headers, 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { ...headers, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${body.length}` });
    } else {
      res.writeHead(200, { ...headers, 'content-length': body.length });
    }
    const slice = body.subarray(start, end + 1);
    const cut = dropAt;
    if (cut !== null && !range) {
      dropAt = null;
      // Send the first `cut` bytes, then kill the socket mid-body.
      const part = slice.subarray(0, cut);
      sent += part.length;
      res.write(part, () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    const CHUNK = 1 << 20;
    let off = 0;
    const pump = () => {
      while (off < slice.length) {
        const chunk = slice.subarray(off, off + CHUNK);
        off += chunk.length;
        sent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    bytesSent: () => sent,
    requests: () => count,
    reset(opts = {}) {
      sent = 0;
      count = 0;
      dropAt = opts.dropFirstAt ?? null;
    },
    closeAsync: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Plain fetch of the whole body as a stream (what a downloader competes with). Returns bytes received. */
export async function rawFetchAsync(url: string): Promise<number> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`GET ${url}: ${res.status}`);
  const reader = res.body.getReader();
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return n;
    n += value.length;
  }
}
