// Arithmetic on attention maps (figures/heads.ts) on hand-computed cases: head aggregates, the maximum, mask rules
// and block pooling of a window (max and mean), with causal and sliding-window masks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateHeads, binOf, isMasked, maxValue, poolWindow } from '../../../figures/heads';

test('aggregateHeads: mean and max over heads (hand-computed)', () => {
  // 2 heads of 2×2: h0 = [1,0,0.5,0.5], h1 = [0,1,0.25,0.75]
  const data = new Float32Array([1, 0, 0.5, 0.5, 0, 1, 0.25, 0.75]);
  assert.deepEqual([...aggregateHeads(data, 2, 2, 2, 'mean')], [0.5, 0.5, 0.375, 0.625]);
  assert.deepEqual([...aggregateHeads(data, 2, 2, 2, 'max')], [1, 1, 0.5, 0.75]);
  assert.equal(maxValue(data, 4, 4), 1);
  assert.equal(maxValue(new Float32Array(4), 0, 4), 1e-12);
});

test('mask rules: causal hides later keys, a window hides keys `window` or more back', () => {
  assert.equal(isMasked({ causal: true, window: null }, 1, 2), true);
  assert.equal(isMasked({ causal: true, window: null }, 2, 2), false);
  // window 2: query 3 sees keys 2 and 3.
  assert.equal(isMasked({ causal: true, window: 2 }, 3, 1), true);
  assert.equal(isMasked({ causal: true, window: 2 }, 3, 2), false);
  assert.equal(isMasked({ causal: false, window: null }, 0, 5), false);
});

test('binOf: proportional bins, at least one entry each', () => {
  // 5 entries into 2 cells: {0, 1} and {2, 3, 4}; 2 entries into 4 cells: 0, 0, 1, 1 (each at least one).
  assert.deepEqual(
    [binOf({ start: 0, end: 5 }, 2, 0), binOf({ start: 0, end: 5 }, 2, 1)],
    [
      [0, 2],
      [2, 5],
    ],
  );
  assert.deepEqual(binOf({ start: 10, end: 14 }, 2, 1), [12, 14]);
});

test('poolWindow: max over covered cells, masked only when every covered cell is (hand-computed)', () => {
  // 4×4 causal: pooled 2×2 → [[max(r0c0, r1c0..c1), masked], [max rows 2-3 cols 0-1, max rows 2-3 cols 2-3 on/below]].
  const d = new Float32Array([0.9, 0, 0, 0, 0.2, 0.8, 0, 0, 0.1, 0.3, 0.6, 0, 0.05, 0.15, 0.25, 0.55]);
  const all = { start: 0, end: 4 };
  const { values, masked } = poolWindow(d, 0, 4, all, all, 2, 2, { causal: true, window: null });
  assert.deepEqual([...masked], [0, 1, 0, 0]);
  assert.deepEqual(
    [...values].map((v) => Math.round(v * 100) / 100),
    [0.9, 0, 0.3, 0.6],
  );
  // Uneven bins: 5 → 2 covers rows {0, 1} and {2, 3, 4}.
  const e = Float32Array.from({ length: 25 }, (_, i) => i);
  const five = { start: 0, end: 5 };
  assert.deepEqual([...poolWindow(e, 0, 5, five, five, 2, 2, { causal: false, window: null }).values], [6, 9, 21, 24]);
  // Mean over the unmasked entries: the causal lower-left block of rows 2–3, cols 0–1 is (0.1+0.3+0.05+0.15)/4.
  const mean = poolWindow(d, 0, 4, all, all, 2, 2, { causal: true, window: null }, 'mean');
  assert.ok(Math.abs(mean.values[2] - 0.15) < 1e-7);
  // Block (0, 0) covers (0,0), (1,0), (1,1); (0,1) is masked: (0.9 + 0.2 + 0.8) / 3.
  assert.ok(Math.abs(mean.values[0] - 1.9 / 3) < 1e-7);
});

test('poolWindow: a window of the map, one cell per entry, with a sliding-window mask', () => {
  // 4×4 with value r·10 + c; window rows 2–3, cols 0–3; sliding window 2 (and causal): row 2 sees cols 1–2, row 3
  // sees 2–3.
  const d = Float32Array.from({ length: 16 }, (_, i) => Math.floor(i / 4) * 10 + (i % 4));
  const t = poolWindow(d, 0, 4, { start: 2, end: 4 }, { start: 0, end: 4 }, 2, 4, { causal: true, window: 2 });
  assert.deepEqual([...t.masked], [1, 0, 0, 1, 1, 1, 0, 0]);
  assert.deepEqual([...t.values], [0, 21, 22, 0, 0, 0, 32, 33]);
  // A second head at an offset reads its own numbers.
  const two = new Float32Array(32);
  two.set(d, 16);
  assert.deepEqual(
    [
      ...poolWindow(two, 16, 4, { start: 3, end: 4 }, { start: 0, end: 4 }, 1, 2, { causal: false, window: null })
        .values,
    ],
    [31, 33],
  );
});
