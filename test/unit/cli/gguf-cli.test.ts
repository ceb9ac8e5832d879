// attention-lens with GGUF models as users run it (node dist/cli.js): --model FILE.gguf and --model ollama:NAME[:TAG]
// (a fake Ollama folder under a fake HOME) run and write the reference attention; every bad GGUF input exits with
// code 2 and one line that names the problem.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tinyLlamaGguf } from '../../helpers/gguf-write';
import { ggufFixturesDir, repoRoot } from '../../helpers/fixtures';

const ROOT = repoRoot;
const CLI = path.join(ROOT, 'dist/cli.js');
const FIXTURES = ggufFixturesDir;
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-gguf-cli-'));
const HOME = path.join(TMP, 'home');
after(() => rmSync(TMP, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, HOME, OLLAMA_MODELS: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectUserError(r: ReturnType<typeof cli>, ...patterns: RegExp[]): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  for (const p of patterns) assert.match(lines[0], p);
}

function file(name: string, bytes: Uint8Array): string {
  const p = path.join(TMP, name);
  writeFileSync(p, bytes);
  return p;
}

before(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
  // `ollama pull smol:q4` as Ollama lays it out: a manifest whose model layer names the blob.
  const bytes = readFileSync(path.join(FIXTURES, 'tiny-llama-kquants.gguf'));
  const hex = createHash('sha256').update(bytes).digest('hex');
  const models = path.join(HOME, '.ollama', 'models');
  mkdirSync(path.join(models, 'blobs'), { recursive: true });
  writeFileSync(path.join(models, 'blobs', `sha256-${hex}`), bytes);
  const manifest = path.join(models, 'manifests', 'registry.ollama.ai', 'library', 'smol');
  mkdirSync(manifest, { recursive: true });
  writeFileSync(
    path.join(manifest, 'q4'),
    JSON.stringify({
      schemaVersion: 2,
      layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${hex}`, size: bytes.length }],
    }),
  );
});

describe('GGUF models from the CLI', () => {
  const ref = JSON.parse(readFileSync(path.join(FIXTURES, 'reference.json'), 'utf8')).fixtures[
    'tiny-llama-kquants.gguf'
  ] as { text: string; input_ids: number[]; shape: number[]; attention: string };
  const want = new Float32Array(Buffer.from(ref.attention, 'base64').buffer.slice(0));

  for (const model of [path.join(FIXTURES, 'tiny-llama-kquants.gguf'), 'ollama:smol:q4']) {
    test(`--model ${path.basename(model)} writes transformers' attention (≤ 1e-4)`, () => {
      const out = path.join(TMP, `${path.basename(model).replace(/[^a-z0-9]/gi, '_')}.json`);
      const r = cli('run', '--model', model, '--text', ref.text, '--out', out);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /layers\s+2 × 4 heads \(2 key\/value heads/);
      const json = JSON.parse(readFileSync(out, 'utf8')) as {
        tokens: { id: number }[];
        attention: { data: number[][][] }[];
      };
      assert.deepEqual(
        json.tokens.map((t) => t.id),
        ref.input_ids,
      );
      const [, H, S] = ref.shape;
      let worst = 0;
      json.attention.forEach((layer, l) =>
        layer.data.forEach((rows, h) =>
          rows.forEach((row, q) =>
            row.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - want[((l * H + h) * S + q) * S + k])))),
          ),
        ),
      );
      assert.ok(worst <= 1e-4, `max |difference| ${worst}`);
    });
  }
});

describe('bad GGUF input: exit code 2 and one line', () => {
  test('not a GGUF file', () =>
    expectUserError(
      cli('run', '--model', file('elf.gguf', Buffer.from('\x7fELF and more bytes here......')), '--text', 'a'),
      /elf\.gguf does not start with "GGUF"/,
    ));
  test('truncated download', () => {
    const good = tinyLlamaGguf();
    expectUserError(
      cli('run', '--model', file('cut.gguf', good.subarray(0, good.length - 100)), '--text', 'a'),
      /cut\.gguf is truncated/,
      /re-download/,
    );
  });
  test('an architecture without a family', () =>
    expectUserError(
      cli(
        'run',
        '--model',
        file('mamba.gguf', tinyLlamaGguf({ meta: { 'general.architecture': { str: 'mamba' } } })),
        '--text',
        'a',
      ),
      /mamba\.gguf: general\.architecture "mamba" is not supported in a GGUF file/,
    ));
  test('a tensor type that cannot be read names the type and the tensor', () => {
    const iq = tinyLlamaGguf({
      meta: { 'llama.embedding_length': { u32: 256 }, 'llama.feed_forward_length': { u32: 256 } },
      tensors: (ts) => [
        ...ts
          .filter((t) => t.name === 'blk.0.attn_q.weight')
          .map((t) => ({ ...t, dims: [256, 256], type: 16, data: new Uint8Array(66 * 256) })),
      ],
    });
    expectUserError(cli('run', '--model', file('iq2.gguf', iq), '--text', 'a'), /blk\.0\.attn_q\.weight/, /IQ2_XXS/);
  });
  test('a pre-tokenizer llama.cpp names that Attention Lens does not know', () =>
    expectUserError(
      cli(
        'run',
        '--model',
        file('pre.gguf', tinyLlamaGguf({ meta: { 'tokenizer.ggml.pre': { str: 'kimi-k2' } } })),
        '--text',
        'a',
      ),
      /kimi-k2/,
    ));
  test('a weight that is not a finite number names the tensor', () => {
    const nan = tinyLlamaGguf({
      tensors: (ts) =>
        ts.map((t) =>
          t.name === 'blk.0.attn_v.weight'
            ? { ...t, data: new Uint8Array(new Float32Array(32 * 32).fill(NaN).buffer) }
            : t,
        ),
    });
    expectUserError(
      cli('run', '--model', file('nan.gguf', nan), '--text', 'a'),
      /nan\.gguf has a non-finite value \(NaN\) in tensor blk\.0\.attn_v\.weight at element 0/,
    );
  });
  test('missing metadata', () =>
    expectUserError(
      cli(
        'run',
        '--model',
        file('nolayers.gguf', tinyLlamaGguf({ meta: { 'llama.block_count': undefined } })),
        '--text',
        'a',
      ),
      /has no llama\.block_count/,
    ));
  test('an Ollama model that is not installed lists the installed ones and says how to pull it', () =>
    expectUserError(
      cli('run', '--model', 'ollama:qwen3:0.6b', '--text', 'a'),
      /no model qwen3:0\.6b/,
      /installed: smol:q4/,
      /ollama pull qwen3:0\.6b/,
    ));
  test('a missing .gguf file', () =>
    expectUserError(cli('run', '--model', path.join(TMP, 'nope.gguf'), '--text', 'a'), /nope\.gguf/));
});
