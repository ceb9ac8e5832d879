// Checks attention rollout on hand-computed 2×2 cases (including layer order, head max and start layer) and on
// random stacks against numpy's matrix products (test/fixtures/analysis/flow.json, scripts/make-analysis-fixtures.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  attentionRollout,
  layersFromArrays,
  mixedAttention,
  rolloutRow,
  rolloutScores,
} from '../../../../runtime/analysis/rollout';
import type { LayerAttention } from '../../../../runtime/types';
import { fixturesDir } from '../../../helpers/fixtures';

interface Stack {
  layers: number;
  heads: number;
  seq: number;
  causal: boolean;
  data: number[][];
  rolloutMean: number[];
  rolloutMax: number[];
  rolloutStart1: number[] | null;
}
const fixture = JSON.parse(readFileSync(path.join(fixturesDir, 'analysis', 'flow.json'), 'utf8')) as {
  stacks: Stack[];
};

/** One LayerAttention per layer from nested [heads][query][key] arrays. */
function stack(...layers: number[][][][]): LayerAttention[] {
  return layersFromArrays(
    layers.map((l) => Float32Array.from(l.flat(2))),
    layers[0].length,
    layers[0][0].length,
  );
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-9, what = ''): void {
  assert.equal(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

test('one layer: R = 0.5·A + 0.5·I', () => {
  const r = attentionRollout(
    stack([
      [
        [1, 0],
        [0.5, 0.5],
      ],
    ]),
  );
  close(r, [1, 0, 0.25, 0.75]);
});

test('identity attention rolls out to the identity; swapping attention mixes evenly', () => {
  const eye = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  close(attentionRollout(stack([eye], [eye], [eye])), eye.flat());
  const swap = [
    [
      [0, 1],
      [1, 0],
    ],
  ];
  close(attentionRollout(stack(swap, swap)), [0.5, 0.5, 0.5, 0.5]);
});

test('the first layer is rightmost: R = Ã_1 · Ã_0, not Ã_0 · Ã_1', () => {
  // Layer 0: everyone attends token 0 → Ã_0 = [[1, 0], [.5, .5]]. Layer 1: everyone attends token 1 →
  // Ã_1 = [[.5, .5], [0, 1]]. Ã_1·Ã_0 = [[.75, .25], [.5, .5]]; the other order would give [[.5, .5], [.25, .75]].
  const layers = stack(
    [
      [
        [1, 0],
        [1, 0],
      ],
    ],
    [
      [
        [0, 1],
        [0, 1],
      ],
    ],
  );
  close(attentionRollout(layers), [0.75, 0.25, 0.5, 0.5]);
  close(rolloutScores(layers, 0), [0.75, 0.25]);
  close(rolloutRow(attentionRollout(layers), 2, 1), [0.5, 0.5]);
});

test('head max takes the elementwise max over heads, then renormalises rows', () => {
  // max of [[1,0],[0,1]] and [[0,1],[1,0]] is all ones → 0.5 + 0.5·I → rows [1, .5] / 1.5.
  const r = attentionRollout(
    stack([
      [
        [1, 0],
        [0, 1],
      ],
      [
        [0, 1],
        [1, 0],
      ],
    ]),
    { heads: 'max' },
  );
  close(r, [2 / 3, 1 / 3, 1 / 3, 2 / 3]);
  // Mean of the same heads is 0.5 everywhere → Ã = [[.75, .25], [.25, .75]].
  close(
    mixedAttention(
      stack([
        [
          [1, 0],
          [0, 1],
        ],
        [
          [0, 1],
          [1, 0],
        ],
      ])[0],
    ),
    [0.75, 0.25, 0.25, 0.75],
  );
});

test('startLayer skips the layers below it', () => {
  const layers = stack(
    [
      [
        [1, 0],
        [1, 0],
      ],
    ],
    [
      [
        [0, 1],
        [0, 1],
      ],
    ],
  );
  close(attentionRollout(layers, { startLayer: 1 }), [0.5, 0.5, 0, 1]);
  assert.throws(() => attentionRollout(layers, { startLayer: 2 }), RangeError);
});

test('bad shapes are refused', () => {
  const cross: LayerAttention = {
    layer: 0,
    kind: 'cross',
    heads: 1,
    queryLength: 2,
    keyLength: 2,
    data: new Float32Array(4),
  };
  assert.throws(() => attentionRollout([cross]), /cross-attention/);
  assert.throws(() => attentionRollout(layersFromArrays([new Float32Array(3)], 1, 2)), RangeError);
  assert.throws(() => attentionRollout([]), RangeError);
  assert.throws(() => rolloutRow(new Float64Array(4), 2, 2), RangeError);
});

test('random stacks match numpy (mean, max, start layer 1)', () => {
  for (const s of fixture.stacks) {
    const layers = layersFromArrays(
      s.data.map((d) => Float32Array.from(d)),
      s.heads,
      s.seq,
      s.causal ? 'causal' : 'self',
    );
    const what = `${s.layers}×${s.heads}×${s.seq}`;
    const r = attentionRollout(layers);
    close(r, s.rolloutMean, 1e-9, `${what} mean`);
    for (let i = 0; i < s.seq; i++) {
      const sum = r.subarray(i * s.seq, (i + 1) * s.seq).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-12, `${what}: row ${i} of R sums to ${sum}`);
    }
    close(attentionRollout(layers, { heads: 'max' }), s.rolloutMax, 1e-9, `${what} max`);
    if (s.rolloutStart1) close(attentionRollout(layers, { startLayer: 1 }), s.rolloutStart1, 1e-9, `${what} start 1`);
  }
});
