// The scalar an explanation explains, computed from what the model's head returns for one row: the log-probability
// (causal LMs) or probability (masked LMs) of a token from a row of logits, or the cosine similarity of two pooled
// embeddings (encoders without a head). Pure and numerically careful (log-sum-exp in float64), so every
// perturbation method and the faithfulness metrics measure the same quantity.

/** How a head row becomes the explained scalar. 'log-odds': log p(token) − log p(contrast), a contrastive target. */
export type TargetMeasure = 'log-prob' | 'prob' | 'cosine' | 'log-odds';

function checkRow(row: ArrayLike<number>, offset: number, width: number): void {
  if (!Number.isInteger(width) || width < 1) throw new RangeError(`row width ${width} must be a positive integer`);
  if (offset < 0 || offset + width > row.length) {
    throw new RangeError(`row [${offset}, ${offset + width}) is outside an array of ${row.length}`);
  }
}

/** log Σ exp(row[offset .. offset + width)) in float64, shifted by the max so it never overflows. */
export function logSumExp(row: ArrayLike<number>, offset = 0, width = row.length - offset): number {
  checkRow(row, offset, width);
  let max = -Infinity;
  for (let i = 0; i < width; i++) max = Math.max(max, row[offset + i]);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < width; i++) sum += Math.exp(row[offset + i] - max);
  return max + Math.log(sum);
}

/** log softmax(row)[id] for the row at `offset` of `width` logits. */
export function logSoftmaxAt(row: ArrayLike<number>, id: number, offset = 0, width = row.length - offset): number {
  checkRow(row, offset, width);
  if (!Number.isInteger(id) || id < 0 || id >= width) throw new RangeError(`token id ${id} is outside 0..${width - 1}`);
  return row[offset + id] - logSumExp(row, offset, width);
}

/** softmax(row)[id]. */
export function softmaxAt(row: ArrayLike<number>, id: number, offset = 0, width = row.length - offset): number {
  return Math.exp(logSoftmaxAt(row, id, offset, width));
}

/** Index of the largest value of the row (the lowest index on ties). */
export function argmax(row: ArrayLike<number>, offset = 0, width = row.length - offset): number {
  checkRow(row, offset, width);
  let best = 0;
  for (let i = 1; i < width; i++) if (row[offset + i] > row[offset + best]) best = i;
  return best;
}

/** The k ids with the highest values, highest first (lower id first on ties). */
export function topIds(row: ArrayLike<number>, k: number, offset = 0, width = row.length - offset): number[] {
  checkRow(row, offset, width);
  const ids = Array.from({ length: width }, (_, i) => i);
  return ids.sort((a, b) => row[offset + b] - row[offset + a] || a - b).slice(0, Math.max(0, k));
}

/** Cosine similarity of a (at offset, width long) and b; 0 when either is the zero vector. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>, offset = 0, width = b.length): number {
  checkRow(a, offset, width);
  if (b.length !== width) throw new RangeError(`vectors differ in length: ${width} vs ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < width; i++) {
    const x = a[offset + i];
    const y = b[i];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** The explained scalar of row `r` of a [rows, width] head output. `token` for log-prob / prob, `reference` for
 * cosine. */
export function measureRow(
  head: ArrayLike<number>,
  r: number,
  width: number,
  measure: TargetMeasure,
  target: { token?: number; contrast?: number; reference?: ArrayLike<number> },
): number {
  const offset = r * width;
  switch (measure) {
    case 'log-prob':
    case 'prob': {
      if (target.token === undefined) throw new RangeError(`measure ${measure} needs a token id`);
      const lp = logSoftmaxAt(head, target.token, offset, width);
      return measure === 'prob' ? Math.exp(lp) : lp;
    }
    case 'log-odds':
      if (target.token === undefined || target.contrast === undefined)
        throw new RangeError('measure log-odds needs a token id and a contrast token id');
      // log p(A) − log p(B): the log-sum-exp cancels, so the logits' difference (in float64) is the exact value.
      checkRow(head, offset, width);
      for (const id of [target.token, target.contrast])
        if (!Number.isInteger(id) || id < 0 || id >= width)
          throw new RangeError(`token id ${id} is outside 0..${width - 1}`);
      return head[offset + target.token] - head[offset + target.contrast];
    case 'cosine':
      if (!target.reference) throw new RangeError('measure cosine needs a reference vector');
      return cosine(head, target.reference, offset, width);
  }
}
