// Checks rank agreement measures on hand-computed cases (ties included) and against scipy.stats.kendalltau /
// spearmanr on random vectors (test/fixtures/analysis/agreement.json, scripts/make-analysis-fixtures.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { averageRanks, kendallTau, spearmanRho, topK, topKOverlap } from '../../../../runtime/analysis/agreement';
import { fixturesDir } from '../../../helpers/fixtures';

interface Case {
  a: number[];
  b: number[];
  kendallTauB: number;
  spearman: number;
  topK: Record<string, number>;
}
const fixture = JSON.parse(readFileSync(path.join(fixturesDir, 'analysis', 'agreement.json'), 'utf8')) as {
  cases: Case[];
};

const near = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('identical orders give 1, reversed orders −1', () => {
  const a = [0.1, 0.4, 0.2, 0.9];
  near(kendallTau(a, a), 1);
  near(spearmanRho(a, [1, 4, 2, 9]), 1);
  near(kendallTau(a, [-0.1, -0.4, -0.2, -0.9]), -1);
  near(spearmanRho(a, [-0.1, -0.4, -0.2, -0.9]), -1);
});

test('τ-b with a tie, by hand: C = 5, D = 0, n0 = 6, n1 = 1 → 5/√30', () => {
  near(kendallTau([1, 2, 2, 3], [1, 2, 3, 4]), 5 / Math.sqrt(30));
});

test('Spearman with a tie uses average ranks, by hand: 4.5/√22.5', () => {
  assert.deepEqual([...averageRanks([1, 2, 2, 3])], [1, 2.5, 2.5, 4]);
  assert.deepEqual([...averageRanks([3, 1, 3, 2])], [3.5, 1, 3.5, 2]);
  near(spearmanRho([1, 2, 2, 3], [1, 2, 3, 4]), 4.5 / Math.sqrt(22.5));
});

test('a constant vector has no rank correlation (NaN, as scipy)', () => {
  assert.ok(Number.isNaN(kendallTau([1, 1, 1], [1, 2, 3])));
  assert.ok(Number.isNaN(spearmanRho([1, 2, 3], [5, 5, 5])));
  assert.throws(() => kendallTau([1, 2], [1, 2, 3]), RangeError);
});

test('top-k overlap by hand, ties broken by position', () => {
  near(topKOverlap([5, 4, 3, 2, 1], [1, 2, 3, 4, 5], 2), 0);
  near(topKOverlap([5, 4, 3, 2, 1], [1, 2, 3, 4, 5], 3), 1 / 3);
  assert.deepEqual(topK([1, 1, 1, 0], 2), [0, 1]);
  near(topKOverlap([1, 1, 1, 0], [0, 1, 1, 1], 1), 0); // {0} vs {1}
  near(topKOverlap([1, 1, 1, 0], [0, 1, 1, 1], 2), 0.5); // {0, 1} vs {1, 2}
  near(topKOverlap([3, 1, 2], [1, 2, 3], 10), 1, 0); // k clamped to n
  assert.throws(() => topK([1, 2], 0), RangeError);
});

test('random vectors (with ties) match scipy.stats', () => {
  for (const c of fixture.cases) {
    near(kendallTau(c.a, c.b), c.kendallTauB, 1e-12);
    near(spearmanRho(c.a, c.b), c.spearman, 1e-12);
    for (const [k, v] of Object.entries(c.topK)) near(topKOverlap(c.a, c.b, Number(k)), v);
  }
});
