// The figures' view of a run (figures/run-maps.ts) backed by the maps in memory, against stories260K's independent
// numpy reference (test/fixtures/models/stories260K): values, rows, columns, the mean over heads, tiles pooled with
// plain loops over the reference's nested arrays, and cached tiles dropped when a layer is replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerAttention } from '../../../runtime/types';
import { MemoryRunMaps, overview } from '../../../figures/run-maps';
import { storiesLayers, storiesMaps, storiesReference } from '../../helpers/stories-reference';

const ref = storiesReference();
const [L, H, Q, K] = ref.shape;
const layers = storiesLayers(ref);
const maps = () => storiesMaps(ref);
const near = (a: number, b: number, what: string, tol = 1e-6) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('values, rows and columns are the reference’s; the shape says causal', () => {
  const m = maps();
  assert.equal(m.layerCount, L);
  assert.equal(m.headCount, H);
  assert.deepEqual(m.shape(2), {
    kind: 'causal',
    heads: H,
    queryLength: Q,
    keyLength: K,
    mask: { causal: true, window: null },
  });
  near(m.value(3, 1, 10, 4), ref.attn[3][1][10][4], 'value');
  m.row(1, 6, 12).forEach((v, k) => near(v, ref.attn[1][6][12][k], `row[${k}]`));
  m.column(4, 2, 3).forEach((v, q) => near(v, ref.attn[4][2][q][3], `column[${q}]`));
  near(m.maximum(0, 0), Math.max(...ref.attn[0][0].flat()), 'maximum');
});

test('mean and max over heads equal float64 loops over the reference', () => {
  const m = maps();
  for (const [q, k] of [
    [0, 0],
    [9, 3],
    [16, 16],
  ]) {
    const heads = ref.attn[2].map((h) => h[q][k]);
    near(m.value(2, 'mean', q, k), heads.reduce((a, b) => a + b, 0) / H, `mean (${q}, ${k})`);
    near(m.value(2, 'max', q, k), Math.max(...heads), `max (${q}, ${k})`);
  }
});

test('a tile pools a window: each cell the max over the entries it covers (17 → 4 cells, by hand)', () => {
  const m = maps();
  // Rows 4..16 (13) into 3 cells: [4, 8), [8, 12), [12, 17); cols 0..17 into 4 cells: [0, 4), [4, 8), [8, 12), [12, 17).
  const t = m.tile(3, 5, { start: 4, end: 17 }, { start: 0, end: 17 }, 3, 4);
  const rowBins = [
    [4, 8],
    [8, 12],
    [12, 17],
  ];
  const colBins = [
    [0, 4],
    [4, 8],
    [8, 12],
    [12, 17],
  ];
  rowBins.forEach(([r0, r1], y) =>
    colBins.forEach(([c0, c1], x) => {
      let max = 0;
      let any = false;
      for (let r = r0; r < r1; r++)
        for (let c = c0; c < c1; c++)
          if (c <= r) {
            any = true;
            max = Math.max(max, ref.attn[3][5][r][c]);
          }
      assert.equal(t.masked[y * 4 + x], any ? 0 : 1, `masked (${y}, ${x})`);
      if (any) near(t.values[y * 4 + x], max, `cell (${y}, ${x})`);
    }),
  );
  // The overview of a head at 48 cells a side is the whole map, one cell per entry.
  const o = overview(m, 0, 7, 48);
  assert.deepEqual([o.rows, o.cols], [Q, K]);
  near(o.values[16 * K + 2], ref.attn[0][7][16][2], 'overview');
});

test('a replaced layer drops its cached tiles and aggregates', () => {
  const m = maps();
  const before = m.tile(1, 'mean', { start: 0, end: Q }, { start: 0, end: K }, 2, 2);
  assert.equal(m.tile(1, 'mean', { start: 0, end: Q }, { start: 0, end: K }, 2, 2), before, 'cached');
  const zero: LayerAttention = { ...layers[1], data: new Float32Array(layers[1].data.length) };
  m.add(zero);
  const after = m.tile(1, 'mean', { start: 0, end: Q }, { start: 0, end: K }, 2, 2);
  assert.notEqual(after, before);
  assert.deepEqual([...after.values], [0, 0, 0, 0]);
  assert.equal(m.shape(9), undefined, 'no such layer');
  const partial = new MemoryRunMaps('m', [], 3, H);
  assert.equal(partial.shape(1), undefined, 'not computed yet');
  assert.throws(() => partial.row(1, 0, 0), /layer 1 has not been computed/);
});
