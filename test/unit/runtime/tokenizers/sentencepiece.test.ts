// Sentencepiece model files read and run by our own code, against Google's `sentencepiece` library: the same ids and
// pieces on 207 strings (dates, accents, CJK, emoji, full-width and NFKC-sensitive characters, runs of spaces, tabs,
// newlines, control characters, empty text) for six models — tiny-marian-dates' BPE (user-defined symbols, nmt_nfkc),
// an opus-mt-style unigram (nmt_nfkc), a unigram with byte fallback, user-defined symbols, nfkc and extra whitespace
// kept, a BPE with whitespace as suffix and byte fallback, and unigram / BPE models with UNUSED pieces — and the same
// offsets (see scripts/make-spm-fixtures.py for the one documented difference), a few of them checked by hand.
// Broken files are one BAD_TOKENIZER line naming the file; random text never breaks any of these tokenizers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Writer } from 'protobufjs/minimal';
import { isLensError } from '../../../../runtime/errors';
import { loadTokenizer, tokenizerFromJson } from '../../../../runtime/tokenizers/index';
import { NormalizedText } from '../../../../runtime/tokenizers/normalized-text';
import { loadSentencePiece, sentencePieceTokenizer } from '../../../../runtime/tokenizers/sentencepiece';
import { readSentencePieceModel } from '../../../../runtime/tokenizers/sentencepiece-model';
import { PrecompiledCharsMap } from '../../../../runtime/tokenizers/precompiled-charsmap';
import { repoRoot, fixturesDir } from '../../../helpers/fixtures';

const FIX = fixturesDir;
const fixture = (...p: string[]): Uint8Array => readFileSync(path.join(FIX, ...p));

interface SpmCase {
  text: string;
  ids: number[];
  pieces: string[];
  spm_offsets: ([number, number] | null)[];
  offsets: [number, number][];
}
const REF = JSON.parse(readFileSync(path.join(FIX, 'tokenizers', 'sentencepiece', 'spm-reference.json'), 'utf8')) as {
  models: Record<string, { file: string; cases: SpmCase[] }>;
};

function pieces(model: string, text: string): [string, number, number, number][] {
  const sp = loadSentencePiece(readFileSync(path.resolve(repoRoot, REF.models[model].file)), model);
  return sp.encodePieces(NormalizedText.fromOriginal(text)).map((p) => [p.piece, p.id, p.start, p.end]);
}

function bad(fn: () => unknown, ...mentions: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isLensError(e), `a LensError, got ${String(e)}`);
    assert.equal(e.code, 'BAD_TOKENIZER');
    assert.ok(!e.message.includes('\n'), 'one line');
    for (const m of mentions) assert.ok(e.message.includes(m), `"${e.message}" mentions ${m}`);
    return true;
  });
}

for (const [name, model] of Object.entries(REF.models)) {
  test(`${name}: ids, pieces and offsets equal sentencepiece's on every fixture string`, () => {
    const file = path.resolve(repoRoot, model.file);
    const sp = loadSentencePiece(readFileSync(file), model.file);
    const tok = sentencePieceTokenizer(readFileSync(file), model.file);
    assert.ok(model.cases.length >= 200);
    for (const c of model.cases) {
      const got = sp.encodePieces(NormalizedText.fromOriginal(c.text));
      assert.deepEqual(
        { ids: got.map((p) => p.id), pieces: got.map((p) => p.piece), offsets: got.map((p) => [p.start, p.end]) },
        { ids: c.ids, pieces: c.pieces, offsets: c.offsets },
        `text ${JSON.stringify(c.text)}`,
      );
      assert.deepEqual(
        tok.encode(c.text).map((t) => [t.id, t.start, t.end]),
        got.map((p) => [p.id, p.start, p.end]),
      );
      // Where a span is not sentencepiece's own, it starts at the same place and only ends later (sentencepiece's
      // ends inside one character's normalization, or is empty: a lone dummy ▁, a byte piece before the last).
      c.spm_offsets.forEach((spmSpan, i) => {
        if (spmSpan === null) return;
        assert.equal(spmSpan[0], c.offsets[i][0], `${JSON.stringify(c.text)} piece ${i}`);
        assert.ok(spmSpan[1] < c.offsets[i][1], `${JSON.stringify(c.text)} piece ${i}`);
      });
    }
  });
}

test('the fixture models exercise what they are meant to', () => {
  const m = (f: string) => readSentencePieceModel(fixture('tokenizers', 'sentencepiece', f), f);
  const dates = readSentencePieceModel(fixture('models', 'tiny-marian-dates', 'source.spm'), 'source.spm');
  assert.equal(dates.trainer.modelType, 'bpe');
  assert.equal(dates.normalizer.name, 'nmt_nfkc');
  assert.deepEqual(
    dates.pieces.filter((p) => p.type === 4).map((p) => p.piece),
    ['-', '.'],
  );
  const nmt = m('unigram-nmt.model');
  assert.equal(nmt.trainer.modelType, 'unigram');
  assert.equal(nmt.normalizer.name, 'nmt_nfkc');
  assert.ok(nmt.normalizer.precompiledCharsmap.length > 100_000);
  const bytes = m('unigram-bytes.model');
  assert.ok(bytes.trainer.byteFallback && !bytes.normalizer.removeExtraWhitespaces);
  assert.equal(bytes.normalizer.name, 'nfkc');
  const suffix = m('bpe-suffix.model');
  assert.ok(suffix.trainer.treatWhitespaceAsSuffix && suffix.trainer.byteFallback);
  assert.equal(suffix.normalizer.precompiledCharsmap.length, 0);
  assert.equal(m('unigram-unused.model').pieces.filter((p) => p.type === 5).length, 4);
  assert.equal(m('bpe-unused.model').pieces.filter((p) => p.type === 5).length, 4);
  // The strings reach byte fallback, unknown pieces and UNUSED resegmentation.
  const cases = REF.models['unigram-bytes'].cases;
  assert.ok(cases.some((c) => c.pieces.some((p) => /^<0x[0-9A-F]{2}>$/.test(p))));
  assert.ok(REF.models['unigram-nmt'].cases.some((c) => c.ids.includes(0)));
  // UNUSED pieces never come out: sentencepiece splits them back into the pieces they were merged from.
  const unused = ['▁the', 'th', '▁2021', 'ber'];
  assert.ok(REF.models['bpe-unused'].cases.every((c) => !c.pieces.some((p) => unused.includes(p))));
  assert.ok(REF.models['tiny-marian-dates'].cases.some((c) => c.pieces.some((p) => unused.includes(p))));
});

test('offsets checked by hand: NFKC expansions and contractions map back to the original characters', () => {
  // tiny-marian-dates (BPE, nmt_nfkc). "Ａ" (U+FF21) → "A", "①" → "1", "ﬁ" → "fi" split into two pieces that both
  // cover the ligature; the tab becomes a space (▁); "x" is not in the vocabulary (the model was trained on dates).
  assert.deepEqual(pieces('tiny-marian-dates', 'Ａ①ﬁ\tx'), [
    ['▁A', 41, 0, 1],
    ['1', 357, 1, 2],
    ['f', 381, 2, 3],
    ['i', 388, 2, 3],
    ['▁', 355, 3, 4],
    ['x', 0, 4, 5],
  ]);
  // Leading spaces are dropped, the dummy ▁ sits on the first character, a run of spaces is one ▁ covering the run
  // (sentencepiece's norm_to_orig), a trailing space is dropped, and the two unknown CJK characters merge into one.
  assert.deepEqual(pieces('tiny-marian-dates', '  a  中文 '), [
    ['▁a', 114, 2, 3],
    ['▁', 355, 3, 5],
    ['中文', 0, 5, 7],
  ]);
  // A character outside the BMP (2 UTF-16 units) normalized to one ASCII digit: "𝟙" (U+1D7D9) → "1". The ids are
  // sentencepiece's piece_to_id.
  assert.deepEqual(pieces('tiny-marian-dates', '𝟙 May'), [
    ['▁1', 5, 0, 2],
    ['▁May', 79, 2, 6],
  ]);
  // Contraction: "e" + combining acute (2 code units) is one "é" piece covering both; the unigram model has "é".
  const e = pieces('unigram-nmt', 'cafe\u0301');
  assert.deepEqual(e[e.length - 1].slice(2), [3, 5]);
  assert.equal(e.map((p) => p[0]).join(''), '▁café');
  // Byte fallback: "😀" (2 UTF-16 units, 4 UTF-8 bytes) is four byte pieces, each covering the emoji. In this model
  // <0x00> is id 6 (after <unk>, <s>, </s> and the user-defined <sep>, @, ->), so <0xNN> is 6 + NN.
  assert.deepEqual(pieces('unigram-bytes', '😀'), [
    ['▁', 262, 0, 2],
    ['<0xF0>', 6 + 0xf0, 0, 2],
    ['<0x9F>', 6 + 0x9f, 0, 2],
    ['<0x98>', 6 + 0x98, 0, 2],
    ['<0x80>', 6 + 0x80, 0, 2],
  ]);
});

test('the precompiled charsmap: lookups, bounds and base64', () => {
  const nmt = readSentencePieceModel(fixture('tokenizers', 'sentencepiece', 'unigram-nmt.model'), 'm');
  const map = PrecompiledCharsMap.parse(nmt.normalizer.precompiledCharsmap, 'm');
  const enc = new TextEncoder();
  const at = (s: string) => map.longest(enc.encode(s), 0, enc.encode(s).length);
  assert.deepEqual(at('ﬁx'), { length: 3, replacement: 'fi' });
  assert.deepEqual(at('Ａ'), { length: 3, replacement: 'A' });
  assert.deepEqual(at('\t'), { length: 1, replacement: ' ' });
  assert.equal(at('a'), undefined);
  assert.equal(map.first(enc.encode('①')), '1');
  // Truncated: the trie size is larger than the blob; a trie pointing outside itself.
  bad(() => PrecompiledCharsMap.parse(nmt.normalizer.precompiledCharsmap.subarray(0, 1000), 'cut.spm'), 'cut.spm');
  bad(() => PrecompiledCharsMap.parse(Uint8Array.of(1, 0, 0), 'tiny.spm'), 'tiny.spm');
  bad(() => PrecompiledCharsMap.fromBase64('not base64!', 'tokenizer.json'), 'tokenizer.json', 'base64');
});

/** A ModelProto written with protobufjs's Writer (field numbers of sentencepiece_model.proto). */
function modelBytes(pieces: [string, number, number][], trainer: (w: Writer) => void = () => {}): Uint8Array {
  const w = Writer.create();
  for (const [piece, score, type] of pieces) {
    w.uint32((1 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).string(piece);
    w.uint32((2 << 3) | 5).float(score);
    w.uint32((3 << 3) | 0).int32(type);
    w.ldelim();
  }
  w.uint32((2 << 3) | 2).fork();
  trainer(w);
  w.ldelim();
  return w.finish();
}

test('a minimal hand-written model encodes as expected (unigram Viterbi by hand)', () => {
  // Pieces: ▁ab (-1) beats ▁a + b (-0.6 + -0.6 = -1.2); "c" is unknown; user-defined "<x>" is kept whole.
  const bytes = modelBytes([
    ['<unk>', 0, 2],
    ['▁a', -0.6, 1],
    ['b', -0.6, 1],
    ['▁ab', -1, 1],
    ['▁', -2, 1],
    ['<x>', 0, 4],
  ]);
  const sp = loadSentencePiece(bytes, 'hand.model');
  const got = sp.encodePieces(NormalizedText.fromOriginal('ab c<x>b')).map((p) => [p.piece, p.id, p.start, p.end]);
  assert.deepEqual(got, [
    ['▁ab', 3, 0, 2],
    ['▁', 4, 2, 3],
    ['c', 0, 3, 4],
    ['<x>', 5, 4, 7],
    ['b', 2, 7, 8],
  ]);
});

test('broken or hostile model files are one BAD_TOKENIZER line naming the file', () => {
  const good = fixture('tokenizers', 'sentencepiece', 'bpe-suffix.model');
  bad(() => readSentencePieceModel(good.subarray(0, good.length - 3), 'cut.spm'), 'cut.spm', 'sentencepiece');
  bad(() => readSentencePieceModel(new TextEncoder().encode('{"not": "protobuf"}'), 'json.spm'), 'json.spm');
  // A length prefix of 2^31 for the first piece: rejected before anything is allocated.
  bad(() => readSentencePieceModel(Uint8Array.of(0x0a, 0x80, 0x80, 0x80, 0x80, 0x08, 1, 2, 3), 'huge.spm'), 'huge.spm');
  bad(() => readSentencePieceModel(new Uint8Array(0), 'empty.spm'), 'empty.spm', 'no pieces');
  bad(() => readSentencePieceModel(modelBytes([['a', 0, 1]]), 'nounk.spm'), 'nounk.spm', 'unknown piece');
  bad(
    () =>
      readSentencePieceModel(
        modelBytes([
          ['<unk>', 0, 2],
          ['a', 0, 1],
          ['a', -1, 1],
        ]),
        'twice.spm',
      ),
    'twice.spm',
    'twice',
  );
  bad(
    () =>
      readSentencePieceModel(
        modelBytes([
          ['<unk>', 0, 2],
          ['<0x41>', 0, 6],
        ]),
        'byte.spm',
      ),
    'byte.spm',
    'byte_fallback',
  );
  bad(
    () =>
      readSentencePieceModel(
        modelBytes([['<unk>', 0, 2]], (w) => w.uint32((3 << 3) | 0).int32(3)),
        'word.spm',
      ),
    'word.spm',
    'WORD',
  );
  bad(
    () =>
      readSentencePieceModel(
        modelBytes([['<unk>', 0, 2]], (w) => w.uint32((35 << 3) | 0).bool(true)),
        'bytes.spm',
      ),
    'bytes.spm',
    '256',
  );
});

test('mutated model files never crash or hang: they load or give BAD_TOKENIZER', () => {
  const sources = [
    fixture('tokenizers', 'sentencepiece', 'bpe-suffix.model'),
    fixture('tokenizers', 'sentencepiece', 'unigram-unused.model'),
  ];
  // The charsmap of a real model, corrupted in its trie and its strings, exercises the bounds checks of lookups.
  const nmt = fixture('tokenizers', 'sentencepiece', 'unigram-nmt.model');
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  let loaded = 0;
  for (let i = 0; i < 300; i++) {
    const src = i % 10 === 9 ? nmt : sources[i % 2];
    const b = Uint8Array.from(src);
    for (let k = 0, n = 1 + rand(6); k < n; k++) b[rand(b.length)] = rand(256);
    const cut = rand(4) === 0 ? b.subarray(0, rand(b.length)) : b;
    try {
      const sp = loadSentencePiece(cut, `case${i}.spm`);
      sp.encodePieces(NormalizedText.fromOriginal('Hello ﬁ wörld 中文 😀 ①  x'));
      loaded++;
    } catch (e) {
      assert.ok(isLensError(e), `case ${i}: ${String(e)}`);
      assert.ok(e.message.includes(`case${i}.spm`) && !e.message.includes('\n'), e.message);
    }
  }
  assert.ok(loaded > 0, 'some mutations still load');
});

test('random text (any code point, lone surrogates) never breaks the sentencepiece, Marian and Unigram tokenizers', async () => {
  const json = (f: string) => tokenizerFromJson(JSON.parse(readFileSync(path.join(FIX, f), 'utf8')));
  const tokenizers = [
    await loadTokenizer(path.join(FIX, 'models', 'tiny-marian-dates')),
    await loadTokenizer(path.join(FIX, 'tokenizers', 'marian-unigram')),
    json('models/hf-tiny/t5/tokenizer.json'),
    json('tokenizers/sentencepiece/t5-precompiled.json'),
    sentencePieceTokenizer(fixture('tokenizers', 'sentencepiece', 'bpe-suffix.model'), 'bpe-suffix.model'),
    sentencePieceTokenizer(fixture('tokenizers', 'sentencepiece', 'unigram-bytes.model'), 'unigram-bytes.model'),
  ];
  const tgt = tokenizers[1].target;
  assert.ok(tgt);
  tokenizers.push(tgt);
  let seed = 99;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const ranges = [
    [0x20, 0x7f],
    [0, 0x20],
    [0xa0, 0x500],
    [0x300, 0x370],
    [0x3000, 0x3100],
    [0xff00, 0xfff0],
    [0xd800, 0xe000],
    [0x1f300, 0x1f700],
    [0xac00, 0xad00],
  ];
  for (let i = 0; i < 300; i++) {
    let text = '';
    for (let k = 0, n = rand(40); k < n; k++) {
      const [lo, hi] = ranges[rand(ranges.length)];
      text += String.fromCodePoint(lo + rand(hi - lo));
    }
    for (const tok of tokenizers) {
      const tokens = tok.encode(text);
      let last = 0;
      for (const t of tokens) {
        if (t.start === null || t.end === null) continue;
        assert.ok(
          t.start >= last && t.start <= t.end && t.end <= text.length,
          `${JSON.stringify(text)}: ${JSON.stringify(t)}`,
        );
        last = t.start;
      }
    }
  }
});
