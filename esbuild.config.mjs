// Builds the plugin:
//   dist/code.js   — Figma main thread (ES2020 IIFE, no DOM)
//   dist/ui.html   — inline mode: one self-contained HTML (JS, CSS, worker and gzip'd ORT wasm inlined) that runs in
//                    Figma's null-origin iframe with no storage;
//                    hosted mode: a tiny bootstrap that redirects the iframe to the hosted app (URL set at build time)
//   dist/app/      — hosted mode: the static app (index.html, app.js, worker.js, ORT wasm) for a real origin
// Usage: node esbuild.config.mjs [--mode inline|hosted] [--hosted-url URL] [--figma-origin ORIGIN] [--outdir DIR]
//        [--dev-catalog URL]   (an extra model catalogue; the harness serves its proof models this way)
//        [--server-host URL]…  (a team's ComfyUI/SwarmUI server, e.g. https://gpu.team.example:8188; repeatable, no `*`:
//                               the UI may reach it, and dist/manifest.json lists it for Figma)
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'manifest.json'), 'utf8'));

/** The ORT wasm binary the worker's ORT build loads (onnxruntime-web/webgpu → the asyncify build). */
export const ORT_WASM_FILES = ['ort-wasm-simd-threaded.asyncify.wasm'];
const ORT_DIST = path.join(ROOT, 'node_modules/onnxruntime-web/dist');

export const DEFAULTS = {
  mode: 'inline',
  hostedUrl: 'http://localhost:8788/app/index.html',
  figmaOrigin: 'https://www.figma.com',
  outdir: path.join(ROOT, 'dist'),
  devCatalog: '',
  serverHosts: [],
  minify: true,
};

/**
 * A team's server host → the allowlist entries it adds (http(s) for the API, ws(s) for ComfyUI's progress socket).
 * One explicit origin: no wildcard, no path.
 */
export function serverHostEntries(input) {
  const text = String(input).trim();
  if (text.includes('*')) throw new Error(`--server-host must name one host, without wildcards: "${text}"`);
  let u;
  try {
    u = new URL(text);
  } catch {
    throw new Error(`--server-host must be a URL like https://gpu.example.com:8188, got "${text}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`--server-host must start with http:// or https://, got "${text}"`);
  if (u.pathname !== '/' || u.search || u.hash || u.username || u.password) throw new Error(`--server-host is an origin only (scheme, host, port), got "${text}"`);
  const ws = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return [`${u.protocol}//${u.host}`, `${ws}//${u.host}`];
}

const serverEntries = (opts) => [...new Set((opts.serverHosts ?? []).flatMap(serverHostEntries))];

const uiDefines = (opts) => ({
  __UI_MODE__: JSON.stringify(opts.mode),
  __PLUGIN_ID__: JSON.stringify(manifest.id),
  __FIGMA_ORIGIN__: JSON.stringify(opts.figmaOrigin),
  __PLUGIN_VERSION__: JSON.stringify(pkg.version),
  __DEV_CATALOG_URL__: JSON.stringify(opts.devCatalog),
  __SERVER_HOSTS__: JSON.stringify(serverEntries(opts)),
});

/**
 * The bundled upscalers (Boost): ESRGAN-slim ×2/×4 converted from the `@upscalerjs/esrgan-slim` npm package by
 * tools/upscale at build time (the TypeScript converter is bundled for Node and imported once per process). Inline
 * mode: inert base64 data blocks after the app script (like the ORT wasm); hosted mode: files under app/upscalers/.
 */
let builtUpscalers = null;
async function upscalersAsync() {
  if (builtUpscalers) return builtUpscalers;
  const out = await esbuild.build({
    entryPoints: [path.join(ROOT, 'tools/upscale/build-upscalers.ts')],
    bundle: true, write: false, platform: 'node', format: 'esm', target: 'node20',
    external: ['onnxruntime-web'],
    banner: { js: "import { createRequire as __upCreateRequire } from 'node:module'; const require = __upCreateRequire(import.meta.url);" },
    logLevel: 'error',
  });
  // Written inside the repo so the bundled converter finds the npm package through node_modules.
  const tmp = path.join(ROOT, 'node_modules', '.cache', `build-upscalers-${process.pid}-${Date.now()}.mjs`);
  fs.mkdirSync(path.dirname(tmp), { recursive: true });
  fs.writeFileSync(tmp, out.outputFiles[0].text);
  try {
    const { buildUpscalers } = await import(pathToFileURL(tmp).href);
    builtUpscalers = buildUpscalers();
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return builtUpscalers;
}

const upscalerElementId = (u) => `upscaler-${u.id}`;
const upscalerMeta = (u) => ({ id: u.id, name: u.name, scale: u.scale, range: u.range, receptiveRadius: u.receptiveRadius, licence: u.licence });

async function buildWorkerAsync(opts) {
  const entry = path.join(ROOT, 'ui/runtime/worker/engine-worker.ts');
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife', // classic worker: module workers from blob:/data: URLs fail in the null-origin iframe
    platform: 'browser',
    target: 'es2022',
    minify: opts.minify,
    // ORT's bundle references import.meta.url to find its files; a classic worker has none, so give it the worker's
    // own URL (we always pass the wasm explicitly: bytes inline, wasmPaths hosted).
    define: { ...uiDefines(opts), 'import.meta.url': '__importMetaUrl' },
    logLevel: 'warning',
    banner: { js: 'var __importMetaUrl = self.location ? String(self.location.href) : "";' },
  });
  return result.outputFiles[0].text;
}

function ortWasmGzipBase64() {
  return ORT_WASM_FILES.map((f) => ({ name: f, gz: gzipBase64Cached(path.join(ORT_DIST, f)) }));
}

/**
 * gzip -9 of the 26 MB ORT wasm, base64. It takes seconds and every inline build needs it (`npm test` builds inline
 * twice and each harness test file once more), so the result is kept in node_modules/.cache, keyed by the wasm's
 * sha256: the same bytes in, the same bytes out. Written to a temporary name and renamed, so a reader never sees half.
 */
function gzipBase64Cached(file) {
  const bytes = fs.readFileSync(file);
  const key = crypto.createHash('sha256').update(bytes).digest('hex');
  const cacheFile = path.join(ROOT, 'node_modules', '.cache', 'local-diffusion-build', `${path.basename(file)}-${key}.gz.b64`);
  if (fs.existsSync(cacheFile)) return fs.readFileSync(cacheFile, 'utf8');
  const gz = zlib.gzipSync(bytes, { level: 9 }).toString('base64');
  try {
    fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
    const tmp = `${cacheFile}.${process.pid}-${Date.now()}.tmp`;
    fs.writeFileSync(tmp, gz);
    fs.renameSync(tmp, cacheFile);
  } catch {
    // A read-only node_modules: build without the cache.
  }
  return gz;
}

/** esbuild plugin: `virtual:worker-source` and `virtual:ort-wasm` modules. */
function virtualModules(values) {
  return {
    name: 'virtual-modules',
    setup(build) {
      build.onResolve({ filter: /^virtual:/ }, (args) => ({ path: args.path, namespace: 'virtual' }));
      build.onLoad({ filter: /.*/, namespace: 'virtual' }, (args) => {
        if (!(args.path in values)) return { errors: [{ text: `unknown virtual module ${args.path}` }] };
        return { contents: `export default ${JSON.stringify(values[args.path])};`, loader: 'js' };
      });
    },
  };
}

async function buildUiAsync(opts, virtuals) {
  const result = await esbuild.build({
    entryPoints: [path.join(ROOT, 'ui/main.tsx')],
    bundle: true,
    write: false,
    outdir: 'out',
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: opts.minify,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    define: uiDefines(opts),
    loader: { '.css': 'css' },
    plugins: [virtualModules(virtuals)],
    logLevel: 'warning',
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js')).text;
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '';
  return { js, css };
}

const escapeScript = (js) => js.replace(/<\/script/gi, '<\\/script');

function htmlPage({ title, css, body }) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${css}</style>
</head>
<body>
<div id="root"></div>
${body}
</body>
</html>
`;
}

async function buildPluginAsync(opts) {
  const out = await esbuild.build({
    entryPoints: [path.join(ROOT, 'plugin/code.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'neutral',
    target: 'es2020',
    minify: opts.minify,
    define: {
      __UI_MODE__: JSON.stringify(opts.mode),
      __HOSTED_ORIGIN__: JSON.stringify(new URL(opts.hostedUrl).origin),
      __PLUGIN_VERSION__: JSON.stringify(pkg.version),
    },
    logLevel: 'warning',
  });
  return out.outputFiles[0].text;
}

/** Builds one mode into opts.outdir. Returns the written paths. */
export async function buildAsync(options = {}) {
  const opts = { ...DEFAULTS, ...options };
  fs.mkdirSync(opts.outdir, { recursive: true });
  const workerSource = await buildWorkerAsync(opts);
  const code = await buildPluginAsync(opts);
  fs.writeFileSync(path.join(opts.outdir, 'code.js'), code);
  const written = [path.join(opts.outdir, 'code.js')];
  const extraHosts = serverEntries(opts);
  if (extraHosts.length > 0) {
    // Figma fixes allowedDomains at build time: a build for a team's server ships its own manifest next to the code.
    const m = JSON.parse(JSON.stringify(manifest));
    m.main = 'code.js';
    m.ui = 'ui.html';
    m.networkAccess.allowedDomains = [...new Set([...m.networkAccess.allowedDomains, ...extraHosts])];
    m.networkAccess.reasoning += ` This build also reaches the team's own server (${extraHosts.join(', ')}).`;
    fs.writeFileSync(path.join(opts.outdir, 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`);
    written.push(path.join(opts.outdir, 'manifest.json'));
  }

  if (opts.mode === 'inline') {
    const wasm = ortWasmGzipBase64();
    // The wasm (≈9 MB of base64) sits in inert data blocks *after* the app script: the UI renders first, and the
    // bytes are read only when the engine creates its first session.
    const upscalers = await upscalersAsync();
    const { js, css } = await buildUiAsync(opts, {
      'virtual:worker-source': workerSource,
      'virtual:ort-wasm': wasm.map((w) => ({ name: w.name, elementId: `ort-wasm-${w.name.replace(/[^\w-]/g, '-')}` })),
      'virtual:upscalers': upscalers.map((u) => ({ ...upscalerMeta(u), elementId: upscalerElementId(u) })),
    });
    const data = [
      ...wasm.map((w) => `<script type="application/gzip+base64" id="ort-wasm-${w.name.replace(/[^\w-]/g, '-')}">${w.gz}</script>`),
      ...upscalers.map((u) => `<script type="application/octet-stream+base64" id="${upscalerElementId(u)}">${Buffer.from(u.onnx).toString('base64')}</script>`),
    ].join('\n');
    const html = htmlPage({ title: manifest.name, css, body: `<script>${escapeScript(js)}</script>\n${data}` });
    fs.writeFileSync(path.join(opts.outdir, 'ui.html'), html);
    written.push(path.join(opts.outdir, 'ui.html'));
  } else {
    const appDir = path.join(opts.outdir, 'app');
    fs.mkdirSync(path.join(appDir, 'ort'), { recursive: true });
    const upscalers = await upscalersAsync();
    fs.mkdirSync(path.join(appDir, 'upscalers'), { recursive: true });
    for (const u of upscalers) fs.writeFileSync(path.join(appDir, 'upscalers', `${u.id}.onnx`), u.onnx);
    fs.writeFileSync(path.join(appDir, 'upscalers', 'LICENSE.esrgan-slim.txt'), upscalers[0]?.licence ?? '');
    const { js, css } = await buildUiAsync(opts, {
      'virtual:worker-source': '',
      'virtual:ort-wasm': [],
      'virtual:upscalers': upscalers.map((u) => ({ ...upscalerMeta(u), url: `upscalers/${u.id}.onnx` })),
    });
    fs.writeFileSync(path.join(appDir, 'app.js'), js);
    fs.writeFileSync(path.join(appDir, 'app.css'), css);
    fs.writeFileSync(path.join(appDir, 'worker.js'), workerSource);
    for (const f of ORT_WASM_FILES) fs.copyFileSync(path.join(ORT_DIST, f), path.join(appDir, 'ort', f));
    fs.writeFileSync(
      path.join(appDir, 'index.html'),
      htmlPage({ title: manifest.name, css: '', body: '<link rel="stylesheet" href="app.css">\n<script src="app.js"></script>' }),
    );
    // Figma loads ui.html into its iframe; the bootstrap moves the iframe to the hosted app (a real origin).
    // Opened with themeColors, it carries Figma's theme class; it passes the theme on in the URL hash.
    const bootstrap = `<!doctype html><meta charset="utf-8"><script>var c = document.documentElement.classList;` +
      `var t = c.contains('figma-dark') ? 'dark' : c.contains('figma-light') ? 'light' : '';` +
      `window.location.href = ${JSON.stringify(opts.hostedUrl)} + (t ? '#figma-theme=' + t : '');</script>`;
    fs.writeFileSync(path.join(opts.outdir, 'ui.html'), bootstrap);
    written.push(path.join(opts.outdir, 'ui.html'), appDir);
  }
  return written;
}

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--mode') opts.mode = next();
    else if (a === '--hosted-url') opts.hostedUrl = next();
    else if (a === '--figma-origin') opts.figmaOrigin = next();
    else if (a === '--outdir') opts.outdir = path.resolve(next());
    else if (a === '--dev-catalog') opts.devCatalog = next();
    else if (a === '--server-host') { const h = next(); serverHostEntries(h); opts.serverHosts = [...(opts.serverHosts ?? []), h]; }
    else if (a === '--no-minify') opts.minify = false;
    else throw new Error(`Unknown option ${a}`);
  }
  if (opts.mode && !['inline', 'hosted'].includes(opts.mode)) throw new Error(`--mode must be inline or hosted, got ${opts.mode}`);
  return opts;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const written = await buildAsync(opts);
  for (const w of written) console.log(`built ${path.relative(ROOT, w)}`);
  console.log(`done in ${Date.now() - t0} ms`);
}
