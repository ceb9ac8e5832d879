// Rollout rows of a kept run (runtime/attention/kept-rollout.ts): against rollout computed here from dense float64
// softmaxes of the same q and k (Ã_l = rownorm(½ · mean_h A_l + ½ · I), row t of Ã_L · … · Ã_s), and stopped by
// its caller: a rollout row can run for up to a minute in the inference worker, and Cancel must end it at the next row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExactAttention } from '../../../../runtime/attention/exact-attention';
import { keptRolloutRow } from '../../../../runtime/attention/kept-rollout';
import { isLensError } from '../../../../runtime/errors';

const N = 12;
const HEADS = 2;
const D = 4;
const LAYERS = 3;

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** Layer l's q and k ([heads, length, D], as LayerQK holds them) and its exact attention. */
function layers(causal: boolean) {
  const rand = seeded(causal ? 5 : 9);
  return Array.from({ length: LAYERS }, (_, l) => {
    const q = Float32Array.from({ length: N * HEADS * D }, rand);
    const k = Float32Array.from({ length: N * HEADS * D }, rand);
    const rule = { scale: 1 / Math.sqrt(D), softcap: null, causal, window: null };
    const qk = { layer: l, heads: HEADS, kvHeads: HEADS, length: N, headDim: D, q, k, rule };
    return { q, k, exact: new ExactAttention(qk) };
  });
}

/** Dense float64 attention of one head: softmax over the visible keys of (q_i · k_j) / √D. */
function denseHead(q: Float32Array, k: Float32Array, h: number, causal: boolean): number[][] {
  const at = (a: Float32Array, i: number, d: number) => a[(h * N + i) * D + d];
  return Array.from({ length: N }, (_, i) => {
    const z = Array.from({ length: N }, (_, j) => {
      if (causal && j > i) return -Infinity;
      let s = 0;
      for (let d = 0; d < D; d++) s += at(q, i, d) * at(k, j, d);
      return s / Math.sqrt(D);
    });
    const m = Math.max(...z);
    const e = z.map((x) => Math.exp(x - m));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / sum);
  });
}

function referenceRow(ls: ReturnType<typeof layers>, target: number, start: number, causal: boolean): number[] {
  let v: number[] = Array.from({ length: N }, (_, i) => (i === target ? 1 : 0));
  for (let l = LAYERS - 1; l >= start; l--) {
    const heads = Array.from({ length: HEADS }, (_, h) => denseHead(ls[l].q, ls[l].k, h, causal));
    const a = Array.from({ length: N }, (_, i) =>
      Array.from({ length: N }, (_, j) => (0.5 * heads.reduce((s, m) => s + m[i][j], 0)) / HEADS + (i === j ? 0.5 : 0)),
    );
    const next = new Array<number>(N).fill(0);
    for (let i = 0; i < N; i++) {
      const sum = a[i].reduce((x, y) => x + y, 0);
      for (let j = 0; j < N; j++) next[j] += (v[i] * a[i][j]) / sum;
    }
    v = next;
  }
  return v;
}

test('rollout rows equal rollout of the dense float64 maps (bidirectional and causal, from layer 0 and 1)', () => {
  for (const causal of [false, true]) {
    const ls = layers(causal);
    for (const [target, start] of [
      [N - 1, 0],
      [4, 1],
    ]) {
      const got = keptRolloutRow(
        ls.map((l) => l.exact),
        target,
        { startLayer: start },
      );
      const want = referenceRow(ls, target, start, causal);
      for (let j = 0; j < N; j++)
        assert.ok(
          Math.abs(got[j] - want[j]) < 1e-6,
          `causal ${causal}, row ${target}, key ${j}: ${got[j]} vs ${want[j]}`,
        );
    }
  }
});

test('a rollout stops at the first row after its caller says stop, and rejects as cancelled', () => {
  const exact = layers(false).map((l) => l.exact);
  let asked = 0;
  assert.throws(
    () => keptRolloutRow(exact, N - 1, { shouldStop: () => ++asked >= 5 }),
    (e: unknown) => isLensError(e) && e.code === 'CANCELLED',
  );
  assert.equal(asked, 5, 'no row is computed once it said stop');
  // Never asked to stop: the same row as without the option.
  const plain = keptRolloutRow(exact, N - 1);
  assert.deepEqual(keptRolloutRow(exact, N - 1, { shouldStop: () => false }), plain);
});
