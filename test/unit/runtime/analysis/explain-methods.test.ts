// The pure parts of explanations on hand-made inputs with known answers: target math (log-softmax, cosine),
// leave-one-out and occlusion on a linear "model" (value = Σ weights of the kept tokens), erasure curves and their
// area, Kobayashi norms from Gram matrices against explicit vectors, the registry's new methods and pooled targets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmax, cosine, logSoftmaxAt, measureRow, softmaxAt, topIds } from '../../../../runtime/analysis/targets';
import { leaveOneOut, leaveOneOutMasks } from '../../../../runtime/analysis/loo';
import { occlusion, occlusionMasks } from '../../../../runtime/analysis/occlusion';
import { curveArea, erasureCurve, erasureMasks, erasurePoints } from '../../../../runtime/analysis/erasure';
import { headNormRow, normAsAttention, normMap, normRow, valueNormsFromGram } from '../../../../runtime/analysis/norm';
import { computeImportance, getMethod, type ImportanceContext } from '../../../../runtime/analysis/registry';
import { layersFromArrays } from '../../../../runtime/analysis/rollout';
import type { LayerAttention } from '../../../../runtime/types';

const near = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-9) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

/** value(keep) = Σ w_j over kept j; counts calls and rows. */
function linear(weights: number[]) {
  const stats = { calls: 0, rows: 0 };
  const evaluate = async (masks: boolean[][]) => {
    stats.calls++;
    stats.rows += masks.length;
    return masks.map((m) => weights.reduce((s, w, j) => s + (m[j] ? w : 0), 0));
  };
  return { evaluate, stats };
}

test('targets: log-softmax, softmax, argmax, top ids and cosine by hand', () => {
  const row = [Math.log(1), Math.log(2), Math.log(3)]; // softmax = [1/6, 2/6, 3/6]
  near(logSoftmaxAt(row, 2), Math.log(0.5));
  near(softmaxAt(row, 0), 1 / 6);
  // Offsets address row r of a [rows, width] array; large logits do not overflow.
  const two = [0, 0, 0, 1000, 1000 + Math.log(3), 1000];
  near(logSoftmaxAt(two, 1, 3, 3), Math.log(3 / 5), 1e-9);
  assert.equal(argmax([1, 3, 3, 2]), 1);
  assert.deepEqual(topIds([0.1, 0.5, 0.5, 0.2], 3), [1, 2, 3]);
  near(cosine([1, 0], [1, 1]), Math.SQRT1_2);
  near(cosine([0, 0], [1, 1]), 0);
  near(measureRow(two, 1, 3, 'prob', { token: 1 }), 3 / 5, 1e-9);
  near(measureRow([9, 1, 0, 0, 2, 2], 1, 3, 'cosine', { reference: [0, 1, 1] }), 1, 1e-12);
  assert.throws(() => logSoftmaxAt(row, 3), RangeError);
  assert.throws(() => measureRow(row, 0, 3, 'log-prob', {}), RangeError);
});

test('leave-one-out on a linear model: the scores are the weights; one batched call with the full input first', async () => {
  const w = [0.5, 2, -1, 3];
  const { evaluate, stats } = linear(w);
  const r = await leaveOneOut(evaluate, 4);
  close(r.scores, w);
  near(r.full, 4.5);
  assert.equal(r.passes, 5);
  assert.deepEqual([stats.calls, stats.rows], [1, 5]);
  // Non-candidates are never removed and score 0.
  const c = await leaveOneOut(evaluate, 4, { candidates: [false, true, true, false] });
  close(c.scores, [0, 2, -1, 0]);
  assert.deepEqual(
    leaveOneOutMasks(3, [true, false, true]).map((m) => m.keep),
    [
      [false, true, true],
      [true, true, false],
    ],
  );
});

test('occlusion: window 1 is leave-one-out; window 2 averages the windows covering each token (by hand)', async () => {
  const w = [1, 2, 3, 4];
  const { evaluate } = linear(w);
  close((await occlusion(evaluate, 4, { window: 1 })).scores, w);
  // Windows {0,1} {1,2} {2,3} drop 3, 5, 7: token 0 → 3, 1 → (3+5)/2, 2 → (5+7)/2, 3 → 7.
  const r = await occlusion(evaluate, 4, { window: 2 });
  close(r.scores, [3, 4, 6, 7]);
  assert.equal(r.passes, 4);
  // Windows slide over candidates only: special position 0 is skipped and never removed.
  assert.deepEqual(
    occlusionMasks(5, { window: 2, candidates: [false, true, true, true, true] }).map((m) => m.removed),
    [
      [1, 2],
      [2, 3],
      [3, 4],
    ],
  );
  // Stride 2 over 5 candidates with window 2: starts 0, 2, and 3 so the last candidate is covered.
  assert.deepEqual(
    occlusionMasks(5, { window: 2, stride: 2 }).map((m) => m.removed),
    [
      [0, 1],
      [2, 3],
      [3, 4],
    ],
  );
  // A window longer than the candidates is clamped to all of them.
  assert.deepEqual(
    occlusionMasks(3, { window: 9 }).map((m) => m.removed),
    [[0, 1, 2]],
  );
});

test('erasure: points, masks in rank order, the trapezoid area by hand, and a curve on the linear model', async () => {
  assert.deepEqual(erasurePoints(10, 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(erasurePoints(3, 10), [0, 1, 2, 3]);
  assert.deepEqual(erasurePoints(4, 2), [0, 2, 4]);
  // drops 0, 2, 4 at fractions 0, .5, 1: ½·(0+2)/2 + ½·(2+4)/2 = 2
  near(curveArea([0, 0.5, 1], [5, 3, 1]), 2);
  const scores = [0.1, 0.9, 0.5];
  const m = erasureMasks(scores, { steps: 3 });
  assert.deepEqual(m.keep, [
    [true, true, true],
    [true, false, true],
    [true, false, false],
    [false, false, false],
  ]);
  const least = erasureMasks(scores, { steps: 3, order: 'least', exclude: [false, false, true] });
  assert.deepEqual(least.erased, [0, 1, 2]);
  assert.deepEqual(least.keep[1], [false, true, true]);
  const { evaluate } = linear([1, 3, 2]); // full 6; erase 1 (3), then 2 (2), then 0 (1): 6, 3, 1, 0
  const curve = await erasureCurve(scores, evaluate, { steps: 3 });
  assert.deepEqual(curve.value, [6, 3, 1, 0]);
  close(curve.fraction, [0, 1 / 3, 2 / 3, 1]);
  // drops 0, 3, 5, 6 over thirds: (0+3)/6 + (3+5)/6 + (5+6)/6 = 22/6
  near(curve.area, 22 / 6, 1e-12);
});

// Two tokens, two heads, hidden 2. f_h(x_j) given explicitly; G_j[h, h'] = ⟨f_h(x_j), f_h'(x_j)⟩.
const f = [
  [
    [1, 0],
    [0, 2],
  ], // token 0: head 0, head 1
  [
    [3, 4],
    [-3, -4],
  ], // token 1
];
const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1];
const gram = Float32Array.from(f.flatMap((hs) => hs.flatMap((a) => hs.map((b) => dot(a, b))))); // [key, H, H]
// Head 0 rows [.5 .5], [0 1]; head 1 rows [.25 .75], [1 0].
const normLayer: LayerAttention = {
  layer: 0,
  kind: 'self',
  heads: 2,
  queryLength: 2,
  keyLength: 2,
  data: Float32Array.from([0.5, 0.5, 0, 1, 0.25, 0.75, 1, 0]),
};

test('norms from Gram matrices equal ‖Σ_h α f_h(x_j)‖ of explicit vectors (by hand)', () => {
  close(valueNormsFromGram(gram, 2, 2), [1, 5, 2, 5]); // [head, key]
  // Row 0: ‖.5·[1,0] + .25·[0,2]‖ = √.5; ‖.5·[3,4] + .75·[−3,−4]‖ = 1.25.
  close(normRow(normLayer, gram, 0), [Math.SQRT1_2, 1.25], 1e-7);
  // Row 1: ‖0·f0 + 1·[0,2]‖ = 2; ‖1·[3,4] + 0‖ = 5.
  close(normMap(normLayer, gram), [Math.SQRT1_2, 1.25, 2, 5], 1e-6);
  // Brute force over the explicit vectors for every cell.
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 2; j++) {
      const a0 = normLayer.data[(0 * 2 + i) * 2 + j];
      const a1 = normLayer.data[(1 * 2 + i) * 2 + j];
      const v = [a0 * f[j][0][0] + a1 * f[j][1][0], a0 * f[j][0][1] + a1 * f[j][1][1]];
      near(normRow(normLayer, gram, i)[j], Math.hypot(v[0], v[1]), 1e-6);
    }
  close(headNormRow(normLayer, gram, 0, 0), [0.5, 2.5]); // α · ‖f_0(x_j)‖
  close(headNormRow(normLayer, gram, 1, 0), [0.5, 3.75]);
  const asAttn = normAsAttention(normLayer, gram);
  close(asAttn.data, [Math.SQRT1_2 / (Math.SQRT1_2 + 1.25), 1.25 / (Math.SQRT1_2 + 1.25), 2 / 7, 5 / 7], 1e-6);
  assert.throws(() => normRow(normLayer, gram.subarray(1), 0), RangeError);
});

test('registry: the new methods, their needs, evaluate fallback, pooled targets and the uniform baseline', async () => {
  assert.deepEqual(
    ['loo', 'occlusion', 'norm', 'norm-rollout', 'uniform'].map((id) => getMethod(id)?.kind),
    ['perturbation', 'perturbation', 'norm', 'norm', 'baseline'],
  );
  const w = [1, -2, 4];
  const batched = linear(w);
  const ctx: ImportanceContext = { seq: 3, target: 2, evaluateBatch: batched.evaluate };
  close(await computeImportance('loo', ctx), w);
  assert.equal(batched.stats.calls, 1);
  // Without evaluateBatch, the one-mask evaluate is called once per mask.
  let singles = 0;
  const single = async (keep: boolean[]) => (singles++, w.reduce((s, x, j) => s + (keep[j] ? x : 0), 0));
  close(await computeImportance('loo', { seq: 3, target: 2, evaluate: single }), w);
  assert.equal(singles, 4);
  await assert.rejects(computeImportance('loo', { seq: 3, target: 2 }), /needs evaluate/);
  await assert.rejects(computeImportance('norm', { seq: 2, target: 0, attention: [normLayer] }), /valueNorms/);

  // norm on the hand layer: all heads, one head, and the pooled mean of both rows.
  const nctx: ImportanceContext = {
    seq: 2,
    target: 0,
    attention: [normLayer],
    valueNorms: [{ layer: 0, heads: 2, data: Float32Array.from(valueNormsFromGram(gram, 2, 2)), gram }],
  };
  close(await computeImportance('norm', nctx), [Math.SQRT1_2, 1.25], 1e-6);
  close(await computeImportance('norm', { ...nctx, head: 1 }), [0.5, 3.75], 1e-6);
  close(await computeImportance('norm', { ...nctx, targetWeights: [1, 1] }), [(Math.SQRT1_2 + 2) / 2, 3.125], 1e-6);
  const nr = await computeImportance('norm-rollout', nctx);
  near(
    nr.reduce((a, b) => a + b, 0),
    1,
    1e-6,
  );

  // Pooled raw attention = the weighted mean of the rows; uniform: causal rows over j ≤ i, mean over rows.
  const attention = layersFromArrays([Float32Array.from([1, 0, 0.25, 0.75])], 1, 2, 'causal');
  close(await computeImportance('raw-attention', { seq: 2, target: 0, attention, targetWeights: [1, 3] }), [
    (1 + 3 * 0.25) / 4,
    (3 * 0.75) / 4,
  ]);
  close(await computeImportance('uniform', { seq: 3, target: 1, causal: true }), [0.5, 0.5, 0]);
  close(await computeImportance('uniform', { seq: 2, target: 0, causal: true, targetWeights: [1, 1] }), [0.75, 0.25]);
  close(await computeImportance('uniform', { seq: 4, target: 0 }), [0.25, 0.25, 0.25, 0.25]);
});
