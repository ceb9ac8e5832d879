// The CLI's line per head for a layer of a run kept for long inputs (no map on the calling side): mean entropy of
// the rows, mean distance and previous-token weight, from hand-made summaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatKeptLayer } from '../../../cli/format';

test('formatKeptLayer: one line per head from the summaries', () => {
  const head = (entropy: number[], meanDistance: number, previousToken: number) => ({
    entropy: Float32Array.from(entropy),
    specialMass: new Float32Array(entropy.length),
    meanDistance,
    previousToken,
    res: 1,
    block: 64,
    blockMax: new Float32Array(1),
    blockMean: new Float32Array(1),
  });
  const text = formatKeptLayer({ layer: 7, length: 3, heads: [head([0, 0.5, 1], 1.25, 0.5), head([0, 0, 0.3], 0, 0)] });
  assert.equal(
    text,
    'L7 H0  entropy 0.500  mean distance 1.3  previous token 0.500\nL7 H1  entropy 0.100  mean distance 0.0  previous token 0.000',
  );
});
