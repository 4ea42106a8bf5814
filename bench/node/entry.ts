/**
 * Bundle entry (bench/run.mjs → bench-results/node-bench.mjs). Run directly for child-process modes:
 * `node bench-results/node-bench.mjs memory fast|low-memory`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDirectRun, mainAsync } from './cli';
import type { BenchPaths } from './node-bench';

export { mainAsync };

/** Paths relative to the bundle in bench-results/. */
export function benchPaths(bundleUrl: string): BenchPaths {
  const out = path.dirname(fileURLToPath(bundleUrl));
  const root = path.resolve(out, '..');
  return { root, out, assets: path.resolve(root, '../shared/assets') };
}

if (isDirectRun(import.meta.url)) {
  const code = await mainAsync(process.argv.slice(2), benchPaths(import.meta.url), fileURLToPath(import.meta.url));
  process.exit(code);
}
