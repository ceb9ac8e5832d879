// Checks the per-head scores (special/punctuation share, previous-token score, mean attended distance) on a
// hand-made 3-token layer, and punctuation detection across tokenizer spellings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headScores, isPunctuation, tokenFlags } from '../../../../runtime/analysis/scores';
import type { LayerAttention, Token } from '../../../../runtime/types';

const near = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

const rows = [
  [1, 0, 0],
  [0.6, 0.4, 0],
  [0.2, 0.5, 0.3],
];
const diagonal = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];
const layer = (kind: LayerAttention['kind']): LayerAttention => ({
  layer: 0,
  kind,
  heads: 2,
  queryLength: 3,
  keyLength: 3,
  data: Float32Array.from([...rows.flat(), ...diagonal.flat()]),
});
const flags = { special: [true, false, false], punctuation: [false, false, true] };

test('scores of a hand-made head', () => {
  const [s, d] = headScores(layer('causal'), flags);
  near(s.specialShare, (1 + 0.6 + 0.2) / 3);
  near(s.punctuationShare, 0.3 / 3);
  near(s.previousToken, (0.6 + 0.5) / 2); // A[1,0], A[2,1]
  near(s.meanDistance, (0 + 0.6 * 1 + (0.2 * 2 + 0.5 * 1)) / 3);
  // Attending to itself: distance 0, no previous-token attention.
  near(d.meanDistance, 0);
  near(d.previousToken, 0);
  near(d.specialShare, 1 / 3);
});

test('cross-attention has no positional scores', () => {
  const [s] = headScores(layer('cross'), flags);
  assert.ok(Number.isNaN(s.previousToken) && Number.isNaN(s.meanDistance));
  near(s.specialShare, 0.6);
});

test('punctuation across tokenizer spellings; special tokens are not punctuation', () => {
  for (const t of [',', 'Ġ.', '##!', '▁"', '...', '—', 'Ġ$']) assert.ok(isPunctuation(t), t);
  for (const t of ['Ġ', 'Ċ', 'a,', 'Ġthe', '##ing', '']) assert.equal(isPunctuation(t), false, t);
  const tok = (text: string, special = false): Token => ({ id: 0, text, start: null, end: null, special });
  assert.deepEqual(tokenFlags([tok('[CLS]', true), tok('hi'), tok('!'), tok('[SEP]', true)]), {
    special: [true, false, false, true],
    punctuation: [false, false, true, false],
  });
});

test('shape mismatches are refused', () => {
  assert.throws(() => headScores(layer('self'), { special: [true], punctuation: [false] }), RangeError);
  assert.throws(() => headScores({ ...layer('self'), data: new Float32Array(3) }, flags), RangeError);
});
