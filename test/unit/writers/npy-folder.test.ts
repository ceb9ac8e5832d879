// `run --out FOLDER/` puts the files of a run in place together, only when the whole run has succeeded
// (writers/npy-folder.ts): a run that fails midway leaves the folder as it was. Checked on the writer itself (a
// layer source that fails after layer 0 was written; the files in the folder compared byte for byte with what was
// there before) and as users run it (node dist/cli.js): a copy of stories260K whose layer-1 queries and keys are
// scaled so that attention overflows at layer 1 (test/helpers/broken-models.ts), run into a folder that holds an
// earlier run of the intact model, and into a new folder.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { planOutputFolder } from '../../../runtime/files/output-folder';
import { NpyFolderWriter } from '../../../writers/npy-folder';
import type { RowSource } from '../../../writers/attention-stream';
import { overflowAttention } from '../../helpers/broken-models';
import { fixtureModel, repoRoot } from '../../helpers/fixtures';
import { parseNpy } from '../../helpers/parse-exports';

const TMP = fs.mkdtempSync(path.join(tmpdir(), 'lens-npy-folder-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

/** Every file of a folder (hidden ones included) with its bytes. */
function contents(dir: string): Map<string, Buffer> {
  return new Map(
    fs
      .readdirSync(dir)
      .sort()
      .map((f) => [f, fs.readFileSync(path.join(dir, f))]),
  );
}

/** A [heads, query, key] source of known values: entry i is `base + i`; `failAt` (a head) rejects. */
function source(heads: number, q: number, k: number, base: number, failAt?: number): RowSource {
  return {
    heads,
    queryLength: q,
    keyLength: k,
    rows: (h, start, end) => {
      if (h === failAt) return Promise.reject(new Error('Layer 1, head 0 gave NaN attention (test)'));
      const out = new Float32Array((end - start) * k);
      for (let i = 0; i < out.length; i++) out[i] = base + (h * q + start) * k + i;
      return Promise.resolve(out);
    },
  };
}

describe('NpyFolderWriter', () => {
  test('files appear only when the run ends, the sidecar listing them; nothing else in the folder changes', async () => {
    const dir = path.join(TMP, 'whole');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine\n');
    const w = new NpyFolderWriter(planOutputFolder(dir + '/'), 2);
    await w.layer({ layer: 0, kind: 'causal' }, source(2, 3, 3, 0));
    await w.layer({ layer: 1, kind: 'causal' }, source(2, 3, 3, 100));
    // Complete but not in place: only temporary files beside notes.txt.
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => !f.endsWith('.partial')),
      ['notes.txt'],
    );
    await w.end({ tokens: [] });
    assert.deepEqual(fs.readdirSync(dir).sort(), ['attention-lens.json', 'layer-00.npy', 'layer-01.npy', 'notes.txt']);
    assert.equal(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'mine\n');
    const l1 = parseNpy(fs.readFileSync(path.join(dir, 'layer-01.npy')));
    assert.deepEqual(l1.shape, [2, 3, 3]);
    assert.deepEqual(
      Array.from(l1.data),
      Array.from({ length: 18 }, (_, i) => 100 + i),
    );
    const side = JSON.parse(fs.readFileSync(path.join(dir, 'attention-lens.json'), 'utf8')) as {
      files: { file: string }[];
    };
    assert.deepEqual(
      side.files.map((f) => f.file),
      ['layer-00.npy', 'layer-01.npy'],
    );
  });

  test('a failure at layer 1 leaves an earlier run byte for byte, and no temporary file', async () => {
    const dir = path.join(TMP, 'earlier');
    fs.mkdirSync(dir);
    const first = new NpyFolderWriter(planOutputFolder(dir + '/'), 3);
    for (let l = 0; l < 3; l++) await first.layer({ layer: l, kind: 'causal' }, source(1, 2, 2, l * 10));
    await first.end({ run: 'first' });
    const before = contents(dir);
    assert.equal(before.size, 4);

    const second = new NpyFolderWriter(planOutputFolder(dir + '/'), 3);
    await second.layer({ layer: 0, kind: 'causal' }, source(1, 2, 2, 500));
    await assert.rejects(second.layer({ layer: 1, kind: 'causal' }, source(1, 2, 2, 600, 0)), /NaN attention/);
    second.abort(); // what run-command does on any error: a no-op here
    assert.deepEqual(contents(dir), before);
  });

  test('a failure into a new folder leaves no folder', async () => {
    const dir = path.join(TMP, 'new-folder');
    const w = new NpyFolderWriter(planOutputFolder(dir + '/'), 2);
    await w.layer({ layer: 0, kind: 'causal' }, source(1, 2, 2, 0));
    assert.ok(fs.existsSync(dir), 'the folder exists while the run writes');
    await assert.rejects(w.layer({ layer: 1, kind: 'causal' }, source(1, 2, 2, 0, 0)), /NaN attention/);
    assert.ok(!fs.existsSync(dir), `${dir} was removed`);
  });

  test('an interrupt (abort) before end leaves the folder as it was', async () => {
    const dir = path.join(TMP, 'interrupted');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'layer-00.npy'), 'not really an npy');
    const before = contents(dir);
    const w = new NpyFolderWriter(planOutputFolder(dir + '/'), 2);
    await w.layer({ layer: 0, kind: 'causal' }, source(1, 2, 2, 0));
    await w.layer({ layer: 1, kind: 'causal' }, source(1, 2, 2, 0));
    w.abort();
    assert.deepEqual(contents(dir), before);
  });
});

describe('run --out FOLDER/ that fails at layer 1 (node dist/cli.js)', () => {
  const CLI = path.join(repoRoot, 'dist/cli.js');
  const S = fixtureModel('stories260K');
  const OVERFLOW = path.join(TMP, 'overflow-model');
  const TEXT = 'Once upon a time, there was a little girl named Lily.';
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });

  before(() => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
    fs.mkdirSync(OVERFLOW);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'])
      fs.copyFileSync(path.join(S, f), path.join(OVERFLOW, f));
    fs.chmodSync(path.join(OVERFLOW, 'model.safetensors'), 0o644);
    overflowAttention(OVERFLOW);
  });

  test('into a folder holding an earlier run: every earlier file byte for byte, no temporary file', () => {
    const dir = path.join(TMP, 'cli-earlier');
    const ok = cli('run', '--model', S, '--text', 'Lily had a red ball.', '--out', dir + '/');
    assert.equal(ok.status, 0, ok.stderr);
    fs.writeFileSync(path.join(dir, 'layer-07.npy'), 'a file of the user that no run writes');
    const before = contents(dir);
    assert.ok(before.has('layer-01.npy') && before.has('attention-lens.json'));

    const r = cli('run', '--model', OVERFLOW, '--text', TEXT, '--out', dir + '/');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Layer 1, head 0 gave NaN attention/);
    assert.deepEqual([...contents(dir).keys()], [...before.keys()], 'no file added or removed');
    assert.deepEqual(contents(dir), before);
  });

  test('into a new folder: no folder is left', () => {
    const dir = path.join(TMP, 'cli-new');
    const r = cli('run', '--model', OVERFLOW, '--text', TEXT, '--out', dir + '/');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Layer 1, head 0 gave NaN attention/);
    assert.ok(!fs.existsSync(dir) || fs.readdirSync(dir).length === 0, `${dir} is absent or empty`);
  });
});
