// The attention-lens command as users run it (node dist/cli.js): a good run on stories260K writes JSON whose
// attention equals the independent reference in test/fixtures. Bad input: bad-input-catalogue.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fixtureModel, hfTinyModel, repoRoot } from '../../helpers/fixtures';

const ROOT = repoRoot;
const MODEL = fixtureModel('stories260K');
const CLI = path.join(ROOT, 'dist/cli.js');
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-cli-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
});

describe('good runs', () => {
  test('--help prints the usage and exits 0', () => {
    const r = cli('--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /attention-lens run --model MODEL/);
  });

  test('stories260K with --out: the JSON attention equals reference_attention.json ≤ 1e-5', () => {
    const ref = JSON.parse(readFileSync(path.join(MODEL, 'reference_attention.json'), 'utf8'));
    const out = path.join(TMP, 'run.json');
    const r = cli('run', '--model', MODEL, '--text', ref.text, '--out', out, '--backend', 'native');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /layers\s+5 × 8 heads \(4 key\/value heads/);
    assert.match(r.stdout, /backend\s+native/);
    assert.match(r.stdout, /^L4 H7 {2}entropy \d+\.\d{3} {2}<s>→<s> Once→/m);
    assert.match(r.stdout, /timings\s+load .* first layer .* total/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(json.model.family, 'llama');
    assert.deepEqual(
      json.tokens.map((t: { id: number }) => t.id),
      ref.input_ids,
    );
    assert.deepEqual(json.tokens[1], { id: 403, text: '▁Once', start: 0, end: 4 });
    assert.equal(json.attention.length, 5);
    let worst = 0;
    for (const [l, layer] of json.attention.entries()) {
      assert.equal(layer.layer, l);
      assert.equal(layer.kind, 'causal');
      assert.equal(layer.heads, 8);
      for (let h = 0; h < 8; h++)
        for (let q = 0; q < 17; q++)
          for (let k = 0; k < 17; k++) worst = Math.max(worst, Math.abs(layer.data[h][q][k] - ref.attn[l][h][q][k]));
    }
    assert.ok(worst <= 1e-5, `max diff ${worst}`);
  });

  test('gemma2 (hf-tiny): the facts name its windows, scale and soft-cap; the JSON attention equals transformers', () => {
    const dir = hfTinyModel('gemma2');
    const ref = JSON.parse(readFileSync(path.join(dir, 'reference_attention.json'), 'utf8'));
    const out = path.join(TMP, 'gemma2.json');
    const r = cli('run', '--model', dir, '--text', ref.text, '--out', out, '--backend', 'wasm');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /model_type gemma2/);
    assert.match(r.stdout, /attention\s+causal; sliding window 8 in layers 0, 2; scores × 0\.2041; soft-capped at 2/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    assert.deepEqual(
      json.tokens.map((t: { id: number }) => t.id),
      ref.input_ids,
    );
    let worst = 0;
    for (const [l, layer] of json.attention.entries())
      layer.data.forEach((rows: number[][], h: number) =>
        rows.forEach((row, q) =>
          row.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - ref.attentions[l][h][q][k])))),
        ),
      );
    assert.ok(worst <= 1e-5, `max diff ${worst}`);
  });

  test('--truncate runs text longer than the positions, on wasm, reading --file', () => {
    const file = path.join(TMP, 'long.txt');
    writeFileSync(file, 'Once upon a time. '.repeat(200));
    const r = cli('run', '--model', MODEL, '--file', file, '--truncate', '--backend', 'wasm', '--threads', '1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /tokens\s+512 \(truncated from \d+\)/);
    assert.match(r.stdout, /backend\s+wasm, 1 thread\b/);
    assert.match(r.stdout, /^L4 H7 /m);
  });

  test('--out /dev/stdout piped into head ends quietly with 0, as plain stdout does (it said "EPIPE ... nothing was written", exit 2)', () => {
    const text = 'Once upon a time. '.repeat(20);
    const r = spawnSync(
      'bash',
      [
        '-c',
        'node "$0" export --model "$1" --threads 1 --text "$2" --out /dev/stdout --format csv | head -1; exit ${PIPESTATUS[0]}',
        CLI,
        MODEL,
        text,
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.stdout, 'layer,head,query,key,weight,query_token,key_token\n');
    assert.doesNotMatch(r.stderr, /attention-lens: |EPIPE/);
    assert.equal(r.status, 0, r.stderr);
  });

  test('--file reads a pipe: bash process substitution <(printf ...) gives the same tokens as --text', () => {
    const text = 'Once upon a time, there was a cat.';
    const viaPipe = spawnSync(
      'bash',
      ['-c', 'node "$0" run --model "$1" --threads 1 --file <(printf %s "$2")', CLI, MODEL, text],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(viaPipe.status, 0, viaPipe.stderr);
    const direct = cli('run', '--model', MODEL, '--threads', '1', '--text', text);
    // The token count and every head's line (its tokens and where each attends most).
    const lines = (out: string) => out.split('\n').filter((l) => /^(tokens|L\d+ H\d+ )/.test(l));
    assert.equal(lines(direct.stdout).length, 1 + 5 * 8);
    assert.deepEqual(lines(viaPipe.stdout), lines(direct.stdout));
  });
});
