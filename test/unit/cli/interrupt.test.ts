// Ctrl-C while the model runs (SmolLM2-135M GGUF, ~480 tokens, so that each layer's stage is a native call of tens
// of milliseconds on the worker thread): the command unloads the model first — its worker is ended between native
// calls — and exits with 130 and its one line. Ending the process under a call aborted it ("terminate called after
// throwing an instance of 'Napi::Error'", exit 134) in about half of such interrupts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot, smolLm2Gguf } from '../../helpers/fixtures';
import { withLongText } from '../../helpers/long-text';

const CLI = path.join(repoRoot, 'dist/cli.js');

/** Runs SmolLM2 on `file` (with `extra` options) and sends SIGINT once layer `layer`'s first head line is printed
 *  (`signals` of them, 20 ms apart: Ctrl-C pressed twice, or GNU timeout signalling the process and its group). */
function interruptAt(
  file: string,
  layer: number,
  extra: string[] = [],
  signals = 1,
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'run', '--model', smolLm2Gguf(), '--file', file, ...extra], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!sent && new RegExp(`^L${layer} H0 `, 'm').test(stdout)) {
        sent = true;
        child.kill('SIGINT');
        for (let i = 1; i < signals; i++) setTimeout(() => child.kill('SIGINT'), 20 * i);
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stderr, stdout });
    });
  });
}

test('Ctrl-C during the layers of a run: exit 130 and one line, never an abort', () =>
  withLongText(22, async (_dir, file) => {
    for (const layer of [0, 3, 9, 17, 24]) {
      const r = await interruptAt(file, layer);
      assert.doesNotMatch(r.stderr, /terminate called|Aborted|Napi::Error/, `interrupted at layer ${layer}`);
      assert.equal(r.code, 130, `interrupted at layer ${layer}: ${r.stderr}`);
      assert.equal(r.stderr, 'attention-lens: interrupted.\n');
    }
  }));

test('Ctrl-C twice during run --out FOLDER/: one line, exit 130, no temporary file left (the second signal killed it)', () =>
  withLongText(22, async (dir, file) => {
    for (const layer of [2, 11]) {
      const out = path.join(dir, `out-${layer}`);
      const r = await interruptAt(file, layer, ['--out', `${out}/`], 2);
      assert.equal(r.code, 130, `interrupted at layer ${layer}: ${r.stderr}`);
      assert.match(r.stderr, /^attention-lens: interrupted[^\n]*\.\n$/);
      const left = existsSync(out) ? readdirSync(out) : [];
      assert.deepEqual(
        left.filter((f) => f.endsWith('.partial')),
        [],
        `layer ${layer}: ${left.join(', ')}`,
      );
      assert.ok(!left.includes('attention-lens.json'), 'an interrupted run lists no files');
    }
  }));
