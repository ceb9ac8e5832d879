// Bad values in a model's own files, found by a fuzzer: each must give ONE line that names the file and the field
// (config.json field, GGUF metadata key, blk.* tensor, safetensors entry), before anything is sized by it —
//   absurd integers (layers 1e9, hidden 1e300, 2^53...) are refused at parse time instead of crashing V8;
//   strings from a file that name JavaScript built-ins (toString, constructor, __proto__) are unknown values, not
//   lookups that fall through to Object.prototype;
//   GGUF files are talked about in GGUF terms (keys, blk.* tensor names), never config.json's.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { isLensError, type LensErrorCode } from '../../../../runtime/errors';
import { parseConfig } from '../../../../runtime/formats/config-normalise';
import { isSeq2SeqConfig, normaliseSeq2SeqConfig } from '../../../../runtime/models/seq2seq-config';
import { bytesSource, parseGgufHeader } from '../../../../runtime/formats/gguf-read';
import { parseHeader } from '../../../../runtime/formats/safetensors-bytes';
import { readGgufModel } from '../../../../runtime/models/gguf-source';
import { fixtureModel, repoRoot } from '../../../helpers/fixtures';
import { tinyLlamaGguf, type MetaValue, type TensorSpec } from '../../../helpers/gguf-write';

let TMP = '';
before(() => {
  TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-bad-fields-'));
});
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

/** Asserts `fn` throws one LensError line with `code` matching every pattern and none of `not`; returns the message. */
function fails(code: LensErrorCode, patterns: RegExp[], fn: () => unknown, not: RegExp[] = []): string {
  let message = '';
  assert.throws(fn, (e) => {
    assert.ok(isLensError(e), `a LensError, not ${String(e)}`);
    message = e.message;
    assert.equal(e.code, code, e.message);
    for (const p of patterns) assert.match(e.message, p);
    for (const p of not) assert.doesNotMatch(e.message, p);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    return true;
  });
  return message;
}

const LLAMA = {
  model_type: 'llama',
  hidden_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  intermediate_size: 128,
  vocab_size: 100,
  max_position_embeddings: 512,
};
const llama = (change: Record<string, unknown>) => JSON.stringify({ ...LLAMA, ...change });

test('a sane llama config still parses (the bounds are generous)', () => {
  const c = parseConfig(llama({ num_hidden_layers: 126, vocab_size: 262144, max_position_embeddings: 10485760 }));
  assert.equal(c.layers, 126);
});

test('absurd integer config values are refused at parse time, naming the field and the file', () => {
  const where = 'config.json in /m';
  for (const [field, value] of [
    ['num_hidden_layers', 1e9],
    ['num_hidden_layers', 1e8],
    ['num_hidden_layers', 2 ** 53],
    ['hidden_size', 1e300],
    ['num_attention_heads', 2 ** 40],
    ['num_key_value_heads', 2 ** 31],
    ['intermediate_size', 1e12],
    ['vocab_size', 2 ** 30],
    ['head_dim', 2 ** 31],
    ['max_position_embeddings', 2 ** 53],
  ] as const)
    fails(
      'BAD_CONFIG',
      [new RegExp(`config\\.json in /m: field ${field} = `), /corrupt/],
      () => parseConfig(llama({ [field]: value }), where),
      [/GB/],
    );
  // Other families' names for the same things.
  fails('BAD_CONFIG', [/field n_layer = 1000000000/], () =>
    parseConfig(
      JSON.stringify({ model_type: 'gpt2', n_embd: 64, n_head: 4, n_layer: 1e9, n_positions: 64, vocab_size: 10 }),
    ),
  );
  fails('BAD_CONFIG', [/field n_layers = 1000000000/], () =>
    parseConfig(
      JSON.stringify({
        model_type: 'distilbert',
        dim: 64,
        n_heads: 4,
        n_layers: 1e9,
        hidden_dim: 128,
        max_position_embeddings: 64,
        vocab_size: 10,
      }),
    ),
  );
  fails('BAD_CONFIG', [/\(text_config\): field num_hidden_layers = 1000000000/], () =>
    parseConfig(
      JSON.stringify({
        model_type: 'gemma3',
        text_config: { ...LLAMA, model_type: 'gemma3_text', num_hidden_layers: 1e9 },
      }),
    ),
  );
});

test('a model_type that is not a string, or names a JavaScript built-in, is said to be so', () => {
  fails('BAD_CONFIG', [/field model_type must be a string.*found 5/], () => parseConfig(llama({ model_type: 5 })), [
    /has no "model_type"/,
  ]);
  for (const t of ['constructor', '__proto__', 'toString', 'hasOwnProperty'])
    fails(
      'UNSUPPORTED_MODEL',
      [new RegExp(`model_type "${t}" is not supported`)],
      () => parseConfig(llama({ model_type: t })),
      [/missing field/],
    );
});

test('safetensors: a dtype that names a JavaScript built-in is unknown; a non-object entry is malformed', () => {
  const header = (entry: unknown) => JSON.stringify({ a: entry });
  for (const dtype of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
    const text = header({ dtype, shape: [2], data_offsets: [0, 8] });
    fails('CORRUPT_WEIGHTS', [new RegExp(`tensor a with unknown dtype "${dtype}"`)], () =>
      parseHeader('m.safetensors', text, text.length, 8 + text.length + 8),
    );
  }
  for (const entry of [[1], 'F32', 7]) {
    const text = header(entry);
    fails('CORRUPT_WEIGHTS', [/malformed header entry for tensor a/], () =>
      parseHeader('m.safetensors', text, text.length, 8 + text.length + 8),
    );
  }
});

/** Writes a tiny llama GGUF with these changes and opens it as a model. */
function gguf(
  name: string,
  meta: Record<string, MetaValue | undefined>,
  tensors?: (t: TensorSpec[]) => TensorSpec[],
): () => unknown {
  const file = path.join(TMP, name);
  fs.writeFileSync(file, tinyLlamaGguf({ meta, tensors }));
  return () => readGgufModel(file);
}

test('a sane tiny GGUF still loads', () => {
  const m = gguf('ok.gguf', {})() as { config: { layers: number } };
  assert.equal(m.config.layers, 1);
});

test('GGUF: absurd integer metadata is refused, naming the key and the file', () => {
  for (const [key, value] of [
    ['llama.block_count', 2 ** 31],
    ['llama.block_count', 2 ** 32 - 1],
    ['llama.context_length', 2 ** 32 - 1],
    ['llama.feed_forward_length', 2 ** 31],
    ['llama.attention.key_length', 2 ** 31],
    ['llama.attention.value_length', 2 ** 31],
    ['llama.embedding_length', 2 ** 30],
  ] as const)
    fails(
      'BAD_CONFIG',
      [new RegExp(`^b\\.gguf \\(GGUF metadata\\): ${key.replace(/\./g, '\\.')} = ${value} `), /corrupt/],
      gguf('b.gguf', { [key]: { u32: value } }),
      [/config\.json/, /num_hidden_layers/],
    );
});

test('GGUF: an empty array for an integer key is said to be empty, not "different in different layers"', () => {
  fails(
    'CORRUPT_WEIGHTS',
    [/e\.gguf has llama\.block_count = \[\] \(an empty array\)/],
    gguf('e.gguf', { 'llama.block_count': { i32s: [] } }),
    [/different/],
  );
});

test('GGUF: general.architecture that names a built-in, or is supported only from folders, is said to be so', () => {
  for (const arch of ['constructor', '__proto__', 'toString'])
    fails(
      'UNSUPPORTED_MODEL',
      [
        new RegExp(`a\\.gguf: general\\.architecture "${arch}" is not supported`),
        /GGUF files of architecture llama, mistral/,
      ],
      gguf('a.gguf', { 'general.architecture': { str: arch } }),
      [/model_type/],
    );
  const msg = fails(
    'UNSUPPORTED_MODEL',
    [
      /t5\.gguf: general\.architecture "t5" is not supported in a GGUF file/,
      /GGUF files of architecture llama/,
      /t5 runs from a Hugging Face folder/,
    ],
    gguf('t5.gguf', { 'general.architecture': { str: 't5' } }),
  );
  const listed = /runs GGUF files of architecture ([^(]*)/.exec(msg)?.[1] ?? '';
  assert.ok(listed.includes('llama') && !/\bt5\b/.test(listed), `t5 is not listed as a GGUF architecture: ${msg}`);
});

/** A GGUF v3 file with one u64 metadata value and one 8-byte F32 tensor, aligned to 32 bytes. */
function ggufU64(key: string, value: bigint): Uint8Array {
  const parts: Buffer[] = [];
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    parts.push(b);
  };
  const u64 = (v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    parts.push(b);
  };
  const str = (s: string) => {
    u64(BigInt(Buffer.byteLength(s)));
    parts.push(Buffer.from(s));
  };
  parts.push(Buffer.from('GGUF'));
  u32(3);
  u64(1n);
  u64(1n);
  str(key);
  u32(10);
  u64(value);
  str('w');
  u32(1);
  u64(2n);
  u32(0);
  u64(0n);
  const size = parts.reduce((a, b) => a + b.length, 0);
  parts.push(Buffer.alloc((32 - (size % 32)) % 32), Buffer.alloc(32));
  return Buffer.concat(parts);
}

test('GGUF: general.alignment past 2^32 is checked as a power of two with exact arithmetic', () => {
  const parse = (b: Uint8Array) => parseGgufHeader('al.gguf', bytesSource(b));
  assert.equal(parse(ggufU64('general.alignment', 32n)).alignment, 32);
  fails('CORRUPT_WEIGHTS', [/al\.gguf has general\.alignment 12884901888, which is not a power of two/], () =>
    parse(ggufU64('general.alignment', 3n * 2n ** 32n)),
  );
  fails('CORRUPT_WEIGHTS', [/al\.gguf has general\.alignment 8589934592, larger than the file/], () =>
    parse(ggufU64('general.alignment', 2n ** 33n)),
  );
  fails('CORRUPT_WEIGHTS', [/general\.alignment 1152921504606846976, larger than the file/], () =>
    parse(ggufU64('general.alignment', 2n ** 60n)),
  );
});

test('GGUF: tensors that do not match the metadata are named as blk.* tensors of the GGUF file', () => {
  const resize = (name: string, dims: number[]) => (ts: TensorSpec[]) =>
    ts.map((t) => (t.name === name ? { ...t, dims, data: new Uint8Array(4 * dims.reduce((a, b) => a * b, 1)) } : t));
  fails(
    'SHAPE_MISMATCH',
    [/q\.gguf: tensor blk\.0\.attn_q\.weight has dims \[32, 64\]/, /\[32, 32\]/, /llama\.embedding_length/],
    gguf('q.gguf', {}, resize('blk.0.attn_q.weight', [32, 64])),
    [/config\.json/, /q_proj/, /model\.layers/],
  );
  fails(
    'SHAPE_MISMATCH',
    [/nt\.gguf has no tensor token_embd\.weight/],
    gguf('nt.gguf', {}, (ts) => ts.filter((t) => t.name !== 'token_embd.weight')),
    [/embed_tokens/, /prefixes/],
  );
  fails(
    'SHAPE_MISMATCH',
    [/nk\.gguf has no tensor blk\.0\.attn_k\.weight/, /llama\.block_count/],
    gguf('nk.gguf', {}, (ts) => ts.filter((t) => t.name !== 'blk.0.attn_k.weight')),
    [/k_proj/],
  );
  fails(
    'SHAPE_MISMATCH',
    [/l2\.gguf has no tensor blk\.1\.attn_norm\.weight/, /llama\.block_count 2/],
    gguf('l2.gguf', { 'llama.block_count': { u32: 2 } }),
    [/model\.layers/],
  );
});

test('GGUF: bad epsilon and RoPE base are named by their GGUF keys, not config.json', () => {
  fails(
    'BAD_CONFIG',
    [/eps\.gguf \(GGUF metadata\): llama\.attention\.layer_norm_rms_epsilon must be a number greater than 0, found -1/],
    gguf('eps.gguf', { 'llama.attention.layer_norm_rms_epsilon': { f32: -1 } }),
    [/config\.json/, /rms_norm_eps/],
  );
  fails(
    'BAD_CONFIG',
    [/theta\.gguf \(GGUF metadata\): llama\.rope\.freq_base must be a number greater than 0, found 0/],
    gguf('theta.gguf', { 'llama.rope.freq_base': { f32: 0 } }),
    [/config\.json/, /rope_theta/],
  );
});

// End to end: the CLI must print one line and exit 2 (before: ~20 s at 1.5 GB, then V8's
// "FATAL ERROR: invalid table size Alloca" and exit 134).
const CLI = process.env.CATALOGUE_CLI ?? path.join(repoRoot, 'dist/cli.js');

function cli(model: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [CLI, 'run', '--model', model, '--text', 'The cat sat.'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

test('CLI: 1e9 layers in config.json or 2^31 blocks in a GGUF is one line naming the field, exit 2', () => {
  if (!process.env.CATALOGUE_CLI)
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
  const dir = path.join(TMP, 'stories-layers');
  fs.cpSync(fixtureModel('stories260K'), dir, { recursive: true });
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: 1e9 }));
  const a = cli(dir);
  assert.equal(a.status, 2, a.out);
  assert.match(a.out, /^attention-lens: config\.json in .*stories-layers: field num_hidden_layers = 1000000000 /);
  assert.ok(!a.out.includes('\n'), `one line: ${a.out}`);

  const file = path.join(TMP, 'blocks.gguf');
  fs.writeFileSync(file, tinyLlamaGguf({ meta: { 'llama.block_count': { u32: 2 ** 31 } } }));
  const b = cli(file);
  assert.equal(b.status, 2, b.out);
  assert.match(b.out, /^attention-lens: blocks\.gguf \(GGUF metadata\): llama\.block_count = 2147483648 /);
  assert.ok(!b.out.includes('\n'), `one line: ${b.out}`);
});

test('encoder–decoder configs: built-in names are no model_type, absurd layer counts are refused', () => {
  for (const t of ['constructor', '__proto__', 'toString']) {
    assert.equal(isSeq2SeqConfig({ model_type: t }), false, `${t} is not an encoder–decoder`);
    fails('UNSUPPORTED_MODEL', [new RegExp(`model_type ${t} is not an encoder–decoder`)], () =>
      normaliseSeq2SeqConfig({ model_type: t }),
    );
  }
  const marian = JSON.parse(
    fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-marian-dates', 'config.json'), 'utf8'),
  ) as Record<string, unknown>;
  normaliseSeq2SeqConfig(marian);
  fails('BAD_CONFIG', [/field encoder_layers = 1000000000 is not a plausible layer count/], () =>
    normaliseSeq2SeqConfig({ ...marian, encoder_layers: 1e9 }),
  );
});
