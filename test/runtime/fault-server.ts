/**
 * A node:http file server on 127.0.0.1 (random port) for download tests, with injectable faults per file:
 * connection drops at given offsets, a corrupted byte, HTTP errors, a slow trickle, a stall, a wrong content type or
 * an HTML body, and servers that ignore Range. Counts requests and body bytes sent.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FileFaults {
  /** Each full or ranged response i drops the connection after dropAfter[i] body bytes (undefined = no drop). */
  dropAfter?: (number | undefined)[];
  /** Flip the bits of the byte at this absolute offset in every response. */
  corruptAt?: number;
  status?: number;
  contentType?: string;
  /** Replace the body (e.g. an HTML error page). */
  body?: Uint8Array;
  /** Send in chunks of `bytes` every `ms`. */
  trickle?: { bytes: number; ms: number };
  /** Response i stops sending (keeps the socket open) after stallAfter[i] bytes. */
  stallAfter?: (number | undefined)[];
  ignoreRange?: boolean;
  /** Accept the request but never send headers (a hung host). */
  hangHeaders?: boolean;
  /** `Access-Control-Expose-Headers` value; absent by default (then a browser cannot read Content-Range or ETag). */
  exposeHeaders?: string;
  /** Extra response headers (ETag, X-Linked-Etag…). */
  headers?: Record<string, string>;
  /** Send no Content-Range on 206 (what a browser sees cross-origin when the header is not exposed). */
  noContentRange?: boolean;
  /** Corrupt only the first `corruptTimes` responses (with corruptAt). */
  corruptTimes?: number;
}

export interface FaultServer {
  readonly url: string;
  readonly log: { path: string; range: string | null; status: number; sent: number }[];
  bytesSent(): number;
  set(path: string, data: Uint8Array, faults?: FileFaults): void;
  closeAsync(): Promise<void>;
}

export async function startFaultServerAsync(): Promise<FaultServer> {
  const files = new Map<string, { data: Uint8Array; faults: FileFaults; served: number }>();
  const log: FaultServer['log'] = [];
  let sent = 0;
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const f = files.get(path);
    const entry = { path, range: (req.headers.range as string | undefined) ?? null, status: 0, sent: 0 };
    log.push(entry);
    const base: http.OutgoingHttpHeaders = { 'access-control-allow-origin': '*', 'cache-control': 'no-store' };
    if (req.method === 'OPTIONS') {
      entry.status = 204;
      res.writeHead(204, { ...base, 'access-control-allow-headers': 'range', 'access-control-allow-methods': 'GET, HEAD' }).end();
      return;
    }
    if (!f) { entry.status = 404; res.writeHead(404, { ...base, 'content-type': 'text/plain' }).end('not found'); return; }
    const index = f.served++;
    const { faults } = f;
    if (faults.hangHeaders) { entry.status = -1; return; } // keep the socket open, answer nothing
    if (faults.exposeHeaders) base['access-control-expose-headers'] = faults.exposeHeaders;
    Object.assign(base, faults.headers ?? {});
    if (faults.status) { entry.status = faults.status; res.writeHead(faults.status, { ...base, 'content-type': 'text/plain' }).end('error'); return; }
    let body = faults.body ?? f.data;
    if (faults.corruptAt !== undefined && !faults.body && (faults.corruptTimes === undefined || index < faults.corruptTimes)) { body = body.slice(); body[faults.corruptAt] = body[faults.corruptAt]! ^ 0xff; }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(entry.range ?? '');
    const headers = { ...base, 'content-type': faults.contentType ?? 'application/octet-stream', 'accept-ranges': 'bytes' };
    if (m && !faults.ignoreRange) {
      start = Number(m[1]);
      if (start >= body.length) { entry.status = 416; res.writeHead(416, { ...headers, 'content-range': `bytes */${body.length}` }).end(); return; }
      entry.status = 206;
      res.writeHead(206, { ...headers, 'content-length': body.length - start, ...(faults.noContentRange ? {} : { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` }) });
    } else {
      entry.status = 200;
      res.writeHead(200, { ...headers, 'content-length': body.length });
    }
    const slice = body.subarray(start);
    const drop = faults.dropAfter?.[index];
    const stall = faults.stallAfter?.[index];
    const limit = Math.min(slice.length, drop ?? Infinity, stall ?? Infinity);
    const step = faults.trickle?.bytes ?? 64 * 1024;
    let off = 0;
    const finish = (): void => {
      if (drop !== undefined && drop < slice.length) {
        // Drop once what was written has left this process (so the client really got `drop` bytes), like a
        // connection lost mid-file.
        res.write(new Uint8Array(0), () => setTimeout(() => req.socket.destroy(), 30));
        return;
      }
      if (stall !== undefined && stall < slice.length) return; // keep the socket open, send nothing more
      res.end();
    };
    let gone = false;
    res.on('close', () => { gone = true; });
    const pump = (): void => {
      while (off < limit) {
        if (gone) return; // the client went away (Cancel, timeout): send nothing more
        const chunk = slice.subarray(off, Math.min(limit, off + step));
        off += chunk.length;
        sent += chunk.length;
        entry.sent += chunk.length;
        const ok = res.write(chunk);
        if (faults.trickle) { setTimeout(pump, faults.trickle.ms); return; }
        if (!ok) { res.once('drain', pump); return; }
      }
      finish();
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    bytesSent: () => sent,
    set(path, data, faults = {}) { files.set(path, { data, faults, served: 0 }); },
    closeAsync: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** Deterministic PRNG (mulberry32) for seeded fault offsets. */
export { seededRandom } from '../helpers/seeded-random';
