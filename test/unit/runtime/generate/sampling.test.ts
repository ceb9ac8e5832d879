// Next-token choice (runtime/generate/sampling.ts) on hand-computed cases: greedy takes the first of equal maxima,
// nucleus sampling keeps the smallest most-likely set reaching top-p and draws from it renormalised, the
// temperature flattens the distribution, a seed repeats a run, and bad settings are one line each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmax, checkSampling, nucleusSample, tokenChooser } from '../../../../runtime/generate/sampling';

const logits = Float32Array.from([0.5, 0.3, 0.2], Math.log); // probabilities 0.5, 0.3, 0.2 at temperature 1

test('greedy: the arg max, the lowest id of equal maxima', () => {
  assert.equal(argmax([1, 3, 3, 2]), 1);
  assert.equal(tokenChooser({})(Float32Array.from([0, -1, 2, 2])), 2);
  assert.equal(tokenChooser({ temperature: 0, seed: 5 })(logits), 0);
});

test('top-p 0.7 keeps {0, 1} (mass 0.8) and draws in it renormalised', () => {
  // r = u · 0.8: token 0 while r < 0.5, token 1 after.
  assert.equal(nucleusSample(logits, 1, 0.7, 0.6), 0); // r = 0.48
  assert.equal(nucleusSample(logits, 1, 0.7, 0.7), 1); // r = 0.56
  assert.equal(nucleusSample(logits, 1, 0.7, 0.999), 1); // token 2 is never drawn
  assert.equal(nucleusSample(logits, 1, 0.5, 0.999), 0); // top-p 0.5: token 0 alone reaches it
});

test('top-p 1 keeps every token; temperature 2 draws from p^(1/2) renormalised', () => {
  assert.equal(nucleusSample(logits, 1, 1, 0.95), 2); // 0.95 > 0.5 + 0.3
  // √0.5, √0.3, √0.2 = 0.7071, 0.5477, 0.4472 (sum 1.7020): u = 0.5 → r = 0.851 → past token 0, inside token 1.
  assert.equal(nucleusSample(logits, 2, 1, 0.5), 1);
  assert.equal(nucleusSample(logits, 1, 1, 0.55), 1); // at temperature 1: r = 0.55, past token 0
  assert.equal(nucleusSample(logits, 2, 1, 0.41), 0); // r = 0.698 < 0.7071
});

test('a seed repeats the same draws; another seed gives another sequence', () => {
  const wide = Float32Array.from({ length: 50 }, (_, i) => -i / 20);
  const draw = (seed: number) => {
    const choose = tokenChooser({ temperature: 1, topP: 0.9, seed });
    return Array.from({ length: 20 }, () => choose(wide));
  };
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(draw(7), draw(8));
});

test('bad settings: one line each', () => {
  assert.throws(() => checkSampling({ temperature: -1 }), /temperature must be a number ≥ 0/);
  assert.throws(() => checkSampling({ topP: 0 }), /top-p must be in \(0, 1\]/);
  assert.throws(() => checkSampling({ topP: 1.01 }), /top-p must be in \(0, 1\]/);
  assert.throws(() => checkSampling({ seed: -3 }), /seed must be a whole number/);
});
