/**
 * #15.8: a model host that redirects to a server that cannot be reached is reported against the server it redirected
 * to, not the host the user configured (real sockets, Node's fetch following redirects).
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchAllowedAsync } from '../../ui/runtime/fetch-allowed';

let server: http.Server;
let origin = '';
let dead = '';

beforeAll(async () => {
  // A port nothing listens on: bind, read the port, close.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  dead = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise<void>((r) => probe.close(() => r()));
  server = http.createServer((req, res) => {
    if (req.url === '/to-dead') res.writeHead(302, { location: `${dead}/blob/model.onnx` }).end();
    else if (req.url === '/to-elsewhere') res.writeHead(302, { location: 'https://evil.example/model.onnx' }).end();
    else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('redirects to unreachable hosts (#15.8)', () => {
  it('names the host that could not be reached', async () => {
    const err = await fetchAllowedAsync(`${origin}/to-dead`, {}, { domains: [origin, dead] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MODEL_FETCH_FAILED', message: expect.stringContaining(`${origin} redirected to ${dead}, which could not be reached`) });
    expect((err as Error).message).not.toMatch(new RegExp(`^Could not reach ${origin}`));
  });

  it('a redirect off the allowlist that fails is refused as not allowed', async () => {
    const err = await fetchAllowedAsync(`${origin}/to-elsewhere`, {}, { domains: [origin], fetch: async (u, i) => {
      if (i?.redirect === 'manual') return fetch(u, i);
      throw new TypeError('fetch failed');
    } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NETWORK_NOT_ALLOWED', message: `${origin} redirected to https://evil.example, which the plugin may not download from.` });
  });

  it('an unreachable host without a redirect is still reported against itself', async () => {
    const err = await fetchAllowedAsync(`${dead}/m.onnx`, {}, { domains: [dead] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MODEL_FETCH_FAILED', message: expect.stringMatching(new RegExp(`^Could not reach ${dead}`)) });
  });
});
