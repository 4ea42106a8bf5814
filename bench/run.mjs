// `npm run bench`: bundles the TypeScript bench (bench/node/entry.ts) with esbuild into bench-results/ (git-ignored)
// and runs it. Prints the figures table and writes bench-results/bench.json + bench.md.
// Options: --no-chromium (skip the Chromium sections), --only a,b (sections: sessions, pipelines, opmix, imageio,
// memory, download (Node, then a Chromium worker unless --no-chromium), upscale, chromium).
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'bench-results');
const bundle = path.join(OUT, 'node-bench.mjs');

const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const opts = {
  noChromium: args.includes('--no-chromium'),
  only: onlyAt >= 0 ? String(args[onlyAt + 1] ?? '').split(',').filter(Boolean) : undefined,
};

await esbuild.build({
  entryPoints: [path.join(ROOT, 'bench/node/entry.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: bundle,
  // Same onnxruntime-web instance as anything else in the process; playwright and esbuild stay packages.
  external: ['onnxruntime-web', 'playwright-core', 'esbuild'],
  // protobufjs (via onnx-proto) is CommonJS and calls require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(import.meta.url);" },
  logLevel: 'error',
});
const { mainAsync } = await import(pathToFileURL(bundle).href);
const { benchPaths } = await import(pathToFileURL(bundle).href);
process.exitCode = await mainAsync([], benchPaths(pathToFileURL(bundle).href), bundle, opts);
