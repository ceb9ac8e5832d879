// The Explain view's head statistics as small multiples (figures/head-stats.ts), on a hand-made head table of
// 2 layers × 3 heads; their part of the explanation figure is checked in explain-figure.test.ts. Expected values are
// worked out by hand in the comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExplainResult } from '../../../runtime/explain/result';
import { colorLut } from '../../../figures/colormap';
import { fixtureResult, headsResult } from '../../helpers/explain-fixture';
import {
  HEAD_STATS,
  arrange,
  barX,
  baselineText,
  cellAtPoint,
  cellBox,
  distinctValues,
  gridValue,
  headCellSize,
  headStatGrids,
  labelStep,
  multipleLayout,
  readoutText,
  statColor,
  statDomain,
  statPosition,
  statText,
} from '../../../figures/head-stats';

const near = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('head statistics: one grid per statistic, rows = layers, columns = heads, the uniform rows as baselines', () => {
  const grids = headStatGrids(headsResult());
  assert.deepEqual(
    grids.map((g) => g.stat.key),
    ['entropy', 'specialShare', 'punctuationShare', 'previousToken', 'meanDistance', 'jsdUniform'],
  );
  assert.equal(grids.length, HEAD_STATS.length);
  const entropy = grids[0];
  assert.deepEqual(entropy.layers, [0, 1]);
  assert.equal(entropy.heads, 3);
  // Row-major [layer, head]; the missing value is NaN.
  assert.deepEqual(entropy.values.slice(0, 4), [0.5, 1.0, 1.5, 0.25]);
  assert.ok(Number.isNaN(entropy.values[4]));
  assert.equal(entropy.values[5], 1.75);
  assert.equal(gridValue(entropy, 1, 2), 1.75);
  assert.deepEqual(entropy.baselines, [2, 2]);
  assert.deepEqual(entropy.marks, [2], 'the same uniform value in both layers: one mark');
  // The domain spans the heads and the baseline: min 0.25 (layer 1 head 0), max 2 (uniform).
  assert.deepEqual(entropy.domain, { lo: 0.25, hi: 2 });
  // Special share: heads 0.1 … 0.8, uniform 0.5 inside.
  assert.deepEqual(grids[1].domain, { lo: 0.1, hi: 0.8 });
  // No previous-token score anywhere: [0, 1] and no mark.
  assert.deepEqual(grids[3].domain, { lo: 0, hi: 1 });
  assert.deepEqual(grids[3].marks, []);
  // Mean distance: uniform is 1 in layer 0 and 3 in layer 1, so two marks, and 3 is the top of the scale.
  assert.deepEqual(grids[4].marks, [1, 3]);
  assert.deepEqual(grids[4].domain, { lo: 0.25, hi: 3 });
  // JSD from uniform: uniform's own is 0, the bottom of the scale.
  assert.deepEqual(grids[5].domain, { lo: 0, hi: 0.6 });
  // After the JSON crossing (NaN as null) the grids are the same.
  const wire = headStatGrids(JSON.parse(JSON.stringify(headsResult())) as ExplainResult);
  assert.ok(Number.isNaN(wire[0].values[4]) && Number.isNaN(wire[3].values[0]));
  assert.deepEqual(wire[4].marks, [1, 3]);
  // No head table (the CLI's study leaves it out): no grids.
  assert.deepEqual(headStatGrids(fixtureResult()), []);
});

test('head statistics: colour scale from the smallest to the largest value', () => {
  assert.deepEqual(statDomain([0.2, NaN, 0.8, 0.5], [1]), { lo: 0.2, hi: 1 });
  assert.deepEqual(statDomain([NaN], [NaN]), { lo: 0, hi: 1 });
  assert.deepEqual(statDomain([3, 3]), { lo: 3, hi: 3 });
  const d = { lo: 0.25, hi: 2 };
  // (1.125 − 0.25) / 1.75 = 0.5; the ends 0 and 1; outside clamped; NaN stays NaN.
  assert.equal(statPosition(1.125, d), 0.5);
  assert.equal(statPosition(0.25, d), 0);
  assert.equal(statPosition(2, d), 1);
  assert.equal(statPosition(5, d), 1);
  assert.ok(Number.isNaN(statPosition(NaN, d)));
  assert.equal(statPosition(3, { lo: 3, hi: 3 }), 0.5, 'a one-value domain: the middle');
  const lut = colorLut('viridis');
  // viridis' ends: (0.267004, 0.004874, 0.329415) → (68, 1, 84); (0.993248, 0.906157, 0.143936) → (253, 231, 37).
  assert.deepEqual(statColor(0, { lo: 0, hi: 1 }, lut), [68, 1, 84]);
  assert.deepEqual(statColor(1, { lo: 0, hi: 1 }, lut), [253, 231, 37]);
  assert.equal(statColor(NaN, { lo: 0, hi: 1 }, lut), null);
  assert.deepEqual(distinctValues([3, 1, NaN, 1 + 1e-12, 3]), [1, 3]);
  assert.equal(statText(0.25), '0.250');
  assert.equal(statText(12.345), '12.3');
  assert.equal(statText(-0.5), '−0.500');
  assert.equal(statText(NaN), '—');
  assert.equal(baselineText([2]), 'uniform attention: 2.000');
  assert.equal(baselineText([1, 3]), 'uniform attention: 1.000 to 3.000 (per layer)');
  assert.equal(baselineText([]), 'uniform attention: —');
});

test('head statistics: cell size, label steps and the arrangement of the multiples', () => {
  // 224 px for the larger side, between 3 and 14 px a cell.
  assert.equal(headCellSize(6, 12), 14); // floor(224 / 12) = 18 → 14
  assert.equal(headCellSize(32, 32), 7); // floor(224 / 32) = 7
  assert.equal(headCellSize(80, 64), 3); // floor(224 / 80) = 2 → 3
  // Room for the label and 4 px: one-digit head numbers (5.4 px) on 14 px cells every head, two digits (10.8 px)
  // every other head.
  assert.equal(labelStep(14, 5.4), 1); // 14 ≥ 9.4
  assert.equal(labelStep(14, 10.8), 2); // 14 < 14.8 ≤ 28
  assert.equal(labelStep(7, 7), 2); // 7 < 11 ≤ 14
  assert.equal(labelStep(3, 10.8), 5); // 3, 6 < 14.8 ≤ 15
  // Left to right, wrapping before 230 px, 20 px apart; the next row below the tallest of the first.
  assert.deepEqual(
    arrange(
      [
        { width: 100, height: 50 },
        { width: 100, height: 60 },
        { width: 100, height: 40 },
      ],
      230,
      20,
    ),
    [
      { x: 0, y: 0 },
      { x: 120, y: 0 },
      { x: 0, y: 80 },
    ],
  );
});

test('head statistics: one multiple laid out — cells for L × H, the legend bar, the baseline mark', () => {
  const [entropy, , , , distance] = headStatGrids(headsResult());
  const lay = multipleLayout(entropy);
  // 2 × 3 → 14 px cells. Layer labels "0", "1": 1 char × 9 × 0.6 = 5.4 → 6 + 5 = 11 px left of the grid; the title
  // (14 px) and the head labels (11 px) above it.
  assert.equal(lay.cell, 14);
  assert.deepEqual(lay.grid, { x: 11, y: 25, width: 42, height: 28 });
  assert.deepEqual(cellBox(lay, 0, 0), { x: 11, y: 25, width: 14, height: 14 });
  assert.deepEqual(cellBox(lay, 1, 2), { x: 39, y: 39, width: 14, height: 14 });
  assert.deepEqual(cellAtPoint(lay, 39 + 13.9, 39.1), { row: 1, col: 2 });
  assert.deepEqual(cellAtPoint(lay, 11, 25), { row: 0, col: 0 });
  assert.equal(cellAtPoint(lay, 10.9, 30), null);
  assert.equal(cellAtPoint(lay, 53, 30), null, 'the right edge is outside');
  assert.equal(cellAtPoint(lay, 20, 53), null, 'the bottom edge is outside');
  assert.deepEqual(
    lay.rowLabels.map((t) => [t.text, t.x, t.y]),
    [
      ['0', 7, 32],
      ['1', 7, 46],
    ],
  );
  assert.deepEqual(
    lay.colLabels.map((t) => [t.text, t.x, t.y]),
    [
      ['0', 18, 19],
      ['1', 32, 19],
      ['2', 46, 19],
    ],
  );
  assert.equal(lay.title.text, 'Entropy (nats)');
  // The bar: under the grid (25 + 28 + 9 + 3 = 65), at least 140 px wide.
  assert.deepEqual(lay.bar, { x: 11, y: 65, width: 140, height: 8 });
  // Uniform's entropy 2 is the top of the domain [0.25, 2]: the bar's right end, x = 11 + 140 = 151.
  assert.equal(lay.marks.length, 1);
  assert.equal(lay.marks[0].x, 151);
  assert.deepEqual(lay.marks[0].box, { x: 150, y: 62, width: 2, height: 14 });
  assert.equal(barX(lay.bar, 1.125, entropy.domain), 81); // the middle: 11 + 70
  assert.deepEqual(
    lay.legend.map((t) => [t.text, t.x, t.y, t.anchor]),
    [
      ['0.250', 11, 83, 'start'],
      ['2.000', 151, 83, 'end'],
      ['uniform attention: 2.000', 17, 95, 'start'],
    ],
  );
  // Width: the bar's end (151) is the widest part; height: the baseline line's centre + 7.
  assert.equal(lay.width, 151);
  assert.equal(lay.height, 102);
  // Mean distance: marks at 1 and 3 on [0.25, 3]: 11 + 140 · 0.75 / 2.75 and the right end.
  const d = multipleLayout(distance);
  assert.deepEqual(
    d.marks.map((m) => m.x),
    [11 + (140 * 0.75) / 2.75, 151],
  );
  near(d.marks[0].x, 49.1818181818, 1e-6);
});

test('head statistics: the hover readout has the layer, the head and the exact value', () => {
  const [entropy, special] = headStatGrids(headsResult());
  assert.equal(readoutText(entropy, 1, 2), 'Layer 1, head 2 · Entropy: 1.75 nats (uniform attention: 2 nats)');
  assert.equal(
    readoutText(entropy, 1, 1),
    'Layer 1, head 1 · Entropy: — (undefined for this layer) (uniform attention: 2 nats)',
  );
  assert.equal(readoutText(special, 0, 2), 'Layer 0, head 2 · Special-token share: 0.3 (uniform attention: 0.5)');
});
