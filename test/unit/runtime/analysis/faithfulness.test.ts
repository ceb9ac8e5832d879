// Checks ERASER comprehensiveness, sufficiency and AOPC with a synthetic linear "model" whose output is the sum of
// the weights of the kept tokens, so every value is computed by hand in the comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binSize, faithfulness, rankTokens } from '../../../../runtime/analysis/faithfulness';

const near = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

/** f(keep) = Σ weights of kept tokens; records every mask it is called with. */
function linearModel(weights: number[]) {
  const calls: boolean[][] = [];
  const evaluate = async (keep: boolean[]) => {
    calls.push(keep);
    return weights.reduce((s, w, i) => s + (keep[i] ? w : 0), 0);
  };
  return { evaluate, calls };
}

const W = [0.5, 3, 1, 0, 2, 2, 0.1, 4, 0, 1.5]; // Σ = 14.1

test('bin sizes: ceil(p% · n), at least 1, at most n (20% of 15 is 3, not 4)', () => {
  assert.deepEqual(
    [1, 5, 10, 20, 50].map((p) => binSize(p, 10)),
    [1, 1, 1, 2, 5],
  );
  assert.equal(binSize(20, 15), 3);
  assert.equal(binSize(50, 3), 2);
  assert.equal(binSize(1, 3), 1);
  assert.equal(binSize(100, 7), 7);
  assert.throws(() => binSize(0, 10), RangeError);
});

test('ranking: highest score first, ties to the earlier position', () => {
  assert.deepEqual(rankTokens(W), [7, 1, 4, 5, 9, 2, 0, 6, 3, 8]);
  assert.deepEqual(rankTokens([1, 1, 1]), [0, 1, 2]);
  assert.deepEqual(rankTokens([1, 2, 3], [false, false, true]), [1, 0]);
});

test('a perfect explainer (scores = weights) on the linear model, by hand', async () => {
  const { evaluate, calls } = linearModel(W);
  const r = await faithfulness(W, evaluate);
  near(r.full, 14.1);
  // k = 1, 1, 1, 2, 5 → removed weight 4, 4, 4, 4+3, 4+3+2+2+1.5 = 12.5.
  assert.deepEqual(
    r.bins.map((b) => b.k),
    [1, 1, 1, 2, 5],
  );
  const comp = [4, 4, 4, 7, 12.5];
  const suff = comp.map((c) => 14.1 - c); // f(x) − f(top-k only) = Σw − Σ top-k
  r.bins.forEach((b, i) => {
    near(b.comprehensiveness, comp[i]);
    near(b.sufficiency, suff[i]);
    near(b.withoutTopK, 14.1 - comp[i]);
    near(b.onlyTopK, comp[i]);
  });
  // ERASER's AOPC: the sum over the |B| = 5 bins requested (k = 1 three times: kept, as ERASER does) over |B| + 1.
  near(r.aopcComprehensiveness, 31.5 / 6);
  near(r.aopcSufficiency, (5 * 14.1 - 31.5) / 6);
  // Distinct masks: all kept, then (without, only) for k = 1, 2, 5 → 7 calls.
  assert.equal(calls.length, 7);
  assert.deepEqual(calls[0], new Array(10).fill(true));
});

test('a reversed explainer is less comprehensive and less sufficient', async () => {
  const { evaluate } = linearModel(W);
  const good = await faithfulness(W, evaluate);
  const bad = await faithfulness(
    W.map((w) => -w),
    evaluate,
  );
  // Reversed ranking starts with the zero-weight tokens 3 and 8: removing them changes nothing.
  near(bad.bins[0].comprehensiveness, 0);
  near(bad.bins[3].comprehensiveness, 0);
  assert.ok(bad.aopcComprehensiveness < good.aopcComprehensiveness);
  assert.ok(bad.aopcSufficiency > good.aopcSufficiency);
});

test('excluded (special) positions are never ranked or removed, and always kept', async () => {
  // Tokens 0 and 5 are special with weight 10 each; candidates 1..4 have weights 1, 2, 3, 4; scores rank 4, 3, 2, 1.
  const weights = [10, 1, 2, 3, 4, 10];
  const exclude = [true, false, false, false, false, true];
  const { evaluate, calls } = linearModel(weights);
  const r = await faithfulness([99, 1, 2, 3, 4, 99], evaluate, { exclude, percents: [25, 50] });
  assert.deepEqual(r.ranking, [4, 3, 2, 1]);
  // 25% of 4 → k = 1 (token 4); 50% → k = 2 (tokens 4, 3).
  assert.deepEqual(
    r.bins.map((b) => b.k),
    [1, 2],
  );
  near(r.full, 30);
  near(r.bins[0].comprehensiveness, 4);
  near(r.bins[1].comprehensiveness, 7);
  near(r.bins[0].sufficiency, 30 - (20 + 4)); // specials kept in "top-k only"
  near(r.bins[1].sufficiency, 30 - (20 + 7));
  for (const mask of calls) assert.ok(mask[0] && mask[5], 'special tokens kept in every call');
  near(r.aopcComprehensiveness, (4 + 7) / 3); // 2 bins: / (2 + 1)
  near(r.aopcSufficiency, (6 + 3) / 3);
});

test('bad inputs and aborts are refused', async () => {
  const { evaluate } = linearModel([1, 2]);
  await assert.rejects(faithfulness([1, 2], evaluate, { exclude: [true, true] }), RangeError);
  await assert.rejects(faithfulness([1, 2], evaluate, { exclude: [true] }), RangeError);
  await assert.rejects(faithfulness([1, NaN], evaluate), RangeError);
  await assert.rejects(
    faithfulness([1, 2], async () => NaN),
    RangeError,
  );
  const controller = new AbortController();
  controller.abort(new Error('stop'));
  await assert.rejects(faithfulness([1, 2], evaluate, { signal: controller.signal }), /stop/);
});
