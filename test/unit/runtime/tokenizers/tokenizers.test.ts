// Tokenizer behaviour on the test models (test/fixtures): the reference ids of GPT-2 and stories260K, MiniLM on plain
// sentences (ids read independently from vocab.txt line numbers), and hand-computed UTF-16 offsets on accented,
// CJK, emoji, tab/newline and multi-space input for WordPiece, byte-level BPE and sentencepiece-style BPE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadTokenizer, type Tokenizer } from '../../../../runtime/tokenizers/index';
import type { Token } from '../../../../runtime/types';
import { fixtureModel, miniLmTokenizerDir } from '../../../helpers/fixtures';

const MINILM = (): string => miniLmTokenizerDir;
const GPT2 = (): string => fixtureModel('tiny-gpt2');
const STORIES = (): string => fixtureModel('stories260K');

const spans = (tokens: Token[]): ([number, number] | null)[] =>
  tokens.map((t) => (t.start === null || t.end === null ? null : [t.start, t.end]));
const texts = (tokens: Token[]): string[] => tokens.map((t) => t.text);

/** UTF-8 bytes of a string (independent of the tokenizer code). */
const utf8 = (s: string): number[] => [...Buffer.from(s, 'utf8')];

/** GPT-2's bytes_to_unicode inverse, rebuilt here from its definition. */
const byteOfChar = (() => {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const m = new Map<string, number>();
  let n = 0;
  for (let b = 0; b < 256; b++) m.set(String.fromCharCode(keep.includes(b) ? b : 256 + n++), b);
  return m;
})();

const SAMPLES = ['Café Ünïcödé', '我爱北京 text', 'hi 👍🏽 there', 'a\tb\nc', 'a   b'];

test('GPT-2 gives the reference ids for the quick brown fox', async () => {
  const tok = await loadTokenizer(GPT2());
  assert.equal(tok.kind, 'bpe-bytelevel');
  const ids = tok.encode('The quick brown fox jumps over the lazy dogs.').map((t) => t.id);
  assert.deepEqual(ids, [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 6844, 13]);
});

test('stories260K gives the ids of reference_attention.json', async () => {
  const ref = JSON.parse(readFileSync(path.join(STORIES(), 'reference_attention.json'), 'utf8')) as {
    text: string;
    input_ids: number[];
    tokens: string[];
  };
  const tok = await loadTokenizer(STORIES());
  assert.equal(tok.kind, 'bpe-sentencepiece');
  const enc = tok.encode(ref.text);
  assert.deepEqual(
    enc.map((t) => t.id),
    ref.input_ids,
  );
  assert.deepEqual(texts(enc), ref.tokens);
  assert.deepEqual(enc[0], { id: 1, text: '<s>', start: null, end: null, special: true });
  assert.equal(tok.special.bos, 1);
  assert.equal(tok.decode(ref.input_ids), ref.text);
});

test('MiniLM WordPiece on plain sentences: ids are vocab.txt line numbers', async () => {
  const vocab = readFileSync(path.join(MINILM(), 'vocab.txt'), 'utf8').split('\n');
  const id = (t: string): number => vocab.indexOf(t);
  const tok = await loadTokenizer(MINILM());
  assert.equal(tok.kind, 'wordpiece');
  const cases: [string, string[]][] = [
    ['Hello, world!', ['[CLS]', 'hello', ',', 'world', '!', '[SEP]']],
    ['The cat sat on the mat.', ['[CLS]', 'the', 'cat', 'sat', 'on', 'the', 'mat', '.', '[SEP]']],
    ["Don't PANIC", ['[CLS]', 'don', "'", 't', 'panic', '[SEP]']],
    // Greedy longest-match-first (checked with HF tokenizers): "una" then "##ffa" then "##ble".
    ['unaffable', ['[CLS]', 'una', '##ffa', '##ble', '[SEP]']],
  ];
  for (const [text, want] of cases) {
    const enc = tok.encode(text);
    assert.deepEqual(texts(enc), want, text);
    assert.deepEqual(
      enc.map((t) => t.id),
      want.map(id),
      text,
    );
  }
  assert.deepEqual(spans(tok.encode('Hello, world!')), [null, [0, 5], [5, 6], [7, 12], [12, 13], null]);
  assert.equal(tok.special.cls, id('[CLS]'));
  assert.equal(tok.special.sep, id('[SEP]'));
  assert.equal(tok.special.pad, id('[PAD]'));
  assert.equal(tok.special.unk, id('[UNK]'));
  assert.equal(tok.special.mask, id('[MASK]'));
  assert.deepEqual(texts(tok.encode('Hello', { addSpecialTokens: false })), ['hello']);
  assert.equal(tok.decode(tok.encode('Hello, world!').map((t) => t.id)), 'hello, world!');
});

test('WordPiece offsets: accents, CJK, emoji, tab/newline, runs of spaces', async () => {
  const tok = await loadTokenizer(MINILM());
  const enc = (s: string): Token[] => tok.encode(s, { addSpecialTokens: false });
  // Lowercasing and accent stripping keep each word's span in the original text.
  assert.deepEqual(texts(enc('Café Ünïcödé')), ['cafe', 'unicode']);
  assert.deepEqual(spans(enc('Café Ünïcödé')), [
    [0, 4],
    [5, 12],
  ]);
  // Each CJK ideograph is its own word; 爱 is not in the vocabulary.
  assert.deepEqual(texts(enc('我爱北京 text')), ['我', '[UNK]', '北', '京', 'text']);
  assert.deepEqual(spans(enc('我爱北京 text')), [
    [0, 1],
    [1, 2],
    [2, 3],
    [3, 4],
    [5, 9],
  ]);
  // 👍🏽 is two surrogate pairs (4 code units), one unknown word.
  assert.deepEqual(texts(enc('hi 👍🏽 there')), ['hi', '[UNK]', 'there']);
  assert.deepEqual(spans(enc('hi 👍🏽 there')), [
    [0, 2],
    [3, 7],
    [8, 13],
  ]);
  assert.deepEqual(spans(enc('a\tb\nc')), [
    [0, 1],
    [2, 3],
    [4, 5],
  ]);
  assert.deepEqual(spans(enc('a   b')), [
    [0, 1],
    [4, 5],
  ]);
  // Added special tokens written in the text are found before lowercasing and keep their span.
  const withSpecial = tok.encode('a [SEP] b');
  assert.deepEqual(texts(withSpecial), ['[CLS]', 'a', '[SEP]', 'b', '[SEP]']);
  assert.deepEqual(spans(withSpecial), [null, [0, 1], [2, 7], [8, 9], null]);
  assert.equal(withSpecial[2].special, false);
});

test('byte-level BPE offsets: accents, CJK, emoji, tab/newline, runs of spaces', async () => {
  const tok = await loadTokenizer(GPT2());
  const enc = (s: string): Token[] => tok.encode(s);
  // "Café Ünïcödé": pre-tokens "Café" [0,4) and " Ünïcödé" [4,12); a token holding any byte of a 2-byte
  // character spans the whole character, so the token starting with Ġ (the space) is [4,6) (space + Ü).
  const cafe = enc('Café Ünïcödé');
  assert.deepEqual(
    cafe.flatMap((t) => [...t.text].map((c) => byteOfChar.get(c))),
    utf8('Café Ünïcödé'),
  );
  const space = cafe.find((t) => t.text.startsWith('Ġ'));
  assert.deepEqual(space && [space.start, space.end], [4, 6]);
  for (const t of cafe) {
    const bytes = [...t.text].map((c) => byteOfChar.get(c) as number);
    const want = utf8('Café Ünïcödé'.slice(t.start ?? 0, t.end ?? 0));
    assert.ok(Buffer.from(want).includes(Buffer.from(bytes)), JSON.stringify(t));
    assert.ok((t.start ?? 0) >= 4 || (t.end ?? 0) <= 4, 'no token crosses the pre-token boundary');
  }
  // CJK: each ideograph is 3 bytes; byte tokens inside one ideograph all get its span.
  const cjk = enc('我爱北京 text');
  const allowed = ['[0,1]', '[1,2]', '[2,3]', '[3,4]', '[4,9]'];
  assert.deepEqual([...new Set(spans(cjk).map((s) => JSON.stringify(s)))], allowed);
  for (const ch of [0, 1, 2, 3]) {
    const bytes = cjk.filter((t) => t.start === ch).flatMap((t) => [...t.text].map((c) => byteOfChar.get(c)));
    assert.deepEqual(bytes, utf8('我爱北京'[ch]));
  }
  assert.deepEqual(cjk.at(-1), { id: tok.tokenToId('Ġtext'), text: 'Ġtext', start: 4, end: 9, special: false });
  // Emoji: 👍 is [3,5) and 🏽 is [5,7) in UTF-16; a token never ends inside a surrogate pair.
  const emoji = enc('hi 👍🏽 there');
  assert.deepEqual(spans(emoji)[0], [0, 2]);
  assert.deepEqual(spans(emoji).at(-1), [7, 13]);
  for (const s of spans(emoji).slice(1, -1)) assert.ok(s && [2, 3, 5].includes(s[0]) && [5, 7].includes(s[1]));
  const bytesOf = (t: Token): number[] => [...t.text].map((c) => byteOfChar.get(c) as number);
  assert.deepEqual(emoji.slice(1, -1).flatMap(bytesOf), utf8(' 👍🏽'));
  // Tab and newline are their own pre-tokens (Ċ is \n, ĉ is \t).
  assert.deepEqual(texts(enc('a\tb\nc')), ['a', 'ĉ', 'b', 'Ċ', 'c']);
  assert.deepEqual(spans(enc('a\tb\nc')), [
    [0, 1],
    [1, 2],
    [2, 3],
    [3, 4],
    [4, 5],
  ]);
  // "a   b": \s+(?!\S) takes two spaces, the third space goes with b; GPT-2 has no "ĠĠ" token.
  assert.equal(tok.tokenToId('ĠĠ'), undefined);
  assert.deepEqual(texts(enc('a   b')), ['a', 'Ġ', 'Ġ', 'Ġb']);
  assert.deepEqual(spans(enc('a   b')), [
    [0, 1],
    [1, 2],
    [2, 3],
    [3, 5],
  ]);
  assert.equal(tok.decode(emoji.map((t) => t.id)), 'hi 👍🏽 there');
});

test('sentencepiece BPE offsets: byte fallback, prepended ▁, runs of spaces', async () => {
  const tok = await loadTokenizer(STORIES());
  const enc = (s: string): Token[] => tok.encode(s, { addSpecialTokens: false });
  // Ü (C3 9C), ï (C3 AF), ö (C3 B6) are not in the 512-token vocabulary: byte tokens with the character's span.
  const cafe = enc('Café Ünïcödé');
  const byteSpans = cafe.filter((t) => /^<0x/.test(t.text)).map((t) => [t.text, t.start, t.end]);
  assert.deepEqual(byteSpans, [
    ['<0xC3>', 5, 6],
    ['<0x9C>', 5, 6],
    ['<0xC3>', 7, 8],
    ['<0xAF>', 7, 8],
    ['<0xC3>', 9, 10],
    ['<0xB6>', 9, 10],
  ]);
  assert.deepEqual(cafe[0], { id: tok.tokenToId('▁'), text: '▁', start: 0, end: 1, special: false });
  // CJK: ▁ (prepended, aligned with 我) then three byte tokens per ideograph.
  const cjk = enc('我爱北京 text');
  assert.deepEqual(
    cjk.map((t) => [t.text, t.start, t.end]),
    [
      ['▁', 0, 1],
      ['<0xE6>', 0, 1],
      ['<0x88>', 0, 1],
      ['<0x91>', 0, 1],
      ['<0xE7>', 1, 2],
      ['<0x88>', 1, 2],
      ['<0xB1>', 1, 2],
      ['<0xE5>', 2, 3],
      ['<0x8C>', 2, 3],
      ['<0x97>', 2, 3],
      ['<0xE4>', 3, 4],
      ['<0xBA>', 3, 4],
      ['<0xAC>', 3, 4],
      ['▁t', 4, 6],
      ['e', 6, 7],
      ['x', 7, 8],
      ['t', 8, 9],
    ],
  );
  // Emoji: four byte tokens per astral character, each spanning its surrogate pair.
  assert.deepEqual(
    enc('hi 👍🏽 there').map((t) => [t.text, t.start, t.end]),
    [
      ['▁h', 0, 1],
      ['i', 1, 2],
      ['▁', 2, 3],
      ['<0xF0>', 3, 5],
      ['<0x9F>', 3, 5],
      ['<0x91>', 3, 5],
      ['<0x8D>', 3, 5],
      ['<0xF0>', 5, 7],
      ['<0x9F>', 5, 7],
      ['<0x8F>', 5, 7],
      ['<0xBD>', 5, 7],
      ['▁there', 7, 13],
    ],
  );
  assert.deepEqual(
    enc('a\tb\nc').map((t) => [t.text, t.start, t.end]),
    [
      ['▁a', 0, 1],
      ['<0x09>', 1, 2],
      ['b', 2, 3],
      ['<0x0A>', 3, 4],
      ['c', 4, 5],
    ],
  );
  assert.deepEqual(
    enc('a   b').map((t) => [t.text, t.start, t.end]),
    [
      ['▁a', 0, 1],
      ['▁', 1, 2],
      ['▁', 2, 3],
      ['▁b', 3, 5],
    ],
  );
  assert.equal(tok.decode(enc('hi 👍🏽 there').map((t) => t.id)), 'hi 👍🏽 there');
});

/** Checks that each token's text agrees with the original text it claims to cover. */
function checkSlices(tok: Tokenizer, text: string): void {
  const tokens = tok.encode(text);
  for (const t of tokens) {
    if (t.special) {
      assert.equal(t.start, null);
      continue;
    }
    assert.ok(t.start !== null && t.end !== null && t.start < t.end && t.end <= text.length, JSON.stringify(t));
    const slice = text.slice(t.start, t.end);
    // No span ever cuts a surrogate pair.
    assert.doesNotMatch(slice, /^[\udc00-\udfff]|[\ud800-\udbff]$/u, JSON.stringify(t));
    if (tok.kind === 'wordpiece') {
      if (t.text === '[UNK]') continue;
      const norm = slice
        .normalize('NFD')
        .replace(/\p{Mn}/gu, '')
        .toLowerCase();
      assert.equal(t.text.replace(/^##/, ''), norm, JSON.stringify(t));
    } else if (tok.kind === 'bpe-bytelevel') {
      const bytes = [...t.text].map((c) => byteOfChar.get(c) as number);
      const have = utf8(slice);
      assert.ok(Buffer.from(have).includes(Buffer.from(bytes)), JSON.stringify(t));
    } else {
      const m = /^<0x([0-9A-F]{2})>$/.exec(t.text);
      if (m) assert.ok(utf8(slice).includes(parseInt(m[1], 16)), JSON.stringify(t));
      else {
        const asText = t.text.replace(/▁/g, ' ');
        // The ▁ prepended at the start is aligned with the first character.
        const prepended = t.start === 0 && (asText === ' ' + slice || asText === ' ');
        assert.ok(asText === slice || prepended, JSON.stringify([t, slice]));
      }
    }
  }
}

test('every token text agrees with text.slice(start, end), for all three kinds', async () => {
  for (const dir of [MINILM(), GPT2(), STORIES()]) {
    const tok = await loadTokenizer(dir);
    for (const s of [...SAMPLES, 'The Quick brown fox, naïve café — 東京 🏳️‍🌈!', '  x  ', 'ÀÉÎÕÜ x\u0301']) {
      checkSlices(tok, s);
    }
  }
});
