// `npm test`: builds the plugin (both UI modes must build), type-checks, runs vitest (Node + Chromium projects), and ends with a
// plain "N passed, N failed" line that CI recognises.
//
// Time on a 2-core CI machine: vitest runs its projects one after the other (the Chromium files one at a time, and the
// Node files on one worker, as it keeps a core free), so the Node project, the Chromium project and the type-checks run
// as three processes side by side here. The Chromium project's output streams as it comes; the Node project's and the
// type-checks' output is printed in one block each when they end, so the log stays readable. `npm test -- <vitest
// args>` passes the args to both projects (with --project, one vitest runs them as given).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = path.join(ROOT, 'test-results');
fs.mkdirSync(resultsDir, { recursive: true });
const jsonFile = path.join(resultsDir, 'vitest.json');
fs.rmSync(jsonFile, { force: true });

const run = (cmd, args) => spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: process.env });

/** Runs a command with its output piped: `onLine` gets each complete line as it comes (or all of it at the end). */
function runAsync(cmd, args, onLine) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    const lines = [];
    let partial = '';
    const take = (chunk) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) onLine ? onLine(l) : lines.push(l);
    };
    child.stdout.setEncoding('utf8').on('data', take);
    child.stderr.setEncoding('utf8').on('data', take);
    child.on('close', (status) => {
      if (partial) onLine ? onLine(partial) : lines.push(partial);
      resolve({ status, output: lines.join('\n') });
    });
    child.on('error', (err) => { lines.push(String(err)); resolve({ status: 1, output: lines.join('\n') }); });
  });
}

let buildFailed = 0;
for (const mode of ['inline', 'hosted']) {
  const b = run(process.execPath, ['esbuild.config.mjs', '--mode', mode, '--outdir', path.join('dist', mode)]);
  if (b.status !== 0) { console.error(`build (${mode}) failed`); buildFailed++; }
}
// The default build (manifest.json's dist/code.js + dist/ui.html) is the inline one.
const b = run(process.execPath, ['esbuild.config.mjs']);
if (b.status !== 0) buildFailed++;

const vitest = path.join(ROOT, 'node_modules/vitest/vitest.mjs');
const extra = process.argv.slice(2);
const oneRun = extra.some((a) => a === '--project' || a.startsWith('--project='));
const jobs = oneRun ? [{ name: 'all', args: [] }] : [{ name: 'browser', args: ['--project', 'browser'] }, { name: 'node', args: ['--project', 'node'] }];
if (!oneRun && extra.length > 0) for (const j of jobs) j.args.push('--passWithNoTests'); // a filter may match one project only

// Type-check both rooms: the UI/tests against the DOM, plugin/ against ES2020 + Figma typings with no DOM.
const tsc = path.join(ROOT, 'node_modules/.bin/tsc');
const typecheck = (async () => {
  let failed = 0;
  for (const project of ['tsconfig.json', 'plugin/tsconfig.json']) {
    const t = await runAsync(tsc, ['-p', project, '--noEmit']);
    if (t.output) console.log(t.output);
    if (t.status !== 0) { console.error(`type-check (${project}) failed`); failed++; }
  }
  return failed;
})();

const runs = jobs.map(async (job) => {
  const file = jobs.length === 1 ? jsonFile : path.join(resultsDir, `vitest-${job.name}.json`);
  fs.rmSync(file, { force: true });
  const args = [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${file}`, ...job.args, ...extra];
  // The first job (Chromium, the longer one) streams; the others print when they end.
  const r = await runAsync(process.execPath, args, job === jobs[0] ? (line) => console.log(line) : undefined);
  if (job !== jobs[0]) console.log(`\n── vitest --project ${job.name} ──\n${r.output}`);
  return { ...job, file, status: r.status };
});
const [typeFailed, results] = await Promise.all([typecheck, Promise.all(runs)]);
buildFailed += typeFailed;

let passed = 0;
let failed = buildFailed;
let skipped = 0;
const merged = [];
for (const r of results) {
  if (!fs.existsSync(r.file)) { failed++; continue; }
  const report = JSON.parse(fs.readFileSync(r.file, 'utf8'));
  merged.push(report);
  passed += report.numPassedTests ?? 0;
  failed += (report.numFailedTests ?? 0);
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A suite that failed to load has no tests counted: count it as a failure.
  for (const suite of report.testResults ?? []) {
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) failed++;
  }
}
if (results.some((r) => r.status !== 0) && failed === 0) failed = 1;
// One test-results/vitest.json for both projects, as one vitest run writes it.
if (results.length > 1 && merged.length > 0) {
  const sum = (k) => merged.reduce((a, m) => a + (m[k] ?? 0), 0);
  const all = { ...merged[0] };
  for (const k of Object.keys(all)) if (typeof all[k] === 'number' && k.startsWith('num')) all[k] = sum(k);
  all.startTime = Math.min(...merged.map((m) => m.startTime ?? Infinity));
  all.success = merged.every((m) => m.success) && merged.length === results.length;
  all.testResults = merged.flatMap((m) => m.testResults ?? []);
  fs.writeFileSync(jsonFile, JSON.stringify(all));
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
