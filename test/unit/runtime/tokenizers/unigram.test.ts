// tokenizer.json Unigram models against HF `tokenizers` (Python): hf-tiny's T5 (Unigram, NFKC + Replace,
// WhitespaceSplit + Metaspace, </s> template) and a T5-style tokenizer.json that transformers' T5Tokenizer built
// from a sentencepiece model (its Precompiled charsmap normalizer, as google/flan-t5 ships), plus hf-tiny's BART
// (byte-level BPE, RoBERTa post-processor): the same ids and UTF-16 offsets on 207 strings, and the ids of the
// hf-tiny reference_attention.json files. NFKC's alignment is HF's (checked by hand below). Malformed Unigram
// descriptions are BAD_TOKENIZER.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { isLensError } from '../../../../runtime/errors';
import { tokenizerFromJson } from '../../../../runtime/tokenizers/index';
import { NormalizedText } from '../../../../runtime/tokenizers/normalized-text';
import { normalizerFromJson } from '../../../../runtime/tokenizers/normalizers';
import { repoRoot, fixturesDir } from '../../../helpers/fixtures';

const ROOT = repoRoot;
const FIX = fixturesDir;

interface HfCase {
  text: string;
  ids: number[];
  offsets: ([number, number] | null)[];
}
const REF = JSON.parse(readFileSync(path.join(FIX, 'tokenizers', 'sentencepiece', 'hf-reference.json'), 'utf8')) as {
  tokenizers: Record<string, { file: string; cases: HfCase[] }>;
  reference_attention: Record<
    string,
    { source_text: string; input_ids: number[]; target_text: string; labels: number[] }
  >;
};
const load = (name: string) =>
  tokenizerFromJson(JSON.parse(readFileSync(path.join(ROOT, REF.tokenizers[name].file), 'utf8')));

for (const name of Object.keys(REF.tokenizers)) {
  test(`${name}: ids and offsets equal HF tokenizers' on every fixture string`, () => {
    const tok = load(name);
    const cases = REF.tokenizers[name].cases;
    assert.ok(cases.length >= 200);
    for (const c of cases) {
      const tokens = tok.encode(c.text);
      assert.deepEqual(
        {
          ids: tokens.map((t) => t.id),
          offsets: tokens.map((t) => (t.start === null || t.end === null ? null : [t.start, t.end])),
        },
        { ids: c.ids, offsets: c.offsets },
        `text ${JSON.stringify(c.text)}`,
      );
    }
  });
}

test('T5 and BART give the ids of the hf-tiny reference_attention.json files', () => {
  const t5 = load('t5');
  assert.equal(t5.kind, 'unigram');
  const bart = load('bart');
  assert.equal(bart.kind, 'bpe-bytelevel');
  for (const [name, tok] of [
    ['t5', t5],
    ['bart', bart],
  ] as const) {
    const ref = REF.reference_attention[name];
    assert.deepEqual(
      tok.encode(ref.source_text).map((t) => t.id),
      ref.input_ids,
      name,
    );
    assert.deepEqual(
      tok.encode(ref.target_text).map((t) => t.id),
      ref.labels,
      name,
    );
  }
  assert.equal(t5.special.eos, 1);
  assert.equal(t5.special.unk, 2);
  assert.equal(t5.special.pad, 0);
});

test("NFKC / NFC alignment by hand: HF's, where a composed character covers its first original character", () => {
  const run = (type: string, text: string) => {
    const n = normalizerFromJson({ type }, 'tokenizer.json');
    assert.ok(n);
    const t = n(NormalizedText.fromOriginal(text));
    return t.chars.map((c, i) => [c, t.starts[i], t.ends[i]]);
  };
  // "e" + U+0301 → "é": HF keeps the alignment of the "e" only (the mark is removed after it).
  assert.deepEqual(run('NFKC', 'e\u0301x'), [
    ['é', 0, 1],
    ['x', 2, 3],
  ]);
  // Half-width katakana + half-width voiced mark → one "ガ" (NFKC composes the mark's compatibility form).
  assert.deepEqual(run('NFKC', 'ｶﾞ'), [['ガ', 0, 1]]);
  // Expansion: both letters of "ﬁ" cover the ligature; "①" → "1"; a surrogate pair "𝟙" → "1" covers both units.
  assert.deepEqual(run('NFKC', 'ﬁ①𝟙'), [
    ['f', 0, 1],
    ['i', 0, 1],
    ['1', 1, 2],
    ['1', 2, 4],
  ]);
  // Reordering: dot below (class 220) sorts before grave (230); a + dot below compose to "ạ" (covering the "a"),
  // and the grave, now second, takes the place of the last original character.
  assert.deepEqual(run('NFC', 'a\u0300\u0323'), [
    ['ạ', 0, 1],
    ['\u0300', 2, 3],
  ]);
  // NFD: "é" → "e" + U+0301, both covering the "é"; NFC leaves composed text as it is.
  assert.deepEqual(run('NFD', 'é'), [
    ['e', 0, 1],
    ['\u0301', 0, 1],
  ]);
  assert.deepEqual(run('NFC', 'é'), [['é', 0, 1]]);
  // Hangul conjoining jamo compose to one syllable.
  assert.deepEqual(run('NFC', '\u1100\u1161\u11a8'), [['각', 0, 1]]);
});

test('malformed Unigram models and Precompiled normalizers are BAD_TOKENIZER', () => {
  const bad = (json: unknown, ...mentions: string[]) =>
    assert.throws(
      () => tokenizerFromJson(json),
      (e: unknown) => {
        assert.ok(isLensError(e) && e.code === 'BAD_TOKENIZER', String(e));
        for (const m of mentions) assert.ok(e.message.includes(m), `"${e.message}" mentions ${m}`);
        return true;
      },
    );
  bad({ model: { type: 'Unigram', vocab: [['a']] } }, 'tokenizer.json', 'Unigram', '[piece, score]');
  bad({ model: { type: 'Unigram', vocab: [['a', 'x']] } }, '[piece, score]');
  bad({ model: { type: 'Unigram', vocab: [['a', -1]], unk_id: 5 } }, 'unk_id');
  bad({ model: { type: 'Unigram', vocab: {} } }, 'vocab');
  const ok = {
    type: 'Unigram',
    vocab: [
      ['<unk>', 0],
      ['▁a', -1],
    ],
    unk_id: 0,
  };
  bad({ model: ok, normalizer: { type: 'Precompiled', precompiled_charsmap: null } }, 'Precompiled');
  bad({ model: ok, normalizer: { type: 'Precompiled', precompiled_charsmap: 'AAAA' } }, 'charsmap');
  // Without unk_id, a character outside the vocabulary cannot be encoded (HF errors too).
  const noUnk = tokenizerFromJson({ model: { type: 'Unigram', vocab: [['a', -1]] } });
  assert.deepEqual(
    noUnk.encode('aa').map((t) => t.id),
    [0, 0],
  );
  assert.throws(
    () => noUnk.encode('ab'),
    (e: unknown) => isLensError(e) && e.code === 'BAD_TOKENIZER' && e.message.includes('unk_id'),
  );
});

test('an unknown piece keeps the text it stands for, as HF tokenizers gives it (not "<unk>" or an empty label)', () => {
  // Printed by HF tokenizers 0.23.3: Tokenizer.from_file('test/fixtures/models/hf-tiny/t5/tokenizer.json').encode(s)
  const want: [string, string[], number[]][] = [
    ['Hello world', ['▁', 'H', 'ell', 'o', '▁wor', 'ld', '</s>'], [5, 2, 193, 104, 261, 100, 1]],
    [
      'Zebra QUANTUM Ünïcödé 北京',
      [
        '▁',
        'Z',
        'e',
        'br',
        'a',
        '▁',
        'Q',
        'U',
        'A',
        'N',
        'T',
        'U',
        'M',
        '▁',
        'Ü',
        'n',
        'ï',
        'c',
        'ö',
        'd',
        'é',
        '▁',
        '北京',
        '</s>',
      ],
      [5, 2, 88, 181, 280, 5, 2, 278, 268, 272, 276, 278, 271, 5, 2, 103, 2, 286, 2, 86, 2, 5, 2, 1],
    ],
  ];
  const tok = tokenizerFromJson(
    JSON.parse(readFileSync(path.join(FIX, 'models', 'hf-tiny', 't5', 'tokenizer.json'), 'utf8')),
  );
  for (const [text, tokens, ids] of want) {
    const got = tok.encode(text);
    assert.deepEqual(
      got.map((t) => t.id),
      ids,
      text,
    );
    assert.deepEqual(
      got.map((t) => t.text),
      tokens,
      text,
    );
  }
});
