// Word aggregation on hand-made token lists of the three tokenizer styles (WordPiece ##, byte-level BPE Ġ,
// sentencepiece ▁) with and without the text's offsets: where words start (spaces, markers, punctuation, special
// tokens), what each word reads as, and the sum / max of its tokens' scores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateWords, wordGroups, wordLevelResult, wordScores } from '../../../../runtime/explain/words';
import type { ExplainResult } from '../../../../runtime/explain/result';
import type { Token } from '../../../../runtime/types';

/** Tokens from [vocabulary string, start, end] (null offsets: special). */
const toks = (spec: [string, number | null, number | null][]): Token[] =>
  spec.map(([text, start, end], id) => ({ id, text, start, end, special: start === null }));

test('WordPiece: ## continues a word, punctuation is its own word, [CLS]/[SEP] are words of their own', () => {
  const text = 'Unbelievable, it works';
  const tokens = toks([
    ['[CLS]', null, null],
    ['un', 0, 2],
    ['##believ', 2, 8],
    ['##able', 8, 12],
    [',', 12, 13],
    ['it', 14, 16],
    ['works', 17, 22],
    ['[SEP]', null, null],
  ]);
  const words = wordGroups(tokens, text);
  assert.deepEqual(
    words.map((w) => [w.text, w.tokens, w.special]),
    [
      ['[CLS]', [0], true],
      ['Unbelievable', [1, 2, 3], false],
      [',', [4], false],
      ['it', [5], false],
      ['works', [6], false],
      ['[SEP]', [7], true],
    ],
  );
  // Without the text the markers decide alone, with the same words.
  assert.deepEqual(
    wordGroups(tokens).map((w) => w.tokens),
    words.map((w) => w.tokens),
  );
  const scores = [9, 0.1, 0.2, 0.3, 0.5, 1, 2, 9];
  assert.deepEqual(aggregateWords(scores, words, 'max'), [9, 0.3, 0.5, 1, 2, 9]);
  const sums = aggregateWords(scores, words, 'sum');
  assert.ok(Math.abs(sums[1] - 0.6) < 1e-12);
});

test('byte-level BPE (Ġ) and sentencepiece (▁): a marker starts a word; offsets that include the space do too', () => {
  // GPT-2: "The cat's" → The, Ġcat, ', s; offsets of Ġcat include its space.
  const gpt = toks([
    ['The', 0, 3],
    ['Ġcat', 3, 7],
    ["'", 7, 8],
    ['s', 8, 9],
  ]);
  assert.deepEqual(
    wordGroups(gpt, "The cat's").map((w) => [w.text, w.tokens]),
    [
      ['The', [0]],
      ['cat', [1]],
      ["'", [2]],
      ['s', [3]],
    ],
  );
  // Llama-style: <s> ▁Once ▁up on (no offsets gap information: offsets without the space).
  const sp = toks([
    ['<s>', null, null],
    ['▁Once', 0, 4],
    ['▁up', 5, 7],
    ['on', 7, 9],
  ]);
  const words = wordGroups(sp, 'Once upon');
  assert.deepEqual(
    words.map((w) => [w.text, w.tokens]),
    [
      ['<s>', [0]],
      ['Once', [1]],
      ['upon', [2, 3]],
    ],
  );
  assert.deepEqual(
    wordGroups(sp).map((w) => [w.text, w.tokens]),
    [
      ['<s>', [0]],
      ['Once', [1]],
      ['upon', [2, 3]],
    ],
  );
  const ws = wordScores(
    sp,
    [false, true, true, false],
    [
      { id: 'a', scores: [1, 2, 3, 4] },
      { id: 'failed', scores: [] },
    ],
    'sum',
  );
  assert.deepEqual(ws.candidates, [false, true, true]);
  assert.deepEqual(ws.methods, [{ id: 'a', scores: [1, 2, 7] }]);
  assert.equal(ws.aggregation, 'sum');
});

test('the word-level result the Explain view draws: words as tokens, their candidates and scores', () => {
  const tokens = toks([
    ['<s>', null, null],
    ['▁Once', 0, 4],
    ['▁up', 5, 7],
    ['on', 7, 9],
  ]);
  const r = {
    tokens,
    candidates: [false, true, true, true],
    methods: [
      { id: 'a', label: 'A', kind: 'attention', scores: [0.5, 0.1, 0.2, 0.2], ms: 0 },
      { id: 'b', label: 'B', kind: 'attention', scores: [], ms: 0, error: 'no' },
    ],
  } as unknown as ExplainResult;
  const w = wordLevelResult(r, 'max', 'Once upon');
  assert.deepEqual(
    w.tokens.map((t) => [t.text, t.start, t.end, t.special]),
    [
      ['<s>', null, null, true],
      ['Once', 0, 4, false],
      ['upon', 5, 9, false],
    ],
  );
  assert.deepEqual(w.candidates, [false, true, true]);
  assert.deepEqual(
    w.methods.map((m) => m.scores),
    [[0.5, 0.1, 0.2], []],
  );
});

test('byte-level BPE: the byte tokens of one character, and a character cluster (skin tone, joined emoji), are one word', () => {
  // "Ok 👍🏽 👨‍👩‍👧, ok" in UTF-16 offsets: 👍 3–5, 🏽 5–7, 👨 8–10, ZWJ 10, 👩 11–13, ZWJ 13, 👧 14–16, "," 16, "ok" 18–20.
  // Each emoji is split into byte tokens whose spans all cover it, as SmolLM2's tokenizer reports them.
  const text = 'Ok 👍🏽 👨‍👩‍👧, ok';
  const tokens = toks([
    ['Ok', 0, 2],
    ['ĠðŁ', 3, 5],
    ['ij', 3, 5],
    ['į', 3, 5],
    ['ðŁı', 5, 7],
    ['½', 5, 7],
    ['ĠðŁ', 8, 10],
    ['ij', 8, 10],
    ['¨', 8, 10],
    ['âĢį', 10, 11],
    ['ðŁij', 11, 13],
    ['©', 11, 13],
    ['âĢį', 13, 14],
    ['ðŁij', 14, 16],
    ['§', 14, 16],
    [',', 16, 17],
    ['Ġok', 18, 20],
  ]);
  assert.deepEqual(
    wordGroups(tokens, text).map((w) => [w.text, w.tokens]),
    [
      ['Ok', [0]],
      ['👍🏽', [1, 2, 3, 4, 5]],
      ['👨‍👩‍👧', [6, 7, 8, 9, 10, 11, 12, 13, 14]],
      [',', [15]],
      ['ok', [16]],
    ],
  );
});
