// The head statistics of a kept run (runtime/explain/kept-head-stats.ts): each layer's uniform-attention row in
// closed form equals headTable's (runtime/explain/compare.ts), which builds the uniform matrix and measures it, for
// causal and bidirectional layers with special tokens; a layer's heads read their summaries (means of the per-row
// entropy and special mass, the previous-token score, the distance of causal layers only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headTable } from '../../../../runtime/explain/compare';
import { keptHeadTable, uniformHeadRow } from '../../../../runtime/explain/kept-head-stats';
import type { KeptLayerOverview } from '../../../../runtime/inspector/worker-protocol';
import type { LayerAttention, Token } from '../../../../runtime/types';

const tokens = (n: number, special: number[]): Token[] =>
  Array.from({ length: n }, (_, i) => ({ id: i, text: `w${i}`, start: i, end: i + 1, special: special.includes(i) }));

test('the uniform row in closed form equals the measured uniform matrix (causal and bidirectional)', () => {
  for (const [n, kind, special] of [
    [1, 'causal', []],
    [7, 'causal', [0]],
    [23, 'causal', [0, 11, 22]],
    [9, 'self', [0, 8]],
    [16, 'self', []],
  ] as const) {
    const t = tokens(n, [...special]);
    // Any head will do (headTable adds the uniform row after it): a one-hot diagonal.
    const data = new Float32Array(n * n);
    for (let q = 0; q < n; q++) data[q * n + q] = 1;
    const layer: LayerAttention = { layer: 2, kind, heads: 1, queryLength: n, keyLength: n, data };
    const want = headTable([layer], t).find((r) => r.head === -1)!;
    const got = uniformHeadRow(
      2,
      n,
      kind === 'causal',
      t.map((x) => x.special),
    );
    for (const k of ['entropy', 'specialShare', 'previousToken', 'meanDistance', 'jsdUniform'] as const) {
      if (Number.isNaN(want[k])) assert.ok(Number.isNaN(got[k]), `${kind} ${n}: ${k} NaN`);
      else assert.ok(Math.abs(got[k] - want[k]) <= 1e-6, `${kind} ${n}: ${k} ${got[k]} vs ${want[k]}`);
    }
  }
});

test('a kept layer’s heads: means of their summaries; distance only where no key follows the query', () => {
  const o = (layer: number): KeptLayerOverview => ({
    layer,
    length: 3,
    heads: [
      {
        entropy: Float32Array.of(0, 0.5, 1),
        specialMass: Float32Array.of(1, 0.5, 0.3),
        meanDistance: 0.7,
        previousToken: 0.4,
        res: 1,
        block: 64,
        blockMax: Float32Array.of(1),
        blockMean: Float32Array.of(0.5),
      },
    ],
  });
  const rows = keptHeadTable([o(0), undefined, o(2)], ['causal', 'causal', 'self'], tokens(3, [0]));
  assert.deepEqual(
    rows.map((r) => [r.layer, r.head]),
    [
      [0, 0],
      [0, -1],
      [2, 0],
      [2, -1],
    ],
  );
  assert.ok(Math.abs(rows[0].entropy - 0.5) < 1e-7);
  assert.ok(Math.abs(rows[0].specialShare - 0.6) < 1e-7);
  assert.equal(rows[0].previousToken, 0.4);
  assert.ok(Math.abs(rows[0].meanDistance - 0.7) < 1e-7);
  assert.ok(Number.isNaN(rows[0].punctuationShare) && Number.isNaN(rows[0].jsdUniform), 'not in the summaries');
  assert.ok(Number.isNaN(rows[2].meanDistance), 'a bidirectional layer keeps a signed distance: not shown');
});
