// Prompt + output as a run's maps (runtime/generate/generation-maps.ts) and the step bias (decode-feeds.ts) on
// hand-made numbers: the prompt block and each generated row land at their query, zeros above the diagonal, the row
// that wrote a token is the query before it; a step's bias sees keys up to its position within the window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenerationMaps } from '../../../../runtime/generate/generation-maps';
import { MASKED } from '../../../../runtime/models/feeds';
import { stepBias } from '../../../../runtime/models/decode-feeds';

test('maps: [heads, S, S] with the prompt block, then one row per generated token', () => {
  const m = new GenerationMaps(1, 2);
  // Prompt of 2, 2 heads: head 0 [[1,0],[.5,.5]], head 1 [[1,0],[.25,.75]].
  m.add({
    kind: 'prompt',
    length: 2,
    attention: [
      {
        layer: 0,
        kind: 'causal',
        heads: 2,
        queryLength: 2,
        keyLength: 2,
        data: Float32Array.from([1, 0, 0.5, 0.5, 1, 0, 0.25, 0.75]),
      },
    ],
  });
  m.add({ kind: 'token', index: 0, id: 7, position: 2, rows: [Float32Array.from([0.2, 0.3, 0.5, 0.1, 0.1, 0.8])] });
  const [l0] = m.maps();
  assert.deepEqual([l0.queryLength, l0.keyLength], [3, 3]);
  // prettier-ignore
  assert.deepEqual(Array.from(l0.data), [
    1, 0, 0,  0.5, 0.5, 0,  0.2, 0.3, 0.5,
    1, 0, 0,  0.25, 0.75, 0,  0.1, 0.1, 0.8,
  ].map(Math.fround));
  // The row that wrote token 0 is the prompt's last query; token 0's own row is its step's.
  assert.deepEqual(Array.from(m.writerRow(0, 0)), [0.5, 0.5, 0.25, 0.75]);
  assert.deepEqual(Array.from(m.row(0, 2)), Array.from(Float32Array.from([0.2, 0.3, 0.5, 0.1, 0.1, 0.8])));
});

test('step bias: new tokens at positions P.. see keys up to themselves, within the window', () => {
  const M = MASKED;
  const bias = (past: number, count: number, window: number | null) =>
    Array.from(stepBias(past, count, window).data as Float32Array);
  // P = 3, T = 1, no window: position 3 sees keys 0..3.
  assert.deepEqual(bias(3, 1, null), [0, 0, 0, 0]);
  // Window 2: position 3 sees keys 2, 3.
  assert.deepEqual(bias(3, 1, 2), [M, M, 0, 0]);
  // Prefill, P = 0, T = 3, window 2: rows 0..2.
  // prettier-ignore
  assert.deepEqual(bias(0, 3, 2), [0, M, M,  0, 0, M,  M, 0, 0]);
  assert.deepEqual(stepBias(2, 2, null).dims, [1, 1, 2, 4]);
});
