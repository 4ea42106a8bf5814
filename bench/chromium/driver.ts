/**
 * Node side of the Chromium bench: bundles bench/chromium/page.ts with esbuild, builds the UI with the lead's
 * esbuild.config.mjs (inline mode), serves everything on 127.0.0.1 with node:http, drives Debian Chromium through
 * launchChromium (WebGPU = SwiftShader), and turns the page's measurements into figures.
 * Sizes are tiny here (64² images, 8×8 latents, 77×64 text): SwiftShader WebGPU is ~50× slower than wasm.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../test/helpers/chromium';
import { figure, naFigure, type Figure } from '../common/report';
import { TASKS } from '../common/pipeline-tasks';
import type { BenchPaths, SectionResult } from '../node/node-bench';
import type { PageRunConfig, PageRunResult } from './page';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.json': 'application/json', '.txt': 'text/plain', '.png': 'image/png', '.onnx': 'application/octet-stream',
};

/** Static server: url prefix → directory. */
async function serveAsync(routes: Readonly<Record<string, string>>, pages: Readonly<Record<string, string>>): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    if (pages[url] !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(pages[url]);
      return;
    }
    for (const [prefix, dir] of Object.entries(routes)) {
      if (!url.startsWith(prefix)) continue;
      const file = path.resolve(dir, url.slice(prefix.length));
      if (!file.startsWith(path.resolve(dir)) || !fs.existsSync(file) || !fs.statSync(file).isFile()) break;
      res.writeHead(200, { 'content-type': MIME[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      fs.createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

async function bundlePageAsync(paths: BenchPaths, outFile: string): Promise<void> {
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [path.join(paths.root, 'bench/chromium/page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: outFile,
    logLevel: 'error',
  });
}

/** Builds the UI into bench-results/ui-dist with esbuild.config.mjs's buildAsync; null + reason when it cannot. */
async function buildUiAsync(paths: BenchPaths): Promise<{ dir: string } | { reason: string }> {
  const dir = path.join(paths.out, 'ui-dist');
  try {
    const cfgUrl = new URL(`file://${path.join(paths.root, 'esbuild.config.mjs')}`).href;
    const mod = (await import(cfgUrl)) as { buildAsync?: (o: Record<string, unknown>) => Promise<unknown> };
    if (!mod.buildAsync) return { reason: 'esbuild.config.mjs exports no buildAsync' };
    await mod.buildAsync({ outdir: dir, mode: 'inline' });
    return { dir };
  } catch (err) {
    const first = (err as { errors?: { text: string; location?: { file: string; line: number } }[] }).errors?.[0];
    const why = first ? `${first.location ? `${first.location.file}:${first.location.line}: ` : ''}${first.text}` : (err instanceof Error ? err.message : String(err)).split('\n')[0];
    return { reason: `the UI does not build yet (${why})` };
  }
}

/** Records when #root first gets content and the first-contentful-paint time (ms since navigation start). */
const READY_PROBE = `
  window.__ready = {};
  new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.name === 'first-contentful-paint') window.__ready.fcp = e.startTime; })
    .observe({ type: 'paint', buffered: true });
  const mo = new MutationObserver(() => {
    const root = document.getElementById('root');
    if (root && root.childElementCount > 0 && window.__ready.root === undefined) { window.__ready.root = performance.now(); mo.disconnect(); }
  });
  mo.observe(document, { childList: true, subtree: true });
`;

async function readyTimeAsync(browser: Browser, url: string): Promise<{ rootMs: number | null; fcpMs: number | null; domContentLoadedMs: number | null }> {
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    await page.addInitScript(READY_PROBE);
    await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
    await page.waitForFunction(() => {
      const r = (window as unknown as { __ready: { root?: number; fcp?: number } }).__ready;
      return r.root !== undefined && r.fcp !== undefined;
    }, undefined, { timeout: 30_000 }).catch(() => undefined);
    const r = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      return { ...(window as unknown as { __ready: { root?: number; fcp?: number } }).__ready, dcl: nav?.domContentLoadedEventEnd };
    });
    return { rootMs: r.root ?? null, fcpMs: r.fcp ?? null, domContentLoadedMs: r.dcl ?? null };
  } finally {
    await ctx.close();
  }
}

async function pageRunAsync(browser: Browser, url: string, cfg: PageRunConfig): Promise<PageRunResult> {
  const ctx = await browser.newContext();
  try {
    const page: Page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(() => document.title === 'bench ready', undefined, { timeout: 30_000 });
    try {
      return await page.evaluate((c) => (window as unknown as { benchRunAsync: (c: PageRunConfig) => Promise<PageRunResult> }).benchRunAsync(c), cfg);
    } catch (err) {
      throw new Error(`${cfg.ep}/${cfg.policy}: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}${errors.length ? ` (page: ${errors[0]})` : ''}`);
    }
  } finally {
    await ctx.close();
  }
}

const MiB = 2 ** 20;

export async function chromiumBenchAsync(paths: BenchPaths, opts: { log: (s: string) => void }): Promise<SectionResult> {
  const outDir = path.join(paths.out, 'chromium');
  fs.mkdirSync(outDir, { recursive: true });
  await bundlePageAsync(paths, path.join(outDir, 'page.js'));
  opts.log('Chromium: building the UI (esbuild.config.mjs buildAsync, inline mode) …');
  const ui = await buildUiAsync(paths);
  const server = await serveAsync(
    {
      '/ort/': path.join(paths.root, 'node_modules/onnxruntime-web/dist'),
      '/models/': path.join(paths.out, 'models'),
      '/assets/': paths.assets,
      '/chromium/': outDir,
      ...('dir' in ui ? { '/ui/': ui.dir } : {}),
    },
    {
      '/': '<!doctype html><meta charset="utf-8"><title>bench</title><script type="module" src="/chromium/page.js"></script>',
      '/blank.html': '<!doctype html><meta charset="utf-8"><title>blank</title><div id="root"><p>blank</p></div>',
    },
  );
  const browser = await launchChromium();
  const figures: Figure[] = [];
  const details: Record<string, unknown> = { chromiumVersion: browser.version() };
  try {
    // UI ready vs a blank page (best of 2 each).
    const U = 'UI ready (Chromium)';
    const blank = [await readyTimeAsync(browser, `${server.url}/blank.html`), await readyTimeAsync(browser, `${server.url}/blank.html`)];
    const blankFcp = Math.min(...blank.map((b) => b.fcpMs ?? Infinity));
    figures.push(figure(U, 'Blank page: first contentful paint', blankFcp, { unit: 'ms', digits: 0 }));
    if ('dir' in ui) {
      const runs = [await readyTimeAsync(browser, `${server.url}/ui/ui.html`), await readyTimeAsync(browser, `${server.url}/ui/ui.html`)];
      const root = Math.min(...runs.map((r) => r.rootMs ?? Infinity));
      const fcp = Math.min(...runs.map((r) => r.fcpMs ?? Infinity));
      const size = fs.statSync(path.join(ui.dir, 'ui.html')).size;
      const dcl = Math.min(...runs.map((r) => r.domContentLoadedMs ?? Infinity));
      figures.push(
        figure(U, `Built UI (inline ui.html, ${(size / MiB).toFixed(1)} MiB): first render of #root`, Number.isFinite(root) ? root : null, { unit: 'ms', digits: 0, naReason: 'the UI never rendered into #root within 30 s' }),
        figure(U, 'Built UI first render − blank page FCP', Number.isFinite(root) ? root - blankFcp : null, {
          unit: 'ms', digits: 0, target: '≤ 500 ms', pass: (v) => v <= 500, naReason: 'the UI never rendered into #root within 30 s',
          note: `HTML parsed and its inline script run (DOMContentLoaded) at ${dcl.toFixed(0)} ms; first #root render at ${root.toFixed(0)} ms`,
        }),
      );
      details.ui = { runs, blank, bytes: size };
    } else {
      figures.push(naFigure(U, 'Built UI first render − blank page FCP', '≤ 500 ms', ui.reason));
      details.ui = { reason: ui.reason };
    }

    const side = 64;
    const runs: PageRunResult[] = [];
    for (const cfg of [
      { ep: 'wasm', policy: 'fast', tasks: TASKS, side, repeats: 3 },
      { ep: 'wasm', policy: 'low-memory', tasks: ['text-to-image', 'image-to-image'], side, repeats: 1 },
      { ep: 'webgpu', policy: 'fast', tasks: TASKS, side, repeats: 1 },
    ] as PageRunConfig[]) {
      opts.log(`Chromium: ${cfg.ep} / ${cfg.policy}: ${cfg.tasks.join(', ')} …`);
      try {
        runs.push(await pageRunAsync(browser, `${server.url}/`, cfg));
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        opts.log(`Chromium: ${msg}`);
        runs.push({ ep: cfg.ep, policy: cfg.policy, adapter: null, source: '', tasks: [], peakJsHeapBytes: null, wasmMemoryBytes: 0, largestModelBytes: 0, createMs: {}, error: msg });
      }
    }
    details.runs = runs;
    for (const r of runs.filter((x) => x.policy === 'fast')) {
      const S = `Pipeline overhead (${r.ep === 'webgpu' ? `WebGPU on ${r.adapter ?? 'SwiftShader'}` : 'wasm'}, Chromium, tiny: 64², 77×64)`;
      if (r.error) {
        figures.push(naFigure(S, 'all tasks', '≤ 1.02', r.error));
        continue;
      }
      for (const task of TASKS) {
        const t = r.tasks.filter((x) => x.task === task).sort((a, b) => a.wallMs / a.ortRunMs - b.wallMs / b.ortRunMs)[0];
        if (!t) continue;
        figures.push(figure(S, `${t.task} (${t.steps} step${t.steps > 1 ? 's' : ''}): wall ÷ Σ model runs`, t.wallMs / t.ortRunMs, {
          digits: 3, suffix: ` (+${(t.wallMs - t.ortRunMs).toFixed(0)} ms)`, target: '≤ 1.02', pass: (v) => v <= 1.02,
          note: `wall ${t.wallMs.toFixed(0)} ms, Σ ORT run ${t.ortRunMs.toFixed(0)} ms, Σ runAsync ${t.runAsyncMs.toFixed(0)} ms${r.tasks.length > TASKS.length ? ' (best of the repeats)' : ''}`,
        }));
      }
      const t2i = r.tasks.filter((t) => t.task === 'text-to-image').sort((a, b) => (a.firstPreviewMs ?? 0) - (b.firstPreviewMs ?? 0))[0];
      if (t2i) figures.push(figure(S, 'Generate → first preview (txt2img)', t2i.firstPreviewMs, { unit: 'ms', digits: 0 }));
      if (r.ep === 'webgpu') {
        const G = 'GPU residency (WebGPU, Chromium, tiny)';
        const perStep = r.tasks.flatMap((t) => t.gpuReadsPerStep);
        const runtimePerStep = r.tasks.flatMap((t) => t.runtimeReadsPerStep);
        figures.push(
          figure(G, 'GPU→CPU reads per denoising step (max; GPUBuffer.mapAsync READ)', perStep.length ? Math.max(...perStep) : null, {
            digits: 0, target: '0', pass: (v) => v === 0,
            note: `mapAsync per step: ${r.tasks.map((t) => `${t.task} [${t.gpuReadsPerStep.join(', ')}]`).join('; ')}. Runtime counter per step: ${r.tasks.map((t) => `${t.task} [${t.runtimeReadsPerStep.join(', ')}]`).join('; ')}`,
          }),
          figure(G, "GPU→CPU reads per denoising step (max; runtime's gpuReadCounter)", runtimePerStep.length ? Math.max(...runtimePerStep) : null, {
            digits: 0, target: '0', pass: (v) => v === 0,
          }),
          figure(G, 'GPU→CPU reads per image (max over tasks; mapAsync READ)', Math.max(...r.tasks.map((t) => t.gpuReads)), {
            digits: 0, target: '1', pass: (v) => v <= 1,
            note: `mapAsync per image: ${r.tasks.map((t) => `${t.task} ${t.gpuReads}`).join(', ')}; runtime counter: ${r.tasks.map((t) => `${t.task} ${t.runtimeReads}`).join(', ')}`,
          }),
        );
      }
    }
    const C = 'Session creation (Chromium, tiny, cold)';
    for (const r of runs.filter((x) => x.policy === 'fast' && !x.error)) {
      const total = Object.values(r.createMs).reduce((a, b) => a + b, 0);
      figures.push(figure(C, `${r.ep}: all ${Object.keys(r.createMs).length} sessions`, total, {
        unit: 'ms', digits: 0, note: Object.entries(r.createMs).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', '),
      }));
    }
    const M = 'Peak memory (Chromium wasm, JS heap + wasm memory, tiny)';
    for (const r of runs.filter((x) => x.ep === 'wasm')) {
      if (r.error) {
        figures.push(naFigure(M, `${r.policy}`, r.policy === 'low-memory' ? '≤ largest model + 25 %' : '', r.error));
        continue;
      }
      const total = (r.peakJsHeapBytes ?? 0) + r.wasmMemoryBytes;
      figures.push(figure(M, `${r.policy}: JS heap ${((r.peakJsHeapBytes ?? 0) / MiB).toFixed(0)} MiB + wasm ${(r.wasmMemoryBytes / MiB).toFixed(0)} MiB`, total / MiB, {
        unit: 'MiB', digits: 0, note: `largest model ${(r.largestModelBytes / MiB).toFixed(1)} MiB; ORT's wasm heap alone starts above that at tiny sizes`,
      }));
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return { figures, details };
}
