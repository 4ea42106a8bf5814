// `npm test`: builds the plugin (both UI modes must build), type-checks, runs vitest (Node + Chromium projects), and ends with a
// plain "N passed, N failed" line that CI recognises.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = path.join(ROOT, 'test-results');
fs.mkdirSync(resultsDir, { recursive: true });
const jsonFile = path.join(resultsDir, 'vitest.json');
fs.rmSync(jsonFile, { force: true });

const run = (cmd, args) => spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: process.env });

let buildFailed = 0;
for (const mode of ['inline', 'hosted']) {
  const b = run(process.execPath, ['esbuild.config.mjs', '--mode', mode, '--outdir', path.join('dist', mode)]);
  if (b.status !== 0) { console.error(`build (${mode}) failed`); buildFailed++; }
}
// The default build (manifest.json's dist/code.js + dist/ui.html) is the inline one.
const b = run(process.execPath, ['esbuild.config.mjs']);
if (b.status !== 0) buildFailed++;
// Type-check both rooms: the UI/tests against the DOM, plugin/ against ES2020 + Figma typings with no DOM.
const tsc = path.join(ROOT, 'node_modules/.bin/tsc');
for (const project of ['tsconfig.json', 'plugin/tsconfig.json']) {
  const t = run(tsc, ['-p', project, '--noEmit']);
  if (t.status !== 0) { console.error(`type-check (${project}) failed`); buildFailed++; }
}

const extra = process.argv.slice(2);
const vt = run(process.execPath, [
  path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run',
  '--reporter=default', '--reporter=json', `--outputFile.json=${jsonFile}`,
  ...extra,
]);

let passed = 0;
let failed = buildFailed;
let skipped = 0;
if (fs.existsSync(jsonFile)) {
  const report = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += (report.numFailedTests ?? 0);
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A suite that failed to load has no tests counted: count it as a failure.
  for (const suite of report.testResults ?? []) {
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) failed++;
  }
} else {
  failed++;
}
if (vt.status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
