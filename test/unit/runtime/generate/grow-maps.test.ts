// appendQueryRow on a hand-written 2-head, 2-token causal map: the old rows keep their values with a 0 in the new
// column, the new row is the generated one; wrong sizes are one-line errors. GrowingMaps (the in-place growth Continue
// uses) equals appendQueryRow token after token, across moves to a larger capacity, and the figures' MemoryRunMaps
// reads its held layers (rows `capacity` apart) exactly as it reads the same maps held plainly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendQueryRow, GrowingMaps, nextCapacity } from '../../../../runtime/generate/grow-maps';
import { MemoryRunMaps } from '../../../../figures/run-maps';
import { mulberry32 } from '../../../../runtime/random';
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

/** A random causal row [heads, S] (each head's weights sum to 1). */
function randomRow(H: number, S: number, rand: () => number): Float32Array {
  const row = new Float32Array(H * S);
  for (let h = 0; h < H; h++) {
    let sum = 0;
    for (let k = 0; k < S; k++) sum += row[h * S + k] = rand() + 1e-3;
    for (let k = 0; k < S; k++) row[h * S + k] /= sum;
  }
  return row;
}

test('GrowingMaps equals appendQueryRow token after token, past its capacity; dense() is made once per size', () => {
  const rand = mulberry32(5);
  const start = [layer, { ...layer, layer: 1, data: new Float32Array([1, 0, 0.6, 0.4, 1, 0, 0.9, 0.1]) }];
  const growing = new GrowingMaps(start, 1); // room for 1 token: the second moves every layer
  let plain = start.map((l) => ({ ...l }));
  assert.equal(growing.views()[0].capacity, 3);
  for (let t = 0; t < 40; t++) {
    const S = growing.size + 1;
    const rows = plain.map(() => randomRow(2, S, rand));
    growing.append(rows);
    plain = plain.map((l, i) => appendQueryRow(l, rows[i]));
    const dense = growing.dense();
    assert.equal(growing.dense(), dense, 'cached until the next token');
    dense.forEach((l, i) => {
      assert.deepEqual([l.queryLength, l.keyLength, l.layer], [S, S, i]);
      assert.deepEqual(Array.from(l.data), Array.from(plain[i].data));
    });
  }
  assert.equal(growing.size, 42);
  assert.ok(growing.views()[0].capacity >= 42 && growing.views()[0].capacity <= nextCapacity(42));
  assert.equal(layer.queryLength, 2, 'the layers it started from are left as they were');
  growing.reserve(100);
  assert.equal(growing.views()[0].capacity, 142);
  assert.deepEqual(Array.from(growing.dense()[1].data), Array.from(plain[1].data), 'a reserve keeps the maps');
  assert.throws(
    () => growing.append([new Float32Array(86)]),
    (e: unknown) => isLensError(e) && /rows for 1 layers, not 2/.test(e.message),
  );
  assert.throws(
    () => growing.append([new Float32Array(86), new Float32Array(80)]),
    (e: unknown) => isLensError(e) && /has 80 values, not 2 heads × 43 keys/.test(e.message),
  );
});

test('MemoryRunMaps reads a grown layer in place as it reads the same map held plainly', () => {
  const rand = mulberry32(9);
  const growing = new GrowingMaps([layer], 2);
  for (let t = 0; t < 7; t++) growing.append([randomRow(2, growing.size + 1, rand)]);
  const S = growing.size;
  const tokens = Array.from({ length: S }, (_, i) => ({ text: `t${i}`, label: `t${i}` }));
  const held = new MemoryRunMaps('m', tokens, [...growing.views()], 2);
  const plain = new MemoryRunMaps('m', tokens, growing.dense(), 2);
  for (const head of [0, 1, 'mean', 'max'] as const) {
    assert.equal(held.maximum(0, head), plain.maximum(0, head));
    for (let q = 0; q < S; q++) {
      assert.deepEqual(Array.from(held.row(0, head, q)), Array.from(plain.row(0, head, q)));
      assert.deepEqual(Array.from(held.column(0, head, q)), Array.from(plain.column(0, head, q)));
      for (let k = 0; k < S; k++) assert.equal(held.value(0, head, q, k), plain.value(0, head, q, k));
    }
    const span = { start: 1, end: S };
    assert.deepEqual(held.tile(0, head, span, span, 3, 4, 'mean'), plain.tile(0, head, span, span, 3, 4, 'mean'));
  }
  assert.deepEqual(held.shape(0), plain.shape(0));
});
