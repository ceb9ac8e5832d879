// What the views and analyses need of a head at any length, computed in one pass over its rows without keeping the
// map: per query its entropy and top-k keys with their weights, per head the attention to chosen (special) tokens,
// the mean distance and the previous-token score, and a downsampled overview of the matrix (the max and the mean of
// each block of entries, so a single strong cell is not averaged away). The pass also records every row's
// log-sum-exp in the ExactAttention it reads, so later values, rows and columns cost no second softmax. Rows are
// visited one at a time with an O(length) scratch row: memory is O(length + res²), never O(length²).
import type { ExactAttention } from './exact-attention';

export interface SummaryOptions {
  /** Keys kept per query, largest first. */
  topK: number;
  /** Positions whose received attention is summed per query (BOS, separators...). */
  specials: readonly number[];
  /** Entries a side of one overview cell (the graph uses attention-summaries.ts POOL). */
  block: number;
}

export interface HeadSummary {
  /** [length]: −Σ p ln p of each query's row (nats). */
  entropy: Float32Array;
  /** [length, topK]: the keys of each query's largest weights (−1 where the row has fewer visible keys). */
  topKeys: Int32Array;
  /** [length, topK]: their weights. */
  topWeights: Float32Array;
  /** [length]: the weight each query gives to the special positions together. */
  specialMass: Float32Array;
  /** Mean over queries of Σ_j p_ij · (i − j). */
  meanDistance: number;
  /** Mean over queries i ≥ 1 of p_i,i−1. */
  previousToken: number;
  /** The overview: res × res cells of block × block entries, cell c covering [c·block, min(n, (c+1)·block)). */
  res: number;
  block: number;
  /** [res, res]: the largest entry of each cell. */
  blockMax: Float32Array;
  /** [res, res]: the mean of each cell's unmasked entries (0 where all are masked). */
  blockMean: Float32Array;
}

/** Summarises head `h` by recomputing each row from q and k (no map anywhere). */
export function summariseHead(ex: ExactAttention, h: number, options: SummaryOptions): HeadSummary {
  return summariseRows(ex, (i) => ex.row(h, i), options);
}

/** Summarises head `h` from its dense map [n, n] (one layer's graph output, dropped afterwards), and records each
 * row's log-sum-exp from it in `ex` (lse_i = logit_ij − ln p_ij at the row's largest p, exact to float32 rounding
 * of p), so that later values are exact without a second pass over the row. */
export function summariseDense(ex: ExactAttention, h: number, map: Float32Array, options: SummaryOptions): HeadSummary {
  const n = ex.length;
  return summariseRows(
    ex,
    (i) => {
      const row = map.subarray(i * n, (i + 1) * n); // [key]
      let best = 0;
      for (let j = 1; j < n; j++) if (row[j] > row[best]) best = j;
      ex.setRowLse(h, i, ex.logit(h, i, best) - Math.log(row[best]));
      return row;
    },
    options,
  );
}

function summariseRows(ex: ExactAttention, rowOf: (i: number) => Float32Array, options: SummaryOptions): HeadSummary {
  const n = ex.length;
  const K = options.topK;
  const block = options.block;
  const res = Math.ceil(n / block);
  const entropy = new Float32Array(n);
  const topKeys = new Int32Array(n * K).fill(-1); // [n, K]
  const topWeights = new Float32Array(n * K); // [n, K]
  const specialMass = new Float32Array(n);
  const blockMax = new Float32Array(res * res); // [res, res]
  const sum = new Float64Array(res * res);
  const count = new Float64Array(res * res);
  const colCell = Int32Array.from({ length: n }, (_, j) => Math.floor(j / block));
  let distance = 0;
  let previous = 0;

  for (let i = 0; i < n; i++) {
    const row = rowOf(i); // [n]
    const y = Math.floor(i / block);
    const [lo, hi] = ex.visible(i);
    const keyMask = ex.qk.keyMask;
    let ent = 0;
    let dist = 0;
    for (let j = lo; j <= hi; j++) {
      if (keyMask && keyMask[j] === 0) continue;
      const p = row[j];
      if (p > 0) ent -= p * Math.log(p);
      dist += p * (i - j);
      const c = y * res + colCell[j];
      if (p > blockMax[c]) blockMax[c] = p;
      sum[c] += p;
      count[c] += 1;
    }
    entropy[i] = ent;
    distance += dist;
    if (i > 0) previous += row[i - 1];
    let special = 0;
    for (const s of options.specials) special += row[s];
    specialMass[i] = special;
    // Top-k by insertion into a list sorted largest first (K is small); ties keep the earlier key.
    const keys = topKeys.subarray(i * K, (i + 1) * K);
    const weights = topWeights.subarray(i * K, (i + 1) * K);
    let filled = 0;
    for (let j = lo; j <= hi; j++) {
      if (keyMask && keyMask[j] === 0) continue;
      const p = row[j];
      if (filled === K && p <= weights[K - 1]) continue;
      let at = Math.min(filled, K - 1);
      while (at > 0 && weights[at - 1] < p) {
        keys[at] = keys[at - 1];
        weights[at] = weights[at - 1];
        at--;
      }
      keys[at] = j;
      weights[at] = p;
      if (filled < K) filled++;
    }
  }
  const blockMean = Float32Array.from(sum, (s, c) => (count[c] > 0 ? s / count[c] : 0));
  return {
    entropy,
    topKeys,
    topWeights,
    specialMass,
    meanDistance: distance / n,
    previousToken: n > 1 ? previous / (n - 1) : 0,
    res,
    block,
    blockMax,
    blockMean,
  };
}
