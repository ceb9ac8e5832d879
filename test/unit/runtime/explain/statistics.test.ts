// The study's statistics on cases computed by hand: the sign-flip permutation test enumerated exactly on tiny sets
// (every one of the 2^n sign patterns counted on paper), its sampled form, and the bootstrap interval of a mean
// (degenerate data, two values whose resampled means are 0, ½ or 1, and the normal-theory width on many values);
// then a study summary's paired comparisons and its reference method.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapMean, pairedPermutationTest } from '../../../../runtime/explain/statistics';
import { summarizeStudy, studyReference } from '../../../../runtime/explain/summary';
import type { ExplainResult } from '../../../../runtime/explain/result';
import { mulberry32 } from '../../../../runtime/random';

const near = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('permutation test: exact p on tiny sets, counted by hand', () => {
  // d = 1, 2, 3: the 8 sums ±1 ±2 ±3 are 6 4 2 0 0 −2 −4 −6; |sum| ≥ 6 twice → p = 2/8.
  const t = pairedPermutationTest([2, 4, 6], [1, 2, 3]);
  assert.deepEqual([t.n, t.meanDiff, t.p, t.exact], [3, 2, 0.25, true]);
  // d = 1, −1, 2 (observed sum 2): sums 2 0 4 2 −2 −4 0 −2 → |sum| ≥ 2 six times → p = 6/8.
  assert.equal(pairedPermutationTest([1, 0, 2], [0, 1, 0]).p, 0.75);
  // NaN pairs are left out: the same as d = 1, 2, 3.
  assert.equal(pairedPermutationTest([2, NaN, 4, 6, 1], [1, 0, 2, 3, NaN]).p, 0.25);
  // All differences zero: every pattern is as extreme → p = 1.
  assert.equal(pairedPermutationTest([1, 2], [1, 2]).p, 1);
  // Ten equal positive differences: only the all-plus and all-minus patterns reach |sum| = 10 → p = 2/1024.
  assert.equal(pairedPermutationTest(Array(10).fill(1), Array(10).fill(0)).p, 2 / 1024);
  assert.throws(() => pairedPermutationTest([1], [1, 2]), /differ in length/);
  assert.ok(Number.isNaN(pairedPermutationTest([NaN], [1]).p));
  // One pair: both signs reach |d|, so p would be 1 whatever d is — no test, p not given (shown "—").
  const single = pairedPermutationTest([5], [1]);
  assert.deepEqual([single.n, single.meanDiff], [1, 4]);
  assert.ok(Number.isNaN(single.p));
});

test('permutation test: sampled beyond the exact limit, (hits + 1) / (samples + 1), seeded', () => {
  // 20 equal differences: the exact p is 2/2^20 ≈ 1.9e-6; 10,000 sampled patterns almost surely miss both extremes.
  const a = Array(20).fill(1);
  const b = Array(20).fill(0);
  const t = pairedPermutationTest(a, b);
  assert.equal(t.exact, false);
  assert.equal(t.p, 1 / 10001);
  // With the exact limit raised, the same data give the exact value.
  assert.equal(pairedPermutationTest(a, b, { exactMax: 20 }).p, 2 / 2 ** 20);
  // A null effect: differences ±1 alternating (sum 0) → every pattern is as extreme → p = 1 when sampled too.
  const alt = Array.from({ length: 30 }, (_, i) => (i % 2 ? 1 : -1));
  assert.equal(pairedPermutationTest(alt, Array(30).fill(0)).p, 1);
  // Sampled p is close to the exact one on a case with a moderate p (n = 16 enumerated vs sampled).
  const rand = mulberry32(7);
  const d = Array.from({ length: 16 }, () => rand() - 0.3);
  const exact = pairedPermutationTest(d, Array(16).fill(0)).p;
  const sampled = pairedPermutationTest(d, Array(16).fill(0), { exactMax: 0, samples: 20000 }).p;
  assert.ok(Math.abs(exact - sampled) < 0.01, `${exact} vs ${sampled}`);
  // Seeded: the same call gives the same p.
  assert.equal(
    pairedPermutationTest(d, Array(16).fill(0), { exactMax: 0 }).p,
    pairedPermutationTest(d, Array(16).fill(0), { exactMax: 0 }).p,
  );
});

test('bootstrap interval of a mean: degenerate, two values, and the normal-theory width', () => {
  assert.deepEqual(bootstrapMean([3, 3, 3, NaN]), { n: 3, mean: 3, lo: 3, hi: 3 });
  const one = bootstrapMean([5]);
  assert.deepEqual([one.n, one.mean], [1, 5]);
  assert.ok(Number.isNaN(one.lo) && Number.isNaN(one.hi));
  // Two values 0 and 1: a resample's mean is 0 (¼), ½ (½) or 1 (¼); the 2.5th and 97.5th percentiles are 0 and 1.
  assert.deepEqual(bootstrapMean([0, 1]), { n: 2, mean: 0.5, lo: 0, hi: 1 });
  // 400 uniform values: the interval is about mean ± 1.96 sd / √n (within 15 %) and holds the mean.
  const rand = mulberry32(3);
  const xs = Array.from({ length: 400 }, () => rand());
  const m = xs.reduce((s, x) => s + x, 0) / 400;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / 399);
  const ci = bootstrapMean(xs);
  near(ci.mean, m);
  const half = (ci.hi - ci.lo) / 2;
  assert.ok(Math.abs(half / ((1.96 * sd) / 20) - 1) < 0.15, String(half));
  assert.ok(ci.lo < m && m < ci.hi);
  // Seeded: the same values give the same interval; another seed a slightly different one.
  assert.deepEqual(bootstrapMean(xs), ci);
  assert.notDeepEqual(bootstrapMean(xs, { seed: 2 }), ci);
});

test('study summary: paired comparisons per metric and method pair, Kendall τ with the reference, CIs on spreads', () => {
  const fake = (tauX: number, tauRecency: number, compX: number, compY: number): ExplainResult =>
    ({
      target: { value: 0 },
      methods: [{ id: 'x' }, { id: 'loo' }],
      agreement: [
        { a: 'x', b: 'loo', kendall: tauX, spearman: 0, topK: 1, k: 1 },
        { a: 'loo', b: 'recency', kendall: tauRecency, spearman: 0, topK: 1, k: 1 },
      ],
      distance: [],
      faithfulness: [
        { method: 'x', full: 0, bins: [], aopcComprehensiveness: compX, aopcSufficiency: 0 },
        { method: 'y', full: 0, bins: [], aopcComprehensiveness: compY, aopcSufficiency: 0 },
      ],
      erasure: [],
      timings: { totalMs: 1 },
    }) as unknown as ExplainResult;
  const results = [fake(0.1, 0.5, 2, 1), fake(0.2, 0.6, 4, 2), fake(0.3, 0.9, 6, 3)];
  assert.equal(studyReference(results), 'loo');
  assert.equal(studyReference(results, 'x'), 'x');
  assert.equal(studyReference([]), undefined);
  const s = summarizeStudy(results);
  assert.equal(s.reference, 'loo');
  const comp = s.paired.find((p) => p.metric === 'aopcComprehensiveness')!;
  // x − y = 1, 2, 3: mean 2, exact p = 2/8 (as in the hand-counted case above).
  assert.deepEqual([comp.a, comp.b, comp.test.meanDiff, comp.test.p, comp.test.n], ['x', 'y', 2, 0.25, 3]);
  // τ with loo: x (0.1 0.2 0.3) vs recency (0.5 0.6 0.9): differences −0.4 −0.4 −0.6, all one sign → p = 2/8.
  const tau = s.paired.find((p) => p.metric === 'kendallWithReference')!;
  assert.deepEqual([tau.a, tau.b, tau.test.p], ['x', 'recency', 0.25]);
  near(tau.test.meanDiff, -1.4 / 3);
  // No example has a head sweep: none in the summary; with sweeps of one shape, their cell means.
  assert.equal(s.headSweep, undefined);
  const sweep = (v: number) => ({
    reference: 'loo',
    metric: 'kendall',
    layers: [0],
    heads: 2,
    values: [v, -v],
    recency: 0.5,
  });
  const withSweeps = results.map((r, i) => ({ ...r, headSweep: sweep(i / 2) }) as ExplainResult);
  const hs = summarizeStudy(withSweeps).headSweep!;
  assert.deepEqual([hs.reference, hs.layers, hs.heads, hs.n, hs.recency], ['loo', [0], 2, [3, 3], 0.5]);
  near(hs.values[0], 0.5); // (0 + 0.5 + 1) / 3
  near(hs.values[1], -0.5);
  assert.ok(hs.lo[0] <= hs.values[0] && hs.values[0] <= hs.hi[0]);
  // Every spread carries its bootstrap interval.
  const k = s.agreement.find((a) => a.a === 'x' && a.metric === 'kendall')!.spread;
  assert.ok(k.ci.lo >= 0.1 && k.ci.hi <= 0.3 && k.ci.lo < k.ci.hi);
});
