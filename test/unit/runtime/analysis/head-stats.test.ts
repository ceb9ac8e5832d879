// Checks head statistics on hand-made attention matrices whose entropies and argmaxes are known in closed form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headStats, rowEntropy } from '../../../../runtime/analysis/head-stats';
import type { LayerAttention } from '../../../../runtime/types';

function layerOf(heads: number[][][]): LayerAttention {
  const nq = heads[0].length;
  const nk = heads[0][0].length;
  return {
    layer: 0,
    kind: 'self',
    heads: heads.length,
    queryLength: nq,
    keyLength: nk,
    data: Float32Array.from(heads.flat(2)),
  };
}

test('uniform rows over n keys have entropy ln n; one-hot rows have 0', () => {
  const n = 5;
  const uniform = Array.from({ length: 3 }, () => Array.from({ length: n }, () => 1 / n));
  const oneHot = [
    [0, 0, 1, 0, 0],
    [1, 0, 0, 0, 0],
    [0, 0, 0, 0, 1],
  ];
  const [u, o] = headStats(layerOf([uniform, oneHot]));
  assert.ok(Math.abs(u.meanEntropy - Math.log(n)) < 1e-6, `uniform: ${u.meanEntropy} vs ln 5 = ${Math.log(n)}`);
  assert.equal(o.meanEntropy, 0);
  assert.deepEqual([...o.argmax], [2, 0, 4]);
  assert.deepEqual([...u.argmax], [0, 0, 0], 'ties go to the lowest key index');
});

test('causal rows: the mean of per-row entropies (row t uniform over t+1 keys)', () => {
  // Row t spreads over keys 0..t: entropies ln1, ln2, ln3, ln4 → mean (ln 24)/4.
  const rows = [
    [1, 0, 0, 0],
    [0.5, 0.5, 0, 0],
    [1 / 3, 1 / 3, 1 / 3, 0],
    [0.25, 0.25, 0.25, 0.25],
  ];
  const [s] = headStats(layerOf([rows]));
  assert.ok(Math.abs(s.meanEntropy - Math.log(24) / 4) < 1e-6);
});

test('a two-point row: H = -(p ln p + (1-p) ln(1-p)) computed by hand', () => {
  // p = 0.9: 0.9·ln(0.9) = -0.0948245, 0.1·ln(0.1) = -0.2302585 → H = 0.3250830
  assert.ok(Math.abs(rowEntropy([0.9, 0.1]) - 0.325083) < 1e-6);
  const [s] = headStats(layerOf([[[0.1, 0.9]]]));
  assert.equal(s.argmax[0], 1);
});

test('rejects data whose size does not match the shape', () => {
  assert.throws(() =>
    headStats({ layer: 0, kind: 'self', heads: 2, queryLength: 2, keyLength: 2, data: new Float32Array(7) }),
  );
});
