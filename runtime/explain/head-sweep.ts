// Which heads agree with a reference method? The per-layer, per-head sweep: every head's raw attention row from the
// target (or the pooled rows of a pooled target) ranked against the reference method's scores (leave-one-out by
// default) over the candidate tokens, by Kendall τ-b. Beside it, the recency baseline's τ with the same reference,
// the bar a head must clear. A study averages the sweeps of its examples (summary.ts). Pure.
import { kendallTau } from '../analysis/agreement';
import type { LayerAttention } from '../types';
import { recencyScores } from './baseline';
import { atCandidates } from './compare';

export interface HeadSweep {
  /** The method each head is compared with. */
  reference: string;
  metric: 'kendall';
  /** Layer numbers of the rows. */
  layers: number[];
  heads: number;
  /** [layers × heads] row-major: τ of the head's attention with the reference (NaN when undefined). */
  values: number[];
  /** τ of the recency baseline (score = position) with the reference. */
  recency: number;
}

/** One head's attention row from `target`, or the weighted mean of its rows. [seq] */
function headRow(layer: LayerAttention, h: number, target: number, weights?: readonly number[]): number[] {
  const n = layer.keyLength;
  const row = (i: number) =>
    Array.from(layer.data.subarray((h * layer.queryLength + i) * n, (h * layer.queryLength + i + 1) * n)); // [key]
  if (!weights) return row(target);
  const total = weights.reduce((a, b) => a + b, 0);
  const out = new Array<number>(n).fill(0);
  weights.forEach((w, i) => {
    if (w === 0) return;
    row(i).forEach((x, j) => (out[j] += (w / total) * x));
  });
  return out;
}

/** The sweep of every layer and head of `attention` against `reference` scores over the candidates. */
export function headSweep(
  attention: readonly LayerAttention[],
  reference: { id: string; scores: readonly number[] },
  candidates: readonly boolean[],
  target: number,
  targetWeights?: readonly number[],
): HeadSweep {
  const ref = atCandidates(reference.scores, candidates);
  const tau = (scores: readonly number[]) =>
    ref.length >= 2 ? kendallTau(atCandidates(scores, candidates), ref) : NaN;
  const heads = attention.length ? attention[0].heads : 0;
  const values: number[] = [];
  for (const layer of attention)
    for (let h = 0; h < heads; h++) values.push(tau(headRow(layer, h, target, targetWeights)));
  return {
    reference: reference.id,
    metric: 'kendall',
    layers: attention.map((l) => l.layer),
    heads,
    values,
    recency: tau(recencyScores(candidates)),
  };
}
