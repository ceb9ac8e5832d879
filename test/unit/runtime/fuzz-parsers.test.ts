// Robustness: 10,000 random and mutated inputs — 2,500 each to the safetensors reader, the ONNX import (decode,
// index, attention search, external data), the tokenizer.json parser, and the tokenizers' encode — and mutated GGUF
// files (header, weights, graphs, tokenizer) and sentencepiece models must never crash or hang: every case either
// succeeds or throws a LensError with a one-line message. Seeded (mulberry32), so a
// failure names the seed and case that reproduce it. Each case is timed as a hang detector (a case takes
// milliseconds; the bound is 2 s), and each parser's loop has a test timeout.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isLensError } from '../../../runtime/errors';
import { encodeModel, ModelProto, type ModelMsg } from '../../../runtime/formats/onnx-schema';
import { openWeights } from '../../../runtime/formats/safetensors';
import { analyseGraph, indexGraph, parseOnnx, readOnnxFile } from '../../../runtime/onnx/index';
import { loadTokenizer, tokenizerFromJson, type Tokenizer } from '../../../runtime/tokenizers/index';
import { openGguf } from '../../../runtime/formats/gguf-file';
import { readGgufModel } from '../../../runtime/models/gguf-source';
import { buildPlan } from '../../../runtime/models/read-model';
import { ggufChatTemplate, tokenizerFromGguf } from '../../../runtime/tokenizers/from-gguf';
import { sentencePieceTokenizer } from '../../../runtime/tokenizers/sentencepiece';
import { tinyLlamaGguf } from '../../helpers/gguf-write';
import { decoderGraph, encDecWeights, patternGraph, random } from '../../fixtures/onnx/synthetic';
import { fixtureModel, fixturesDir, ggufFixturesDir, miniLmTokenizerDir } from '../../helpers/fixtures';

const TMP = mkdtempSync(path.join(tmpdir(), 'lens-fuzz-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

const CASES = 2500;
const HANG_MS = 2000;
const SEED = 20240611;

/** Uniform integer in [0, n). */
type Rand = (n: number) => number;
function rng(seed: number): Rand {
  const r = random(seed);
  return (n) => Math.floor(((r() + 1) / 2) * n);
}

const counts: Record<string, { ok: number; rejected: number; slowestMs: number }> = {};

/** Runs one case: success, or a one-line LensError; anything else (or a hang) fails with the case number. */
function fuzzCase(parser: string, i: number, run: () => void): void {
  const c = (counts[parser] ??= { ok: 0, rejected: 0, slowestMs: 0 });
  const t0 = performance.now();
  try {
    run();
    c.ok++;
  } catch (e) {
    if (!isLensError(e)) {
      assert.fail(`${parser} case ${i} (seed ${SEED}) crashed with ${e instanceof Error ? e.stack : String(e)}`);
    }
    assert.ok(e.message.length > 0 && !e.message.includes('\n'), `${parser} case ${i}: one-line message`);
    // A value quoted from the file is cut (errors.ts quoted): a message stays readable, never the file's bytes.
    assert.ok(e.message.length <= 1000, `${parser} case ${i}: a ${e.message.length}-character message`);
    c.rejected++;
  }
  const ms = performance.now() - t0;
  c.slowestMs = Math.max(c.slowestMs, ms);
  assert.ok(ms < HANG_MS, `${parser} case ${i} (seed ${SEED}) took ${ms.toFixed(0)} ms: a hang`);
}

/** Byte-level mutations: flips, overwrites, insertions, deletions, truncation, duplication. */
function mutateBytes(src: Uint8Array, rand: Rand): Uint8Array {
  let b = Uint8Array.from(src);
  const edits = 1 + rand(8);
  for (let e = 0; e < edits; e++) {
    const at = rand(Math.max(1, b.length));
    switch (rand(6)) {
      case 0:
        b[at] ^= 1 << rand(8);
        break;
      case 1:
        b[at] = [0, 0xff, 0x7f, 0x80, rand(256)][rand(5)];
        break;
      case 2:
        b = Uint8Array.from([...b.subarray(0, at), rand(256), ...b.subarray(at)]);
        break;
      case 3:
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1 + rand(16))]);
        break;
      case 4:
        b = b.subarray(0, at);
        break;
      default:
        b = Uint8Array.from([...b, ...b.subarray(at, at + rand(64))]);
    }
  }
  return b;
}

function randomBytes(rand: Rand, max = 512): Uint8Array {
  return Uint8Array.from({ length: rand(max) }, () => rand(256));
}

/** A random JSON-ish value for structural mutations. */
function randomValue(rand: Rand, depth = 0): unknown {
  switch (rand(depth > 2 ? 6 : 9)) {
    case 0:
      return null;
    case 1:
      return rand(2) === 0;
    case 2:
      return [0, -1, 1e308, -0.5, 2 ** 53, 7, NaN][rand(7)];
    case 3:
      return ['', 'a', '[UNK]', '▁', 'Ġ', '##', 'x'.repeat(rand(300))][rand(7)];
    case 4:
      return rand(1e6);
    case 5:
      return 'BPE';
    case 6:
      return Array.from({ length: rand(4) }, () => randomValue(rand, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: rand(4) }, () => [
          ['type', 'vocab', 'merges', 'id', 'content'][rand(5)],
          randomValue(rand, depth + 1),
        ]),
      );
  }
}

/** Replaces, deletes or retypes a random path in a JSON object tree. */
function mutateJson(root: unknown, rand: Rand): unknown {
  const copy = structuredClone(root);
  const edits = 1 + rand(4);
  for (let e = 0; e < edits; e++) {
    let node: unknown = copy;
    for (let depth = 0; depth < 6; depth++) {
      if (node === null || typeof node !== 'object') break;
      const keys = Object.keys(node as object);
      if (keys.length === 0) break;
      const key = keys[rand(keys.length)];
      const child = (node as Record<string, unknown>)[key];
      const stop = rand(3) === 0 || child === null || typeof child !== 'object';
      if (stop) {
        const r = rand(3);
        if (r === 0 && !Array.isArray(node)) delete (node as Record<string, unknown>)[key];
        else (node as Record<string, unknown>)[key] = randomValue(rand);
        break;
      }
      node = child;
    }
  }
  return copy;
}

// ---- safetensors

function safetensorsBytes(header: unknown, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const ST_HEADER = {
  __metadata__: { format: 'pt' },
  a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
  b: { dtype: 'F16', shape: [4], data_offsets: [24, 32] },
  c: { dtype: 'BF16', shape: [2, 2], data_offsets: [32, 40] },
  d: { dtype: 'I64', shape: [1], data_offsets: [40, 48] },
  e: { dtype: 'F64', shape: [1], data_offsets: [48, 56] },
};

/** A well-formed file with random tensors (every dtype, empty and zero-size shapes, gaps between tensors). */
function randomValidSafetensors(rand: Rand): Uint8Array {
  const sizes: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1, F8_E4M3: 1 };
  const dtypes = Object.keys(sizes);
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (let t = rand(5); t >= 0; t--) {
    const dtype = dtypes[rand(dtypes.length)];
    const shape = Array.from({ length: rand(4) }, () => rand(4));
    const bytes = shape.reduce((a, b) => a * b, 1) * sizes[dtype];
    offset += rand(3);
    header[`t${t}`] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  return safetensorsBytes(
    header,
    Uint8Array.from({ length: offset + rand(4) }, () => rand(256)),
  );
}

test(`safetensors: ${CASES} random and mutated files`, { timeout: 120_000 }, async () => {
  const rand = rng(SEED);
  const valid = safetensorsBytes(
    ST_HEADER,
    Uint8Array.from({ length: 56 }, (_, i) => i * 7),
  );
  const dir = mkdtempSync(path.join(TMP, 'st-'));
  const file = path.join(dir, 'model.safetensors');
  for (let i = 0; i < CASES; i++) {
    const kind = i % 5;
    const bytes =
      kind === 4
        ? randomValidSafetensors(rand)
        : kind === 0
          ? mutateBytes(valid, rand)
          : kind === 1
            ? safetensorsBytes(mutateJson(ST_HEADER, rand), randomBytes(rand, 80))
            : kind === 2
              ? randomBytes(rand)
              : safetensorsBytes(
                  mutateJson(ST_HEADER, rand),
                  Uint8Array.from({ length: 56 }, () => rand(256)),
                );
    writeFileSync(file, bytes);
    const store = await openWeights(dir).catch((e: unknown) => e);
    fuzzCase('safetensors', i, () => {
      if (store instanceof Error) throw store;
      for (const name of (store as Awaited<ReturnType<typeof openWeights>>).names()) {
        const s = store as Awaited<ReturnType<typeof openWeights>>;
        s.shape(name);
        s.get(name);
      }
    });
  }
});

// ---- ONNX import

function decodeLossless(bytes: Uint8Array): ModelMsg {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, arrays: true, bytes: Uint8Array }) as ModelMsg;
}

/** Structural mutations of a decoded graph: drop, retype, rewire, rename and duplicate nodes and inputs. */
function mutateGraph(model: ModelMsg, rand: Rand): ModelMsg {
  const g = model.graph!;
  const names = [...g.node.flatMap((n) => [...n.input, ...n.output]), ...g.input.map((v) => v.name), ''];
  const ops = ['Softmax', 'MatMul', 'Attention', 'If', 'Dropout', 'Where', 'Cast', 'Add', 'Gather', 'Loop'];
  const edits = 1 + rand(5);
  for (let e = 0; e < edits && g.node.length > 0; e++) {
    const n = g.node[rand(g.node.length)];
    switch (rand(8)) {
      case 0:
        g.node.splice(rand(g.node.length), 1);
        break;
      case 1:
        n.opType = ops[rand(ops.length)];
        break;
      case 2:
        if (n.input.length) n.input[rand(n.input.length)] = names[rand(names.length)];
        break;
      case 3:
        if (n.output.length) n.output[rand(n.output.length)] = names[rand(names.length)];
        break;
      case 4:
        n.domain = ['com.microsoft', 'ai.onnx', 'x.custom', ''][rand(4)];
        break;
      case 5:
        g.node.push({ ...n, input: [...n.input], output: [...n.output] });
        break;
      case 6:
        g.input = g.input.filter(() => rand(3) > 0);
        break;
      default:
        if (g.initializer.length) {
          const t = g.initializer[rand(g.initializer.length)];
          t.dims = [rand(5) - 1, rand(1e6)];
          if (rand(2)) {
            t.dataLocation = 1;
            t.externalData = [{ key: 'location', value: ['../x', 'w.bin', '', '/etc/passwd'][rand(4)] }];
          }
        }
    }
  }
  return model;
}

test(`ONNX import: ${CASES} random and mutated models`, { timeout: 120_000 }, () => {
  const rand = rng(SEED + 1);
  const seeds = [
    patternGraph('plain'),
    patternGraph('dropout-cast-where'),
    patternGraph('rank3'),
    decoderGraph(encDecWeights(1)),
  ];
  const dir = mkdtempSync(path.join(TMP, 'onnx-'));
  writeFileSync(path.join(dir, 'w.bin'), randomBytes(rand, 64));
  const file = path.join(dir, 'model.onnx');
  for (let i = 0; i < CASES; i++) {
    const seed = seeds[rand(seeds.length)];
    const kind = i % 5;
    let bytes: Uint8Array;
    if (kind === 0) bytes = randomBytes(rand);
    else if (kind <= 2) bytes = mutateBytes(seed, rand);
    else {
      try {
        bytes = encodeModel(mutateGraph(decodeLossless(seed), rand));
      } catch {
        bytes = mutateBytes(seed, rand);
      }
    }
    fuzzCase('onnx', i, () => {
      if (kind === 4) {
        writeFileSync(file, bytes);
        const read = readOnnxFile(file);
        analyseGraph(indexGraph(read.graph, 'model.onnx'), 'model.onnx', rand(2) === 0);
      } else {
        const { graph } = parseOnnx(bytes, 'model.onnx');
        analyseGraph(indexGraph(graph, 'model.onnx'), 'model.onnx', rand(2) === 0);
      }
    });
  }
});

// ---- tokenizer.json

/** A tiny WordPiece tokenizer.json with the usual BERT pipeline. */
const WORDPIECE_JSON = {
  version: '1.0',
  added_tokens: [
    { id: 0, content: '[UNK]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    { id: 1, content: '[CLS]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    { id: 2, content: '[SEP]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
  ],
  normalizer: {
    type: 'BertNormalizer',
    clean_text: true,
    handle_chinese_chars: true,
    strip_accents: null,
    lowercase: true,
  },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: {
    type: 'TemplateProcessing',
    single: [
      { SpecialToken: { id: '[CLS]', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '[SEP]', type_id: 0 } },
    ],
    pair: [],
    special_tokens: {
      '[CLS]': { id: '[CLS]', ids: [1], tokens: ['[CLS]'] },
      '[SEP]': { id: '[SEP]', ids: [2], tokens: ['[SEP]'] },
    },
  },
  decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  model: {
    type: 'WordPiece',
    unk_token: '[UNK]',
    continuing_subword_prefix: '##',
    max_input_chars_per_word: 100,
    vocab: { '[UNK]': 0, '[CLS]': 1, '[SEP]': 2, the: 3, cat: 4, '##s': 5, sat: 6, '.': 7, a: 8, '##t': 9 },
  },
};

const FUZZ_TEXTS = [
  'The cats sat.',
  'Once upon a time, there was Lily. 🐈 ünïcödé',
  '  \t\n',
  'ab\u0301c 日本語 \u{10FFFF}',
];

test(`tokenizer.json: ${CASES} mutated and random descriptions`, { timeout: 120_000 }, () => {
  const rand = rng(SEED + 2);
  const stories = JSON.parse(readFileSync(path.join(fixtureModel('stories260K'), 'tokenizer.json'), 'utf8')) as unknown;
  const seeds = [WORDPIECE_JSON, stories];
  for (let i = 0; i < CASES; i++) {
    const kind = i % 5;
    let json: unknown;
    if (kind === 0) {
      const text = new TextDecoder().decode(
        mutateBytes(new TextEncoder().encode(JSON.stringify(WORDPIECE_JSON)), rand),
      );
      try {
        json = JSON.parse(text);
      } catch {
        json = randomValue(rand);
      }
    } else if (kind === 1) json = randomValue(rand);
    else json = mutateJson(seeds[rand(seeds.length)], rand);
    fuzzCase('tokenizer.json', i, () => {
      const tok = tokenizerFromJson(json);
      for (const t of FUZZ_TEXTS) tok.encode(t);
    });
  }
});

// ---- the tokenizers on random text

function randomText(rand: Rand): string {
  const pieces = [
    'the',
    ' ',
    '  ',
    '\n',
    '\t',
    'Ġ',
    '▁',
    '##',
    '[CLS]',
    '<s>',
    '</s>',
    '<unk>',
    '\u0000',
    '\uFEFF',
    'é',
    'e\u0301',
    '🐈',
    '👩‍👩‍👧',
    '日本',
    '\uD800',
    '\uDC00',
    'İ',
    'ß',
    'ﬁ',
    "'s",
    '...',
    'A'.repeat(120),
  ];
  let s = '';
  const n = rand(40);
  for (let i = 0; i < n; i++) {
    s += rand(3) === 0 ? String.fromCodePoint(rand(0x110000) & ~(rand(2) ? 0 : 0xff00)) : pieces[rand(pieces.length)];
    if (s.length > 2000) break;
  }
  return s;
}

test(
  `tokenizers: ${CASES} random texts through the WordPiece, byte-level BPE and sentencepiece BPE tokenizers`,
  { timeout: 120_000 },
  async () => {
    const rand = rng(SEED + 3);
    const tokenizers: Tokenizer[] = await Promise.all([
      loadTokenizer(miniLmTokenizerDir),
      loadTokenizer(fixtureModel('tiny-gpt2')),
      loadTokenizer(fixtureModel('stories260K')),
    ]);
    for (let i = 0; i < CASES; i++) {
      const tok = tokenizers[i % tokenizers.length];
      const text = randomText(rand);
      fuzzCase('tokenizers', i, () => {
        const tokens = tok.encode(text);
        for (const t of tokens) {
          assert.ok(Number.isInteger(t.id) && t.id >= 0 && t.id < tok.vocabSize + 1000, `case ${i}: id ${t.id}`);
          if (t.start !== null && t.end !== null)
            assert.ok(
              0 <= t.start && t.start <= t.end && t.end <= text.length,
              `case ${i}: offsets [${t.start}, ${t.end})`,
            );
        }
        tok.decode(tokens.map((t) => t.id));
      });
    }
  },
);

const FILE_CASES = 400;

/** One edit that keeps the layout: a bit flip, or a byte, u32 or u64 (little-endian) set to an edge value. */
function pokeBytes(src: Uint8Array, rand: Rand): Uint8Array {
  const b = Uint8Array.from(src);
  const view = new DataView(b.buffer);
  const at = rand(Math.max(1, b.length - 8));
  const edge = [0, 1, 2, 7, 0x7f, 0x80, 0xff, 0x7fffffff, 0xffffffff, rand(1 << 16)][rand(10)];
  switch (rand(4)) {
    case 0:
      b[at] ^= 1 << rand(8);
      break;
    case 1:
      b[at] = edge & 0xff;
      break;
    case 2:
      view.setUint32(at, edge, true);
      break;
    default:
      view.setBigUint64(at, [0n, 1n, 1n << 32n, 1n << 40n, 1n << 63n, 0xffffffffffffffffn][rand(6)], true);
  }
  return b;
}

// The header (metadata, tensor infos) is where a reader can go wrong; the tensor data only changes weights.
test(
  `GGUF: ${FILE_CASES} files with a mutated header, read whole (weights, graphs, tokenizer)`,
  { timeout: 120_000 },
  () => {
    const rand = rng(SEED + 4);
    const sources = [tinyLlamaGguf(), readFileSync(path.join(ggufFixturesDir, 'hf-tiny-qwen3.gguf'))].map((b) => {
      const file = path.join(TMP, 'source.gguf');
      writeFileSync(file, b);
      return { bytes: Uint8Array.from(b), header: openGguf(file).header.dataStart };
    });
    const file = path.join(TMP, 'mutated.gguf');
    for (let i = 0; i < FILE_CASES; i++) {
      const { bytes, header } = sources[i % sources.length];
      const head =
        i % 4 < 2 ? pokeBytes(bytes.subarray(0, header), rand) : mutateBytes(bytes.subarray(0, header), rand);
      writeFileSync(file, Buffer.concat([head, bytes.subarray(header)]));
      fuzzCase('gguf', i, () => {
        const source = readGgufModel(file);
        for (const name of source.weights.names()) source.weights.get(name);
        buildPlan(source);
      });
      fuzzCase('gguf tokenizer', i, () => {
        const meta = openGguf(file).meta;
        const tok = tokenizerFromGguf(meta);
        for (const text of ['Hello world, the 14th of March!', '', 'é😀\n\t  x'])
          tok.decode(tok.encode(text).map((t) => t.id));
        ggufChatTemplate(meta);
      });
    }
  },
);

test(`sentencepiece models: ${CASES} mutated model files, loaded and used`, { timeout: 120_000 }, () => {
  const rand = rng(SEED + 5);
  const models = [
    path.join(fixturesDir, 'tokenizers', 'sentencepiece', 'unigram-nmt.model'),
    path.join(fixturesDir, 'tokenizers', 'sentencepiece', 'bpe-suffix.model'),
    path.join(fixturesDir, 'tokenizers', 'sentencepiece', 'unigram-bytes.model'),
  ].map((f) => Uint8Array.from(readFileSync(f)));
  for (let i = 0; i < CASES; i++) {
    const bytes = mutateBytes(models[i % models.length], rand);
    fuzzCase('sentencepiece', i, () => {
      const tok = sentencePieceTokenizer(bytes, 'source.spm');
      for (const text of ['the 14th of March, 2021', '', 'é😀\n\t  x']) tok.decode(tok.encode(text).map((t) => t.id));
    });
  }
});

after(() => {
  const total = Object.values(counts).reduce((a, c) => a + c.ok + c.rejected, 0);
  const lines = Object.entries(counts).map(
    ([p, c]) =>
      `${p}: ${c.ok + c.rejected} cases (${c.ok} parsed, ${c.rejected} rejected with a LensError), slowest ${c.slowestMs.toFixed(1)} ms`,
  );
  console.log(`fuzz: ${total} cases\n  ${lines.join('\n  ')}`);
});
