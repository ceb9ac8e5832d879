// The context-mixing arithmetic on cases small enough to work out by hand: ALTI of a one-head, two-token, 2-wide
// block (pre-LN and post-LN), value zeroing's cosine distances, the rollout's matrix product and the value-keep
// rows of a zeroing batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  altiLayer,
  matrixRow,
  mixingRollout,
  valueKeepRows,
  valueZeroingLayer,
} from '../../../../runtime/analysis/mixing';

const near = (a: ArrayLike<number>, b: number[], tol = 1e-12) =>
  b.forEach((x, i) => assert.ok(Math.abs(a[i] - x) <= tol, `[${i}] ${a[i]} vs ${x}`));

test('ALTI, pre-LN: T_i(x_j) = α_ij f(x_j) + [i = j] x_i; c_ij = max(0, ‖y‖₁ − ‖y − T‖₁), by row sum', () => {
  // One head, two tokens, hidden 2. Row 0 attends to itself only, row 1 half/half.
  const attn = [1, 0, 0.5, 0.5]; // [1, 2, 2]
  const vectors = [2, 0, 0, 4]; // f(x_0) = (2, 0), f(x_1) = (0, 4)  [S, H, E]
  const resid = [1, 1, 1, -1]; // x_0, x_1
  // sum_i = Σ_j T_ij + bias, bias = (0.5, 0):
  //   row 0: T_00 = (2,0) + (1,1) = (3,1), T_01 = 0 → sum_0 = (3.5, 1)
  //   row 1: T_10 = (1,0), T_11 = (0,2) + (1,−1) = (1,1) → sum_1 = (2.5, 1)
  const sum = [3.5, 1, 2.5, 1];
  const c = altiLayer({ heads: 1, seq: 2, hidden: 2, attn, vectors, resid, sum });
  // Row 0: ‖y‖ = 4.5; d_00 = ‖(0.5, 0)‖ = 0.5 → 4; d_01 = ‖y‖ = 4.5 → 0. Row: (1, 0).
  // Row 1: ‖y‖ = 3.5; d_10 = ‖(1.5, 1)‖ = 2.5 → 1; d_11 = ‖(1.5, 0)‖ = 1.5 → 2. Row: (1/3, 2/3).
  near(c, [1, 0, 1 / 3, 2 / 3]);
});

test('ALTI, post-LN: every term through LN’s linear part with the token’s σ; y = LN(sum)', () => {
  // One token, one head, hidden 2: T_00 = α f + x = (1, 0) + (2, 0) = (3, 0); sum = T + bias (1, 2) = (4, 2).
  // LN with γ = (1, 2), β = (0.5, 0), ε = 0: mean 3, σ = 1 → y = (1·(4−3) + 0.5, 2·(2−3)) = (1.5, −2).
  // T̃ = γ ⊙ (T − mean T)/σ = ((3−1.5), 2·(0−1.5)) = (1.5, −3). ‖y‖ = 3.5; ‖y − T̃‖ = 0 + 1 = 1 → c = 2.5 → 1.
  const c = altiLayer({
    heads: 1,
    seq: 1,
    hidden: 2,
    attn: [1],
    vectors: [1, 0],
    resid: [2, 0],
    sum: [4, 2],
    postNorm: [1, 2, 0.5, 0, 0, 0],
  });
  near(c, [1]);
  // Two tokens where one term is farther from y than nothing is: clipped at 0, the other takes the whole row.
  const d = altiLayer({
    heads: 1,
    seq: 2,
    hidden: 1,
    attn: [1, 0, 0, 1],
    vectors: [-10, 0],
    resid: [1, 1],
    sum: [-9, 1],
  });
  // Row 0: T_00 = −10 + 1 = −9 = y → c = 9; T_01 = 0 → c = 0. Row 1: T_11 = 1 = y → (0, 1).
  near(d, [1, 0, 0, 1]);
  assert.throws(
    () => altiLayer({ heads: 1, seq: 2, hidden: 1, attn: [1], vectors: [0, 0], resid: [0, 0], sum: [0, 0] }),
    /attn has 1/,
  );
});

test('value zeroing: 1 − cos of each token’s output with and without token j’s values, by row sum', () => {
  const original = [1, 0, 0, 1]; // x_0 = (1, 0), x_1 = (0, 1)
  // Zeroing token 0 turns x_0 into (1, 1) (cos 1/√2) and leaves x_1; zeroing token 1 turns x_1 into (1, 1).
  const zeroed = [
    [1, 1, 0, 1],
    [1, 0, 1, 1],
  ];
  const c = valueZeroingLayer(original, zeroed, 2, 2);
  near(c, [1, 0, 0, 1]);
  // Both change row 0: distances 1 − 1/√2 and 1 − 0 (orthogonal) → by row sum.
  const d = valueZeroingLayer(
    original,
    [
      [1, 1, 0, 1],
      [0, 1, 0, 1],
    ],
    2,
    2,
  );
  const a = 1 - Math.SQRT1_2;
  near(d, [a / (a + 1), 1 / (a + 1), 0, 0]);
  // Per-j originals (each batch's own unzeroed row) give the same with the same originals.
  near(valueZeroingLayer([original, original], zeroed, 2, 2), [1, 0, 0, 1]);
});

test('rollout multiplies last to first; value-keep rows zero one (layer, token) each after an unzeroed row', () => {
  const c1 = Float64Array.from([1, 0, 0.5, 0.5]);
  const c2 = Float64Array.from([1, 0, 0.25, 0.75]);
  // c2 · c1 = [[1, 0], [0.25 + 0.375, 0.375]]
  const r = mixingRollout([c1, c2], 2);
  near(r, [1, 0, 0.625, 0.375]);
  near(matrixRow(r, 2, 1), [0.625, 0.375]);
  assert.throws(() => matrixRow(r, 2, 2), /outside/);
  const keep = valueKeepRows(
    [
      { layer: 1, token: 0 },
      { layer: 0, token: 2 },
    ],
    2,
    3,
  ); // [3 rows, 2 layers, 3 tokens]
  assert.deepEqual(Array.from(keep), [1, 1, 1, 1, 1, 1, /**/ 1, 1, 1, 0, 1, 1, /**/ 1, 1, 0, 1, 1, 1]);
});
