// `npm start`: builds both UI modes and serves the Figma harness.
//   http://localhost:8787/            the harness (simulated document + real plugin + real UI); ?mode=hosted for hosted UI
//   http://localhost:8788/app/        the hosted UI app (a second origin, as a real hosted UI would be)
//   http://localhost:8787/proof-models/  small generated models with real I/O signatures (the dev model catalogue)
// Importable: `startHarnessAsync({ port, appPort, outdir })` (the browser tests use other ports and a temp outdir).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { buildAsync } from '../../esbuild.config.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png',
  '.onnx': 'application/octet-stream', '.txt': 'text/plain; charset=utf-8',
};

function serveDir(dir) {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let rel = decodeURIComponent(url.pathname);
    if (rel.endsWith('/')) rel += 'index.html';
    const file = path.join(dir, path.normalize(rel).replace(/^(\.\.[/\\])+/, ''));
    if (!file.startsWith(dir)) { res.writeHead(403).end(); return; }
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) { res.writeHead(404, { 'Access-Control-Allow-Origin': '*' }).end('not found'); return; }
      const headers = {
        'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
        'Content-Length': st.size,
        'Cache-Control': 'no-store',
        // The inline UI has a null origin: it can only fetch from servers answering ACAO *.
        'Access-Control-Allow-Origin': '*',
        'Accept-Ranges': 'bytes',
      };
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (range) {
        const start = Number(range[1]);
        const end = range[2] ? Math.min(Number(range[2]), st.size - 1) : st.size - 1;
        if (start >= st.size) { res.writeHead(416, { 'Content-Range': `bytes */${st.size}` }).end(); return; }
        res.writeHead(206, { ...headers, 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${st.size}` });
        fs.createReadStream(file, { start, end }).pipe(res);
        return;
      }
      res.writeHead(200, headers);
      if (req.method === 'HEAD') res.end();
      else fs.createReadStream(file).pipe(res);
    });
  };
}

async function buildHarnessPageAsync(outdir) {
  fs.mkdirSync(outdir, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(ROOT, 'test/harness/harness.ts')],
    bundle: true,
    outfile: path.join(outdir, 'harness.js'),
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
  });
  fs.copyFileSync(path.join(ROOT, 'test/harness/index.html'), path.join(outdir, 'index.html'));
}

/** Writes the proof models and their catalogue (test/harness/proof-catalog.ts) into dir, for the given base URL. */
async function writeProofCatalogAsync(dir, baseUrl) {
  // Bundle inside the project (so bare imports resolve to node_modules); test/helpers/paths.ts finds the project
  // root from import.meta.url, so pin that to its source location.
  const tmp = path.join(ROOT, 'dist', '.tmp', `proof-catalog-${process.pid}.mjs`);
  await esbuild.build({
    entryPoints: [path.join(ROOT, 'test/harness/proof-catalog.ts')],
    bundle: true, outfile: tmp, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning',
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(path.join(ROOT, 'test/helpers/paths.ts')).href) },
  });
  const mod = await import(pathToFileURL(tmp).href + `?t=${Date.now()}`);
  await mod.writeProofCatalogAsync(dir, baseUrl);
}

/** Listens first (port 0 = any free port), so the build can bake in the real origins. */
async function listenAsync(port, host) {
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', (err) => reject(err.code === 'EADDRINUSE'
      ? new Error(`Port ${port} is in use (is \`npm start\` already running?). Set PORT / APP_PORT to use others.`)
      : err));
    server.listen(port, host, resolve);
  });
  return server;
}

export async function startHarnessAsync({ port = 8787, appPort = 8788, outdir = path.join(ROOT, 'dist/harness-build'), host = '127.0.0.1', log = console.log, serverHosts = [] } = {}) {
  const siteServer = await listenAsync(port, host);
  const appServer = await listenAsync(appPort, host);
  port = siteServer.address().port;
  appPort = appServer.address().port;
  const harnessOrigin = `http://localhost:${port}`;
  const appOrigin = `http://localhost:${appPort}`;
  // serverHosts: a ComfyUI server (the stand-in in tests) the build may reach, as `--server-host` adds a team's server.
  const common = { figmaOrigin: harnessOrigin, devCatalog: `${harnessOrigin}/proof-models/index.json`, minify: false, serverHosts };
  await buildAsync({ ...common, mode: 'inline', outdir: path.join(outdir, 'site/inline') });
  await buildAsync({ ...common, mode: 'hosted', outdir: path.join(outdir, 'hosted'), hostedUrl: `${appOrigin}/app/index.html` });
  fs.mkdirSync(path.join(outdir, 'site/hosted'), { recursive: true });
  for (const f of ['code.js', 'ui.html']) fs.copyFileSync(path.join(outdir, 'hosted', f), path.join(outdir, 'site/hosted', f));
  await buildHarnessPageAsync(path.join(outdir, 'site'));
  await writeProofCatalogAsync(path.join(outdir, 'site/proof-models'), `${harnessOrigin}/proof-models`);

  const site = siteServer.on('request', serveDir(path.join(outdir, 'site')));
  const app = appServer.on('request', serveDir(path.join(outdir, 'hosted')));
  log(`Harness: ${harnessOrigin}/  (hosted UI: ${harnessOrigin}/?mode=hosted, app origin ${appOrigin})`);
  return {
    url: `${harnessOrigin}/`,
    harnessOrigin,
    appOrigin,
    closeAsync: () => Promise.all([site, app].map((server) => new Promise((r) => {
      server.close(r);
      server.closeAllConnections(); // keep-alive connections from the browser would hold close() open
    }))),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 8787);
  const appPort = Number(process.env.APP_PORT ?? 8788);
  await startHarnessAsync({ port, appPort });
  console.log('Press Ctrl+C to stop.');
}
