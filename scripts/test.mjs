// `npm test`: everything a change must pass, in order — static checks (types per part, lint, format), the build,
// the default model fetch, the unit tests (Node's test runner), then the real-VS Code tests (code-server + Debian
// chromium). Ends with one line "N passed, N failed" over all test runners.
//   --unit   only static checks, build and unit tests (no code-server)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
process.chdir(root);
const unitOnly = process.argv.includes('--unit');
let passed = 0;
let failed = 0;
/** Names of the failed tests, listed again last so the tail of a long CI log says what failed. */
const failedNames = [];

function step(name, cmd, args, env = {}) {
  const t0 = Date.now();
  console.log(`\n== ${name}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  const ok = r.status === 0;
  console.log(
    `== ${name}: ${ok ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return ok;
}

function findTests(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (e.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

/** The failed leaf tests of a TAP file, each as "file › suite › test" (subtests are indented 4 spaces a level). */
function unitFailures(tap) {
  const out = [];
  const stack = [];
  for (const line of tap.split('\n')) {
    const m = /^( *)# Subtest: (.*)$/.exec(line);
    if (m) {
      stack.length = m[1].length / 4;
      stack.push(m[2]);
      continue;
    }
    const n = /^( *)not ok \d+ - (.*?)(?: #.*)?$/.exec(line);
    if (!n) continue;
    const depth = n[1].length / 4;
    // A parent fails when a child does: list only the deepest ones (the next line is not a child's).
    stack.length = depth;
    out.push([...stack, n[2]].join(' › '));
  }
  // Drop entries that are a prefix of another (a failed describe whose failed test is listed).
  return out.filter((a) => !out.some((b) => b !== a && b.startsWith(`${a} › `)));
}

const node = process.execPath;
const bin = (p) => join(root, 'node_modules', p);
const checks = [
  ['typecheck', node, ['scripts/typecheck.mjs']],
  ['lint', node, [bin('eslint/bin/eslint.js'), '.']],
  ['format', node, [bin('prettier/bin/prettier.cjs'), '--check', '.', '--log-level', 'warn']],
  ['build', node, ['scripts/build.mjs']],
  ['model', node, ['scripts/fetch-model.mjs']],
];
let staticOk = true;
for (const [name, cmd, args] of checks) {
  if (!step(name, cmd, args)) {
    staticOk = false;
    failed++;
  }
}

// Unit tests: spec to the terminal, TAP to a file for the counts.
mkdirSync('test-results', { recursive: true });
const unitFiles = [...findTests('test/unit'), ...findTests('test/reference')];
const tap = 'test-results/unit.tap';
step('unit tests', node, [
  '--import',
  'tsx',
  '--test',
  '--test-concurrency=2',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tap}`,
  ...unitFiles,
]);
if (existsSync(tap)) {
  const t = readFileSync(tap, 'utf8');
  passed += Number(/^# pass (\d+)/m.exec(t)?.[1] ?? 0);
  failed += Number(/^# fail (\d+)/m.exec(t)?.[1] ?? 0) + Number(/^# cancelled (\d+)/m.exec(t)?.[1] ?? 0);
  failedNames.push(...unitFailures(t));
} else failed++;

if (!unitOnly) {
  if (existsSync('scripts/vscode-tests.mjs')) {
    const out = 'test-results/vscode-summary.json';
    const ok = step('real VS Code tests', node, ['scripts/vscode-tests.mjs', `--summary=${out}`]);
    if (existsSync(out)) {
      const s = JSON.parse(readFileSync(out, 'utf8'));
      passed += s.passed ?? 0;
      failed += s.failed ?? 0;
      for (const f of s.failures ?? []) failedNames.push(`vscode: ${f.name}`);
    } else if (!ok) failed++;
  }
}

console.log(`\nstatic checks: ${staticOk ? 'clean' : 'FAILED'}`);
for (const n of failedNames) console.log(`  ✘ ${n}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
