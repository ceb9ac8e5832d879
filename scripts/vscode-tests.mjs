#!/usr/bin/env node
// The real-VS-Code tests, in one command: code-server + Debian chromium + playwright-core (see
// docs/real-vscode.md). Runs, one after the other:
//   (a) suite  the mocha suite (dist/test/suite/index.js) inside the extension host   test/integration/run-suite.ts
//   (b) e2e    the panel driven through the UI                                         test/e2e/panel.e2e.ts
//   (b°) generate  Continue 16 tokens: the matrix grows, values on generated rows       test/e2e/generate.e2e.ts
//   (b') export  hover, tint and export (save dialog) through the UI                   test/e2e/export.e2e.ts
//   (b+) explain  the Explain view: target, methods, agreement, faithfulness, compare test/e2e/explain.e2e.ts
//   (b*) ux     keyboard walk, matrix cell read aloud, layout in a wide panel, views at 13/74/451 tokens  test/e2e/panel-ux.e2e.ts
//   (b'') models  first-use download, Select Model, switching, idle release (local Hub)  test/e2e/models.e2e.ts
//   (b'') seq2seq  tiny-marian-dates in the panel: translation, cross matrix, alignment, Explain test/e2e/seq2seq.e2e.ts
//   (b''') saved-run  Open Saved Run… and a run dropped onto the panel, every tab       test/e2e/saved-run.e2e.ts
//   (b'''') long  a ~4,000-token document on SmolLM2, zoomed cells = transformers     test/e2e/long.e2e.ts
//   (c) vsix   package linux-x64 + universal (package-vsix.mjs), --install-extension, Show Attention  test/e2e/vsix.e2e.ts
//   (d) webgpu-page   in-webview inference on WebGPU (SwiftShader) in a plain page     test/e2e/webgpu-page.e2e.ts
//   (e) webgpu-panel  backend webgpu/auto in the real panel, mocha in the host         test/e2e/webgpu-panel.e2e.ts
// and ends with the line `vscode: N passed, N failed` (exit 1 on any failure).
//
//   node scripts/vscode-tests.mjs                 all phases (installs code-server first when missing)
//   node scripts/vscode-tests.mjs suite e2e       some phases
//   node scripts/vscode-tests.mjs --no-build      use the current dist/ (phases a, b)
// Works with CI=true and no stdin. Each phase runs in its own process group with a hard deadline.
// Screenshots: test-results/screenshots/, code-server logs: test-results/logs/.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCodeServer } from './install-code-server.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const noBuild = argv.includes('--no-build');
const ALL = [
  'suite',
  'e2e',
  'generate',
  'export',
  'explain',
  'ux',
  'models',
  'seq2seq',
  'saved-run',
  'long',
  'vsix',
  'webgpu-page',
  'webgpu-panel',
];
const chosen = argv.filter((a) => ALL.includes(a));
const phases = chosen.length ? chosen : ALL;

const PHASES = {
  suite: { file: 'test/integration/run-suite.ts', deadlineMs: 300_000 },
  e2e: { file: 'test/e2e/panel.e2e.ts', deadlineMs: 300_000 },
  generate: { file: 'test/e2e/generate.e2e.ts', deadlineMs: 360_000 },
  export: { file: 'test/e2e/export.e2e.ts', deadlineMs: 300_000 },
  explain: { file: 'test/e2e/explain.e2e.ts', deadlineMs: 300_000 },
  ux: { file: 'test/e2e/panel-ux.e2e.ts', deadlineMs: 780_000 },
  models: { file: 'test/e2e/models.e2e.ts', deadlineMs: 480_000 },
  seq2seq: { file: 'test/e2e/seq2seq.e2e.ts', deadlineMs: 300_000 },
  'saved-run': { file: 'test/e2e/saved-run.e2e.ts', deadlineMs: 300_000 },
  long: { file: 'test/e2e/long.e2e.ts', deadlineMs: 900_000 },
  vsix: { file: 'test/e2e/vsix.e2e.ts', deadlineMs: 900_000 },
  'webgpu-page': { file: 'test/e2e/webgpu-page.e2e.ts', deadlineMs: 600_000 },
  'webgpu-panel': { file: 'test/e2e/webgpu-panel.e2e.ts', deadlineMs: 900_000 },
};

const say = (m) => console.log(`[vscode-tests] ${m}`);
const children = new Set();
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    interrupted = true;
    say(`${sig}: stopping`);
    for (const pid of children) {
      try {
        process.kill(-pid, 'SIGTERM'); // the phase cleans up code-server/chromium on SIGTERM
      } catch {
        /* gone */
      }
    }
    setTimeout(() => {
      for (const pid of children) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      process.exit(130);
    }, 5000).unref();
  });
}

function build(production) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(repo, 'scripts', 'build.mjs'), ...(production ? ['--production'] : [])], {
    cwd: repo,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 180_000,
  });
  if (r.status !== 0) throw new Error(`build failed (exit ${r.status})`);
  say(`build${production ? ' --production' : ''}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** The first lines of an error (its message, not the whole stack), on one line. */
function firstLines(error, n = 3) {
  return String(error)
    .split('\n')
    .filter((l) => l.trim() && !/^\s+at /.test(l))
    .slice(0, n)
    .join(' ⏎ ')
    .slice(0, 600);
}

/** Runs one phase in its own process group; returns { passed, failed }. */
function runPhase(name, extraEnv = {}) {
  const { file, deadlineMs } = PHASES[name];
  const dir = mkdtempSync(join(tmpdir(), 'al-phase-'));
  const resultFile = join(dir, 'result.json');
  const pidFile = join(dir, 'pids');
  const t0 = Date.now();
  say(`── ${name}: ${file}`);
  return new Promise((resolvePhase) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repo, file)], {
      cwd: repo,
      env: {
        ...process.env,
        ...extraEnv,
        CI: process.env.CI ?? 'true',
        VSCODE_TESTS_RESULT: resultFile,
        VSCODE_TESTS_PIDFILE: pidFile,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    });
    children.add(child.pid);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      say(`${name}: deadline of ${deadlineMs / 1000} s passed; stopping it`);
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 8000).unref();
    }, deadlineMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      children.delete(child.pid);
      // Anything left in the phase's group (chromium), and the code-server groups it started, goes too.
      const groups = [child.pid];
      if (existsSync(pidFile)) groups.push(...readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number));
      for (const pid of groups) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      const crashed = {
        name: `${name} (the phase)`,
        error: timedOut ? 'passed its deadline' : `exit ${code}, no result`,
      };
      let result = { passed: 0, failed: 1, failures: [crashed] };
      if (!timedOut && existsSync(resultFile)) {
        try {
          const r = JSON.parse(readFileSync(resultFile, 'utf8'));
          const failures = Array.isArray(r.failures) ? r.failures : [];
          result = { passed: r.passed | 0, failed: r.failed | 0, failures };
          if (code !== 0 && result.failed === 0) result = { ...result, failed: 1, failures: [crashed] };
        } catch {
          /* keep the failure */
        }
      }
      rmSync(dir, { recursive: true, force: true });
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      say(`${name}: ${result.passed} passed, ${result.failed} failed (${timedOut ? 'timed out, ' : ''}${secs} s)`);
      resolvePhase({ ...result, secs });
    });
  });
}

const t0 = Date.now();
let passed = 0;
let failed = 0;
const timings = [];
/** { name, error } of every failed test, repeated at the end so a long log's tail says what failed. */
const failures = [];
try {
  // Screenshots and logs of this run only (CI keeps test-results/).
  for (const d of ['screenshots', 'logs']) rmSync(join(repo, 'test-results', d), { recursive: true, force: true });
  ensureCodeServer();
  if (!noBuild && phases.some((p) => p !== 'vsix')) build(false);
  for (const name of phases) {
    if (interrupted) break;
    let env = {};
    if (name === 'vsix') {
      // Package here (production build), so its time shows separately; the test installs the result.
      const p0 = Date.now();
      const packageArgs = ['--target', 'linux-x64', '--target', 'universal'];
      const r = spawnSync(process.execPath, [join(repo, 'scripts', 'package-vsix.mjs'), ...packageArgs], {
        cwd: repo,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        timeout: 300_000,
      });
      process.stdout.write(r.stdout ?? '');
      const lines = (r.stdout ?? '').split('\n');
      const path = (target) =>
        lines
          .find((l) => l.startsWith(`VSIX ${target} `))
          ?.slice(`VSIX ${target} `.length)
          .trim();
      timings.push(`package ${((Date.now() - p0) / 1000).toFixed(1)} s`);
      if (r.status !== 0 || !path('linux-x64') || !path('universal')) {
        say('vsix: packaging failed');
        failed++;
        failures.push({ name: 'vsix (packaging)', error: `package-vsix exit ${r.status}` });
        continue;
      }
      env = { VSIX_PATH: path('linux-x64'), VSIX_UNIVERSAL_PATH: path('universal') };
    }
    const r = await runPhase(name, env);
    passed += r.passed;
    failed += r.failed;
    failures.push(...r.failures);
    timings.push(`${name} ${r.secs} s`);
  }
  // Leave dist/ as a development build (package-vsix made a production one).
  if (!noBuild && phases.includes('vsix') && !interrupted) build(false);
} catch (e) {
  console.error(`[vscode-tests] ${e?.message ?? e}`);
  failed++;
  failures.push({ name: 'vscode-tests', error: String(e?.message ?? e) });
}
say(`${timings.join(', ')}; total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (interrupted) failed = Math.max(failed, 1);
for (const f of failures) console.log(`  ✘ ${f.name}: ${firstLines(f.error)}`);
console.log(`vscode: ${passed} passed, ${failed} failed`);
// --summary=FILE: the counts as JSON, for scripts/test.mjs's closing line.
const summary = argv.find((a) => a.startsWith('--summary='));
if (summary) {
  // Written whole, then renamed into place: a reader never sees half of it.
  const file = summary.slice('--summary='.length);
  writeFileSync(`${file}.partial-${process.pid}`, JSON.stringify({ passed, failed, failures }));
  renameSync(`${file}.partial-${process.pid}`, file);
}
process.exit(interrupted ? 130 : failed ? 1 : 0);
