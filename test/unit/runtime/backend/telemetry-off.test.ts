// onnxruntime-node 1.30's telemetry stays off (runtime/backend/telemetry-off.ts): a run writes no device id or event
// cache under HOME and no `.ses` / `mat-debug-*.log` in its working or temporary folder — on the CLI's path (the
// native library loaded in the inference worker) and where the runtime loads it on the main thread. Each case runs in
// a fresh process whose HOME, TMPDIR and working folder are new empty folders, without the CI variables that make
// onnxruntime skip its telemetry by itself (so that without the switch the files appear: they did, before it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixtureModel, repoRoot } from '../../../helpers/fixtures';

const CI_VARIABLES = ['CI', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CIRCLECI', 'ORT_DISABLE_TELEMETRY'];

/** Every file and folder under `dir`, relative to it (tsx's compile cache, tsx-UID/, aside). */
function listAll(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => !/^tsx-\d+/.test(p))
    .sort();
}

/** Runs `args` with node in a fresh HOME, TMPDIR and working folder; returns what each of them holds afterwards. */
function runIsolated(args: string[]): { home: string[]; tmp: string[]; cwd: string[] } {
  const root = mkdtempSync(path.join(tmpdir(), 'lens-telemetry-'));
  try {
    const [home, tmp, cwd] = ['home', 'tmp', 'cwd'].map((d) => path.join(root, d));
    for (const d of [home, tmp, cwd]) mkdirSync(d);
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, TMPDIR: tmp };
    for (const v of CI_VARIABLES) delete env[v];
    execFileSync(process.execPath, args, { cwd, env, stdio: 'pipe', timeout: 120_000 });
    return { home: listAll(home), tmp: listAll(tmp), cwd: listAll(cwd) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('the CLI (native backend, in its inference worker) leaves no telemetry files', () => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
  const cli = path.join(repoRoot, 'dist/cli.js');
  const left = runIsolated([
    cli,
    'run',
    '--model',
    fixtureModel('stories260K'),
    '--text',
    'Once upon a time',
    '--backend',
    'native',
    '--threads',
    '1',
  ]);
  assert.deepEqual(left, { home: [], tmp: [], cwd: [] });
});

test('a native session created on the main thread leaves no telemetry files', () => {
  const ort = path.join(repoRoot, 'runtime/backend/ort.ts');
  const model = path.join(repoRoot, 'test/fixtures/models/tiny-mbart50-onnx-past/encoder_model.onnx');
  const script =
    `const m = await import(${JSON.stringify(ort)});` +
    `const createSession = m.createSession ?? m.default.createSession;` +
    `const { readFileSync } = await import('node:fs');` +
    `const s = await createSession(readFileSync(${JSON.stringify(model)}), { backend: 'native', threads: 1 });` +
    `await s.release();`;
  const tsx = pathToFileURL(path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;
  const left = runIsolated(['--import', tsx, '--input-type=module', '-e', script]);
  assert.deepEqual(left, { home: [], tmp: [], cwd: [] });
});
