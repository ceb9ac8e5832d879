// Per-head summaries of one layer's attention, for compact text output (CLI) and sorting heads in views: how spread
// out each head's attention is (mean row entropy) and which key each query attends to most.
import type { LayerAttention } from '../types';

export interface HeadStats {
  head: number;
  /** Mean over query rows of the row entropy -Σ p ln p, in nats (0: one key; ln n: uniform over n keys). */
  meanEntropy: number;
  /** [query]: the key index with the highest weight for each query (the lowest index on ties). */
  argmax: Int32Array;
}

/** Entropy in nats of one probability row; zero entries contribute nothing. */
export function rowEntropy(row: Float32Array | number[], from = 0, length = row.length - from): number {
  let h = 0;
  for (let i = from; i < from + length; i++) {
    const p = row[i];
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

/** Statistics of every head of a layer; data is [heads, query, key]. */
export function headStats(layer: LayerAttention): HeadStats[] {
  const { heads, queryLength: nq, keyLength: nk, data } = layer;
  if (data.length !== heads * nq * nk) {
    throw new RangeError(`attention data has ${data.length} values; expected ${heads}×${nq}×${nk}`);
  }
  const stats: HeadStats[] = [];
  for (let h = 0; h < heads; h++) {
    const argmax = new Int32Array(nq);
    let total = 0;
    for (let q = 0; q < nq; q++) {
      const row = (h * nq + q) * nk; // offset of [h, q, 0]
      total += rowEntropy(data, row, nk);
      let best = 0;
      for (let k = 1; k < nk; k++) if (data[row + k] > data[row + best]) best = k;
      argmax[q] = best;
    }
    stats.push({ head: h, meanEntropy: nq > 0 ? total / nq : 0, argmax });
  }
  return stats;
}
