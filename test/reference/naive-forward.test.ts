// Checks the naive reference forward pass itself against truths that do not come from this project:
// the golden attention and documented greedy output of stories260K, sentence-similarity behaviour of
// all-MiniLM-L6-v2, and structural properties (rows sum to 1, masked entries exactly 0).
//
// Run: node --import tsx --test test/reference/naive-forward.test.ts

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { naiveForward } from './naive-forward';
import { parseSafetensors, readSafetensors } from './safetensors-lite';
import { fixtureModel, miniLmTokenizerDir, repoRoot } from '../helpers/fixtures';

// ---------------------------------------------------------------------------------------------
// Locations

const STORIES = fixtureModel('stories260K');
const TINY_GPT2 = fixtureModel('tiny-gpt2');
const MINILM = join(repoRoot, '.cache', 'models', 'all-MiniLM-L6-v2');
const MINILM_VOCAB = join(miniLmTokenizerDir, 'vocab.txt');

/** Fails (never skips) with a clear message when a folder or file the test needs is missing. */
function requirePath(path: string, what: string, hint: string): string {
  if (!existsSync(path)) assert.fail(`${what} is missing: expected it at ${path}. ${hint}`);
  return path;
}
const MINILM_HINT = 'Run `node scripts/fetch-model.mjs` from the project root to download it.';

// ---------------------------------------------------------------------------------------------
// Helpers

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function argmaxRow(logits: Float32Array, row: number, vocab: number): number {
  let best = 0;
  for (let v = 1; v < vocab; v++) if (logits[row * vocab + v] > logits[row * vocab + best]) best = v;
  return best;
}

/** Asserts every row of every layer's [heads, query, key] map sums to 1 (or is all zero when fully masked). */
function assertRowsSumToOne(attention: Float32Array[], heads: number, seq: number, label: string): void {
  for (let l = 0; l < attention.length; l++) {
    assert.equal(attention[l].length, heads * seq * seq, `${label}: layer ${l} has shape [heads, seq, seq]`);
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < seq; i++) {
        let sum = 0;
        for (let j = 0; j < seq; j++) {
          const p = attention[l][(h * seq + i) * seq + j];
          assert.ok(p >= 0 && p <= 1, `${label}: probability out of range at layer ${l} head ${h} [${i}, ${j}]: ${p}`);
          sum += p;
        }
        assert.ok(Math.abs(sum - 1) < 1e-5, `${label}: row sum ${sum} at layer ${l} head ${h} query ${i}`);
      }
    }
  }
}

function assertCausalZeros(attention: Float32Array[], heads: number, seq: number, label: string): void {
  for (let l = 0; l < attention.length; l++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < seq; i++) {
        for (let j = i + 1; j < seq; j++) {
          assert.equal(
            attention[l][(h * seq + i) * seq + j],
            0,
            `${label}: future key not exactly 0 at layer ${l} head ${h} [${i}, ${j}]`,
          );
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// safetensors-lite

test('safetensors-lite decodes F32, F16 and BF16 by name', () => {
  const f32 = new Float32Array([1.5, -2.25, 3.0e-5, 65504]);
  const f16Bits = [
    0x3c00 /* 1 */, 0xc000 /* -2 */, 0x3555 /* 0.333251953125 */, 0x0001 /* 2^-24 */, 0x7bff /* 65504 */,
    0xfc00 /* -inf */,
  ];
  const f16Want = [1, -2, 0.333251953125, 2 ** -24, 65504, -Infinity];
  const bf16Bits = [0x3f80 /* 1 */, 0xc0a0 /* -5 */, 0x3e80 /* 0.25 */, 0x4049 /* 3.140625 */];
  const bf16Want = [1, -5, 0.25, 3.140625];

  const f16Bytes = new Uint8Array(new Uint16Array(f16Bits).buffer);
  const bf16Bytes = new Uint8Array(new Uint16Array(bf16Bits).buffer);
  const f32Bytes = new Uint8Array(f32.buffer);
  // Deliberately odd order and a header whose length leaves the data unaligned.
  const header = {
    __metadata__: { format: 'pt' },
    half: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 12] },
    brain: { dtype: 'BF16', shape: [4], data_offsets: [12, 20] },
    single: { dtype: 'F32', shape: [2, 2], data_offsets: [20, 36] },
    ids: { dtype: 'I64', shape: [1], data_offsets: [36, 44] },
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header) + ' ');
  const file = new Uint8Array(8 + headerBytes.length + 44);
  new DataView(file.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  file.set(headerBytes, 8);
  file.set(f16Bytes, 8 + headerBytes.length);
  file.set(bf16Bytes, 8 + headerBytes.length + 12);
  file.set(f32Bytes, 8 + headerBytes.length + 20);

  const dir = mkdtempSync(join(tmpdir(), 'naive-st-'));
  try {
    const path = join(dir, 'x.safetensors');
    writeFileSync(path, file);
    for (const st of [parseSafetensors(file), readSafetensors(path)]) {
      assert.deepEqual(st.names, ['half', 'brain', 'single', 'ids']);
      assert.deepEqual(st.metadata, { format: 'pt' });
      assert.deepEqual(st.shape('half'), [2, 3]);
      assert.deepEqual([...st.get('half')], f16Want);
      assert.deepEqual([...st.get('brain')], bf16Want);
      assert.deepEqual([...st.get('single')], [...f32]);
      assert.throws(() => st.get('ids'), /unsupported dtype I64/);
      assert.throws(() => st.get('nope'), /no tensor named "nope"/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// stories260K (Llama): golden attention and documented greedy output

interface StoriesReference {
  input_ids: number[];
  tokens: string[];
  shape: [number, number, number, number];
  attn: number[][][][]; // [layer][head][query][key]
  argmax_next: number[];
}

test('stories260K: attention equals reference_attention.json to 1e-5', () => {
  const ref = JSON.parse(readFileSync(join(STORIES, 'reference_attention.json'), 'utf8')) as StoriesReference;
  const ids = ref.input_ids;
  const n = ids.length;
  const out = naiveForward(STORIES, ids);
  assert.equal(out.layers, ref.shape[0]);
  assert.equal(out.heads, ref.shape[1]);
  assert.equal(out.attention.length, out.layers);

  let worst = 0;
  for (let l = 0; l < out.layers; l++) {
    const flat = new Float64Array(out.heads * n * n); // [heads, query, key]
    for (let h = 0; h < out.heads; h++) {
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) flat[(h * n + i) * n + j] = ref.attn[l][h][i][j] ?? 0;
    }
    worst = Math.max(worst, maxAbsDiff(out.attention[l], flat));
  }
  assert.ok(worst <= 1e-5, `max abs diff ${worst} > 1e-5`);
  assertRowsSumToOne(out.attention, out.heads, n, 'stories260K');
  assertCausalZeros(out.attention, out.heads, n, 'stories260K');

  // The reference also records the greedy next token at every position.
  assert.ok(out.logits, 'stories260K has tied embeddings, so logits are expected');
  const vocab = out.logits.length / n;
  assert.equal(vocab, 512);
  assert.deepEqual(
    ids.map((_, t) => argmaxRow(out.logits!, t, vocab)),
    ref.argmax_next,
  );
  assert.equal(out.lastHidden.length, n * 64);
});

test('stories260K: greedy decoding from <s> tells the documented story', () => {
  const tokenizer = JSON.parse(readFileSync(join(STORIES, 'tokenizer.json'), 'utf8'));
  const vocab = tokenizer.model.vocab as Record<string, number>;
  const idToToken: string[] = [];
  for (const [tok, id] of Object.entries(vocab)) idToToken[id] = tok;
  // sentencepiece decode: '▁' -> ' ', <0xNN> byte fallback, strip the one leading space.
  const decode = (ids: number[]): string => {
    const bytes: number[] = [];
    for (const id of ids) {
      const tok = idToToken[id];
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(tok);
      if (m) bytes.push(parseInt(m[1], 16));
      else bytes.push(...Buffer.from(tok.replaceAll('▁', ' '), 'utf8'));
    }
    return Buffer.from(bytes).toString('utf8').replace(/^ /, '');
  };

  const ids = [1]; // <s>
  for (let step = 0; step < 40; step++) {
    const { logits } = naiveForward(STORIES, ids);
    ids.push(argmaxRow(logits!, ids.length - 1, logits!.length / ids.length));
  }
  const text = decode(ids.slice(1));
  const expected = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park.';
  assert.ok(text.startsWith(expected), `greedy text was: ${JSON.stringify(text)}`);
});

// ---------------------------------------------------------------------------------------------
// tiny-gpt2: structure

test('tiny-gpt2: rows sum to 1, future keys exactly 0, tied logits', () => {
  const ids = [464, 3797, 3332, 319, 262, 2603, 13, 50256]; // "The cat sat on the mat." + <|endoftext|>
  const n = ids.length;
  const out = naiveForward(TINY_GPT2, ids);
  assert.equal(out.layers, 2);
  assert.equal(out.heads, 2);
  assert.equal(out.attention.length, 2);
  assertRowsSumToOne(out.attention, out.heads, n, 'tiny-gpt2');
  assertCausalZeros(out.attention, out.heads, n, 'tiny-gpt2');
  assert.equal(out.lastHidden.length, n * 2);
  assert.ok(out.logits);
  assert.equal(out.logits.length, n * 50257);
  // Tied head: logits[t, v] = lastHidden[t] · wte[v].
  const wte = readSafetensors(join(TINY_GPT2, 'model.safetensors')).get('transformer.wte.weight');
  for (const [t, v] of [
    [0, 0],
    [3, 1234],
    [n - 1, 50256],
  ]) {
    const want = out.lastHidden[t * 2] * wte[v * 2] + out.lastHidden[t * 2 + 1] * wte[v * 2 + 1];
    assert.ok(Math.abs(out.logits[t * 50257 + v] - want) < 1e-6);
  }
  // Padding mask on a decoder: the padded key gets weight 0 in every later row.
  const masked = naiveForward(
    TINY_GPT2,
    ids,
    ids.map((_, t) => (t === 2 ? 0 : 1)),
  );
  for (const layer of masked.attention) {
    for (let h = 0; h < 2; h++) for (let i = 2; i < n; i++) assert.equal(layer[(h * n + i) * n + 2], 0);
  }
});

// ---------------------------------------------------------------------------------------------
// all-MiniLM-L6-v2 (BERT): sentence similarity

let vocabCache: Map<string, number> | undefined;
/** WordPiece ids by whole-word lookup (uncased): [CLS] words... [SEP]. Asserts every word is in the vocab. */
function miniLmIds(sentence: string): number[] {
  if (!vocabCache) {
    const lines = readFileSync(MINILM_VOCAB, 'utf8').split('\n');
    vocabCache = new Map(lines.map((w, i) => [w.replace(/\r$/, ''), i])); // line number (0-based) = id
  }
  const words = sentence.toLowerCase().match(/[a-z0-9]+|[^\sa-z0-9]/g) ?? [];
  const ids = words.map((w) => {
    const id = vocabCache!.get(w);
    assert.ok(id !== undefined, `"${w}" is not a whole word in the vocabulary`);
    return id;
  });
  assert.equal(vocabCache.get('[CLS]'), 101);
  assert.equal(vocabCache.get('[SEP]'), 102);
  return [101, ...ids, 102];
}

/** Mean-pooled (over real tokens), L2-normalised sentence embedding. */
function embed(sentence: string): Float64Array {
  const ids = miniLmIds(sentence);
  const out = naiveForward(MINILM, ids);
  const hidden = out.lastHidden.length / ids.length;
  const v = new Float64Array(hidden);
  for (let t = 0; t < ids.length; t++)
    for (let i = 0; i < hidden; i++) v[i] += out.lastHidden[t * hidden + i] / ids.length;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

const cosine = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + x * b[i], 0);

test('all-MiniLM-L6-v2: similar sentences are close, unrelated ones are not', () => {
  requirePath(join(MINILM, 'model.safetensors'), 'all-MiniLM-L6-v2', MINILM_HINT);
  assert.deepEqual(miniLmIds('the cat sat on the mat.'), [101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 102]);
  const cat = embed('the cat sat on the mat.');
  const cat2 = embed('a cat was sitting on a mat.');
  const stocks = embed('stock markets fell sharply today.');
  const similar = cosine(cat, cat2);
  const unrelated = cosine(cat, stocks);
  assert.ok(similar > 0.5, `cos(cat, cat2) = ${similar}`);
  assert.ok(unrelated < 0.3, `cos(cat, stocks) = ${unrelated}`);
  assert.ok(similar > unrelated + 0.3);
});

test('all-MiniLM-L6-v2: attention rows sum to 1; padded keys get exactly 0 and change nothing else', () => {
  requirePath(join(MINILM, 'model.safetensors'), 'all-MiniLM-L6-v2', MINILM_HINT);
  const ids = miniLmIds('the cat sat on the mat.');
  const n = ids.length;
  const plain = naiveForward(MINILM, ids);
  assert.equal(plain.layers, 6);
  assert.equal(plain.heads, 12);
  assert.equal(plain.logits, undefined);
  assert.equal(plain.lastHidden.length, n * 384);
  assertRowsSumToOne(plain.attention, plain.heads, n, 'MiniLM');

  const pad = 3;
  const m = n + pad;
  const padded = naiveForward(MINILM, [...ids, 0, 0, 0], [...ids.map(() => 1), 0, 0, 0]);
  assertRowsSumToOne(padded.attention, padded.heads, m, 'MiniLM padded');
  let worst = 0;
  for (let l = 0; l < 6; l++) {
    for (let h = 0; h < 12; h++) {
      for (let i = 0; i < m; i++) {
        for (let j = n; j < m; j++)
          assert.equal(padded.attention[l][(h * m + i) * m + j], 0, 'padded key must be exactly 0');
      }
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          worst = Math.max(
            worst,
            Math.abs(padded.attention[l][(h * m + i) * m + j] - plain.attention[l][(h * n + i) * n + j]),
          );
        }
      }
    }
  }
  assert.ok(worst < 1e-6, `padding changed real-token attention by ${worst}`);
  assert.ok(maxAbsDiff(padded.lastHidden.subarray(0, n * 384), plain.lastHidden) < 1e-5);
});

test('naiveForward: a missing model folder fails with a clear message', () => {
  assert.throws(() => naiveForward(join(tmpdir(), 'no-such-model-folder'), [1]), /missing .*config\.json/);
});
