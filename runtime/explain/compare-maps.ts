// The compare mode of the Explain view: two attention maps of one layer — head a vs head b of one input, or one head
// on this input vs on a second input — their difference, and how far apart their rows are (Jensen–Shannon divergence
// in bits, total variation). Two inputs need not have the same tokens: the maps are compared over the tokens they
// share, a longest common subsequence of the token texts (identical inputs align completely); each query row is
// restricted to the aligned keys and renormalised before the difference and the divergences, so that both rows are
// distributions over the same keys. Pure.
import { jsDivergence, totalVariation } from '../analysis/distance';
import type { LayerAttention } from '../types';

export type HeadSelector = number | 'mean' | 'max';

/** The [query, key] map of one head of a layer, or the mean / max over its heads (a copy). */
export function headMap(layer: LayerAttention, head: HeadSelector): Float32Array {
  const n = layer.queryLength * layer.keyLength;
  if (typeof head === 'number') {
    if (!Number.isInteger(head) || head < 0 || head >= layer.heads)
      throw new RangeError(`head ${head} is outside 0..${layer.heads - 1}`);
    return layer.data.slice(head * n, (head + 1) * n);
  }
  const out = new Float32Array(n);
  if (head === 'max') out.fill(-Infinity);
  for (let h = 0; h < layer.heads; h++) {
    const base = h * n;
    for (let i = 0; i < n; i++) {
      const v = layer.data[base + i];
      if (head === 'max') out[i] = Math.max(out[i], v);
      else out[i] += v;
    }
  }
  if (head === 'mean') for (let i = 0; i < n; i++) out[i] /= layer.heads;
  return out;
}

/**
 * Positions of equal tokens in `a` and `b`, in order, as many as possible: a longest common subsequence of the two
 * lists (dynamic programming, O(|a|·|b|)); where two choices keep the same length, the walk skips a token of `a`
 * first. Returns [ia[], ib[]].
 */
export function alignTokens(a: readonly string[], b: readonly string[]): [number[], number[]] {
  const n = a.length;
  const m = b.length;
  // L[i][j]: LCS length of a[i..] and b[j..].
  const L = new Uint32Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => i * (m + 1) + j;
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      L[at(i, j)] = a[i] === b[j] ? L[at(i + 1, j + 1)] + 1 : Math.max(L[at(i + 1, j)], L[at(i, j + 1)]);
  const ia: number[] = [];
  const ib: number[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ia.push(i++);
      ib.push(j++);
    } else if (L[at(i + 1, j)] >= L[at(i, j + 1)]) i++;
    else j++;
  }
  return [ia, ib];
}

export interface MapComparison {
  /** Aligned positions in a and in b (length m). */
  alignA: number[];
  alignB: number[];
  /** [m, m]: b − a of the aligned query rows, restricted to the aligned keys and renormalised (NaN rows: undefined). */
  diff: Float32Array;
  /** [m]: JSD in bits (0..1) of each aligned query row; NaN where either restricted row has no mass. */
  rowJsd: Float64Array;
  /** [m]: total variation distance of each aligned query row; NaN likewise. */
  rowTvd: Float64Array;
  /** Means over the rows where they are defined; NaN when none is. */
  jsd: number;
  tvd: number;
  /** Rows that count in the means. */
  rows: number;
}

/**
 * Compares map a [na, na] with map b [nb, nb] (row-major, query × key) over aligned positions (alignTokens, or the
 * identity for two heads of one input).
 */
export function compareMaps(
  a: ArrayLike<number>,
  na: number,
  b: ArrayLike<number>,
  nb: number,
  alignA: readonly number[],
  alignB: readonly number[],
): MapComparison {
  if (a.length !== na * na || b.length !== nb * nb) throw new RangeError('maps must be square: [n, n]');
  if (alignA.length !== alignB.length) throw new RangeError('alignments differ in length');
  const m = alignA.length;
  const diff = new Float32Array(m * m);
  const rowJsd = new Float64Array(m);
  const rowTvd = new Float64Array(m);
  let jsd = 0;
  let tvd = 0;
  let rows = 0;
  const pa = new Float64Array(m);
  const pb = new Float64Array(m);
  for (let r = 0; r < m; r++) {
    let sa = 0;
    let sb = 0;
    for (let c = 0; c < m; c++) {
      pa[c] = Math.max(0, a[alignA[r] * na + alignA[c]]);
      pb[c] = Math.max(0, b[alignB[r] * nb + alignB[c]]);
      sa += pa[c];
      sb += pb[c];
    }
    if (!(sa > 0) || !(sb > 0)) {
      rowJsd[r] = rowTvd[r] = NaN;
      diff.fill(NaN, r * m, (r + 1) * m);
      continue;
    }
    for (let c = 0; c < m; c++) diff[r * m + c] = pb[c] / sb - pa[c] / sa;
    rowJsd[r] = jsDivergence(pa, pb, 2);
    rowTvd[r] = totalVariation(pa, pb);
    jsd += rowJsd[r];
    tvd += rowTvd[r];
    rows++;
  }
  return {
    alignA: [...alignA],
    alignB: [...alignB],
    diff,
    rowJsd,
    rowTvd,
    jsd: rows ? jsd / rows : NaN,
    tvd: rows ? tvd / rows : NaN,
    rows,
  };
}
