// appendQueryRow on a hand-written 2-head, 2-token causal map: the old rows keep their values with a 0 in the new
// column, the new row is the generated one; wrong sizes are one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendQueryRow } from '../../../../runtime/generate/grow-maps';
import { isLensError } from '../../../../runtime/errors';
import type { LayerAttention } from '../../../../runtime/types';

const layer: LayerAttention = {
  layer: 0,
  kind: 'causal',
  heads: 2,
  queryLength: 2,
  keyLength: 2,
  // head 0: [1 0; .25 .75], head 1: [1 0; .5 .5]
  data: new Float32Array([1, 0, 0.25, 0.75, 1, 0, 0.5, 0.5]),
};

test('a generated row becomes the last query; earlier rows get a zero for the new key', () => {
  const row = new Float32Array([0.1, 0.2, 0.7, 0.3, 0.3, 0.4]); // [2 heads, 3 keys]
  const grown = appendQueryRow(layer, row);
  assert.deepEqual([grown.queryLength, grown.keyLength, grown.heads, grown.layer], [3, 3, 2, 0]);
  assert.deepEqual(
    Array.from(grown.data),
    Array.from(new Float32Array([1, 0, 0, 0.25, 0.75, 0, 0.1, 0.2, 0.7, 1, 0, 0, 0.5, 0.5, 0, 0.3, 0.3, 0.4])),
  );
  assert.equal(layer.queryLength, 2, 'the input layer is left as it was');
});

test('a row of the wrong size, or a non-square map, is refused in one line', () => {
  assert.throws(
    () => appendQueryRow(layer, new Float32Array(4)),
    (e: unknown) => isLensError(e) && /has 4 values, not 2 heads × 3 keys/.test(e.message),
  );
  assert.throws(
    () => appendQueryRow({ ...layer, keyLength: 3, data: new Float32Array(12) }, new Float32Array(6)),
    (e: unknown) => isLensError(e) && /only a square/.test(e.message),
  );
});
