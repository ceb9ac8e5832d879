// Checks Jensen–Shannon divergence and total variation against closed forms and scipy.spatial.distance.jensenshannon
// (test/fixtures/analysis/distance.json, scripts/make-analysis-fixtures.py), and the uniform-attention baseline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  divergenceFromUniform,
  jsDistance,
  jsDivergence,
  totalVariation,
  uniformAttention,
  uniformRow,
} from '../../../../runtime/analysis/distance';
import { fixturesDir } from '../../../helpers/fixtures';

interface Case {
  p: number[];
  q: number[];
  jsNats: number;
  jsBits: number;
  tv: number;
}
const fixture = JSON.parse(readFileSync(path.join(fixturesDir, 'analysis', 'distance.json'), 'utf8')) as {
  cases: Case[];
};

const near = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('closed forms: identical → 0, disjoint → ln 2 nats = 1 bit, TV 1', () => {
  near(jsDivergence([0.2, 0.8], [0.2, 0.8]), 0);
  near(jsDivergence([1, 0], [0, 1]), Math.LN2);
  near(jsDivergence([1, 0], [0, 1], 2), 1);
  near(jsDistance([1, 0], [0, 1], 2), 1);
  near(totalVariation([1, 0], [0, 1]), 1);
  near(totalVariation([0.5, 0.5, 0], [0.25, 0.25, 0.5]), 0.5);
});

test('one-hot vs uniform over two keys, by hand (m = [.75, .25])', () => {
  const expected = 0.5 * Math.log(4 / 3) + 0.25 * Math.log(2 / 3) + 0.25 * Math.log(2);
  near(jsDivergence([1, 0], [0.5, 0.5]), expected);
});

test('inputs are normalised first (as scipy); bad inputs are refused', () => {
  near(jsDivergence([2, 0], [0, 5]), Math.LN2);
  near(totalVariation([1, 1], [3, 1]), 0.25);
  assert.throws(() => jsDivergence([0, 0], [1, 0]), RangeError);
  assert.throws(() => jsDivergence([-1, 2], [1, 0]), RangeError);
  assert.throws(() => totalVariation([1], [1, 0]), RangeError);
});

test('random distributions match scipy (jensenshannon² in base e and 2; TV)', () => {
  for (const c of fixture.cases) {
    near(jsDivergence(c.p, c.q), c.jsNats);
    near(jsDivergence(c.p, c.q, 2), c.jsBits);
    near(jsDistance(c.p, c.q), Math.sqrt(c.jsNats), 1e-9);
    near(totalVariation(c.p, c.q), c.tv);
  }
});

test('uniform baseline: causal rows see keys 0..i, masked keys are skipped', () => {
  assert.deepEqual([...uniformRow(4, 1, true)], [0.5, 0.5, 0, 0]);
  assert.deepEqual([...uniformRow(4, 1, false)], [0.25, 0.25, 0.25, 0.25]);
  assert.deepEqual([...uniformRow(4, 3, false, [true, false, true, false])], [0.5, 0, 0.5, 0]);
  assert.deepEqual([...uniformRow(3, 0, true, [false, true, true])], [0, 0, 0], 'nothing visible: zero row');
  assert.deepEqual([...uniformAttention(2, 2, true)], [1, 0, 0.5, 0.5]);
  // Two queries over three keys, causal with a cached prefix: queries sit at key positions 1 and 2.
  assert.deepEqual([...uniformAttention(2, 3, true)], [0.5, 0.5, 0, 1 / 3, 1 / 3, 1 / 3]);
});

test('divergence from uniform per head: 0 for uniform causal rows, the hand value for one-hot rows', () => {
  const uniform = [1, 0, 0.5, 0.5]; // [query, key], causal
  const oneHot = [1, 0, 1, 0];
  const d = divergenceFromUniform({
    layer: 0,
    kind: 'causal',
    heads: 2,
    queryLength: 2,
    keyLength: 2,
    data: Float32Array.from([...uniform, ...oneHot]),
  });
  near(d[0], 0);
  // Row 0 is [1, 0] in both (0); row 1 is one-hot vs [.5, .5] → the value above; mean over the 2 rows.
  near(d[1], (0.5 * Math.log(4 / 3) + 0.25 * Math.log(2 / 3) + 0.25 * Math.log(2)) / 2);
});
