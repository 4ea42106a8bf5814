/**
 * Serves test/ui/app-page.tsx (the real app over a fake engine and bridge) on a free loopback port for the UI's
 * Chromium tests. Returns the page's URL and a close function.
 */
import http from 'node:http';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { ROOT } from '../helpers/paths';

export interface AppPageServer {
  readonly base: string;
  closeAsync(): Promise<void>;
}

export async function serveAppPageAsync(opts: { sourcemap?: boolean } = {}): Promise<AppPageServer> {
  const out = await esbuild.build({
    entryPoints: [path.join(ROOT, 'test/ui/app-page.tsx')],
    bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2022',
    jsx: 'automatic', jsxImportSource: 'preact', sourcemap: opts.sourcemap ? 'inline' : false, logLevel: 'warning',
  });
  const js = out.outputFiles[0]!.text;
  const html = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>UI test</title></head><body><div id="root"></div><script src="/app.js"></script></body></html>';
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/app.js')) res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(js);
    else res.writeHead(200, { 'Content-Type': 'text/html' }).end(html);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    base: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    closeAsync: () => new Promise<void>((r) => server.close(() => r())),
  };
}
