// A reader that closes early (`attention-lens run ... | head -1`): the command stops writing, unloads the model — its
// worker ended between native calls, as on Ctrl-C (interrupt.test.ts) — and exits with 0, quietly. Exiting at once
// on the EPIPE, while the worker was inside an onnxruntime call, aborted the process ("terminate called after
// throwing an instance of 'Napi::Error'", exit 134) in most such runs, even on stories260K.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fixtureModel, repoRoot, smolLm2Gguf } from '../../helpers/fixtures';
import { withLongText } from '../../helpers/long-text';

const CLI = path.join(repoRoot, 'dist/cli.js');
const STORIES = fixtureModel('stories260K');
const SHORT = 'Once upon a time, there was a little girl named Lily. She loved to play.';

/** What a native abort or an uncaught error leaves on stderr. */
const CRASH = /terminate called|Napi|FATAL|Aborted|^\s+at /m;

interface Closed {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args` and closes its stdout (the pipe's read end) once what it printed matches `when`. */
function closeWhen(args: string[], when: RegExp): Promise<Closed> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (when.test(stdout)) child.stdout.destroy();
    });
    child.stderr.on('data', (d) => (stderr += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function assertQuietExit(r: Closed, what: string, quiet = true): void {
  assert.doesNotMatch(r.stderr, CRASH, `${what}: ${r.stderr}`);
  assert.equal(r.signal, null, `${what}: killed by ${r.signal}`);
  assert.equal(r.code, 0, `${what}: exit ${r.code}: ${r.stderr}`);
  if (quiet) assert.equal(r.stderr, '', `${what}: nothing on stderr`);
  else assert.doesNotMatch(r.stderr, /attention-lens:/, `${what}: no error line`);
}

function build(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
}

test('run on stories260K into a reader that closes after the first chunk or a few lines: exit 0, quietly', async () => {
  build();
  for (let i = 0; i < 3; i++) {
    const r = await closeWhen(['run', '--model', STORIES, '--text', SHORT], /\n/);
    assertQuietExit(r, `closed after the first chunk (try ${i + 1})`);
  }
  for (const layer of [0, 3]) {
    const r = await closeWhen(['run', '--model', STORIES, '--text', SHORT], new RegExp(`^L${layer} H1 `, 'm'));
    assertQuietExit(r, `closed at layer ${layer}`);
  }
});

test('generate, explain and export on stories260K into a reader that closes early: exit 0, quietly', async () => {
  build();
  for (let i = 0; i < 2; i++) {
    const r = await closeWhen(['generate', '--model', STORIES, '--text', 'Once upon a time', '--max-new', '200'], /\n/);
    assertQuietExit(r, `generate closed after the first chunk (try ${i + 1})`);
  }
  const some = await closeWhen(
    ['generate', '--model', STORIES, '--text', 'Once upon a time', '--max-new', '200'],
    /^ {2}\+5 /m,
  );
  assertQuietExit(some, 'generate closed after 5 tokens');
  const explained = await closeWhen(['explain', '--model', STORIES, '--text', SHORT, '--target', 'next'], /\n/);
  assertQuietExit(explained, 'explain closed after the first chunk');
  if (existsSync('/dev/stdout')) {
    const exported = await closeWhen(
      ['export', '--model', STORIES, '--text', SHORT, '--format', 'csv', '--out', '/dev/stdout'],
      /\n/,
    );
    assertQuietExit(exported, 'export --out /dev/stdout closed after the first chunk', false);
  }
});

test('SmolLM2 (a layer is tens of milliseconds) into a reader that closes while the run is in progress', () =>
  // ~400 tokens: each layer's stage is a native call of tens of milliseconds on the worker thread.
  withLongText(18, async (_dir, file) => {
    const model = smolLm2Gguf();
    // (The first chunk and other layers are stories260K's cases above: each SmolLM2 load is seconds of CI.)
    for (const when of [/^L3 H0 /m]) {
      const r = await closeWhen(['run', '--model', model, '--file', file], when);
      assertQuietExit(r, `closed at ${when}`);
    }
    // --out /dev/stdout: the JSON streams into the pipe (the report goes to stderr).
    if (existsSync('/dev/stdout')) {
      const r = await closeWhen(['run', '--model', model, '--file', file, '--out', '/dev/stdout'], /"attention"/);
      assertQuietExit(r, '--out /dev/stdout closed', false);
    }
  }));
