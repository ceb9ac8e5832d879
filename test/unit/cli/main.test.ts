// The attention-lens command as users run it (node dist/cli.js): every kind of bad input gives exit code 2 and one
// line on stderr naming the problem, no stack trace; a good run on stories260K writes JSON whose attention equals
// the independent reference in test/fixtures.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fixtureModel, hfTinyModel, repoRoot } from '../../helpers/fixtures';

const ROOT = repoRoot;
const MODEL = fixtureModel('stories260K');
const CLI = path.join(ROOT, 'dist/cli.js');
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-cli-'));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts exit code 2 and exactly one stderr line matching every pattern, without a stack trace. */
function expectUserError(r: ReturnType<typeof cli>, ...patterns: RegExp[]): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  for (const p of patterns) assert.match(lines[0], p);
}

/** A copy of stories260K with some files replaced (for broken-model cases). */
function brokenModel(name: string, change: (dir: string) => void): string {
  const dir = path.join(TMP, name);
  mkdirSync(dir);
  for (const f of [
    'config.json',
    'model.safetensors',
    'tokenizer.json',
    'tokenizer_config.json',
    'special_tokens_map.json',
  ])
    copyFileSync(path.join(MODEL, f), path.join(dir, f));
  change(dir);
  return dir;
}

before(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
});

describe('bad input: exit code 2 and one line that names the problem', () => {
  test('missing model folder', () =>
    expectUserError(cli('run', '--model', path.join(TMP, 'nope'), '--text', 'hi'), /does not exist/));

  test('--model is a file', () =>
    expectUserError(cli('run', '--model', path.join(MODEL, 'config.json'), '--text', 'hi'), /not a folder/));

  test('folder without config.json', () => {
    const dir = path.join(TMP, 'empty');
    mkdirSync(dir);
    expectUserError(cli('run', '--model', dir, '--text', 'hi'), /config\.json/);
  });

  test('unsupported model_type names the supported ones', () => {
    const dir = brokenModel('t5', (d) =>
      writeFileSync(path.join(d, 'config.json'), JSON.stringify({ model_type: 't5' })),
    );
    expectUserError(cli('run', '--model', dir, '--text', 'hi'), /t5/, /bert/, /llama/);
  });

  test('truncated safetensors', () => {
    const dir = brokenModel('truncated', (d) => {
      const bytes = readFileSync(path.join(d, 'model.safetensors'));
      writeFileSync(path.join(d, 'model.safetensors'), bytes.subarray(0, bytes.length >> 1));
    });
    expectUserError(
      cli('run', '--model', dir, '--text', 'hi'),
      /safetensors|weights/i,
      /truncat|short|incomplete|corrupt|end/i,
    );
  });

  test('corrupt safetensors header', () => {
    const dir = brokenModel('corrupt', (d) => {
      const bytes = readFileSync(path.join(d, 'model.safetensors'));
      bytes.fill(0x7b, 8, 64); // '{{{{...' : the JSON header no longer parses
      writeFileSync(path.join(d, 'model.safetensors'), bytes);
    });
    expectUserError(cli('run', '--model', dir, '--text', 'hi'), /safetensors|weights|header/i);
  });

  test('weights whose shapes do not match config.json', () => {
    const dir = brokenModel('shape', (d) => {
      const config = JSON.parse(readFileSync(path.join(d, 'config.json'), 'utf8'));
      writeFileSync(path.join(d, 'config.json'), JSON.stringify({ ...config, intermediate_size: 100 }));
    });
    expectUserError(cli('run', '--model', dir, '--text', 'hi'), /shape/i);
  });

  test('a RoPE setting it does not implement is refused by name, not run as plain RoPE', () => {
    const dir = brokenModel('rope', (d) => {
      const config = JSON.parse(readFileSync(path.join(d, 'config.json'), 'utf8'));
      const rope_parameters = { rope_type: 'ntk-by-parts', rope_theta: 10000 };
      writeFileSync(path.join(d, 'config.json'), JSON.stringify({ ...config, rope_parameters }));
    });
    expectUserError(cli('run', '--model', dir, '--text', 'hi'), /rope_parameters\.rope_type/, /ntk-by-parts/);
  });

  test('empty and whitespace-only text', () => {
    expectUserError(cli('run', '--model', MODEL, '--text', ''), /empty/i);
    expectUserError(cli('run', '--model', MODEL, '--text', '  \n '), /empty/i);
  });

  test('text longer than the model’s positions says how many tokens and that --truncate cuts it', () => {
    const r = cli('run', '--model', MODEL, '--text', 'Once upon a time. '.repeat(200));
    expectUserError(r, /\b\d{3,4} tokens\b/, /512/, /--truncate/);
  });

  test('unknown option', () => expectUserError(cli('run', '--model', MODEL, '--text', 'hi', '--colour'), /--colour/));

  test('unknown command', () => expectUserError(cli('walk'), /walk/));

  test('--text and --file both, or neither', () => {
    expectUserError(cli('run', '--model', MODEL, '--text', 'hi', '--file', 'x.txt'), /either --text or --file/);
    expectUserError(cli('run', '--model', MODEL), /--text .*--file/);
  });

  test('missing --model', () => expectUserError(cli('run', '--text', 'hi'), /--model/));

  test('unreadable --file', () =>
    expectUserError(cli('run', '--model', MODEL, '--file', path.join(TMP, 'none.txt')), /--file/, /none\.txt/));

  test('bad --backend and --threads', () => {
    expectUserError(cli('run', '--model', MODEL, '--text', 'hi', '--backend', 'gpu'), /--backend/, /gpu/);
    expectUserError(cli('run', '--model', MODEL, '--text', 'hi', '--threads', 'two'), /--threads/);
  });

  test('unwritable --out', () =>
    expectUserError(
      cli('run', '--model', MODEL, '--text', 'hi', '--out', path.join(TMP, 'no/such/dir/x.json')),
      /--out/,
    ));
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
});
