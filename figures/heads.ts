// Arithmetic on attention maps held in memory: the mean or max over heads, a map's maximum, and block pooling of a
// window of a map into fewer cells (the overviews and tiles of run-maps.ts). DOM-free.

/** Mean or max over heads of a [heads, rows, cols] tensor → [rows, cols]; `stride` and `plane` read a map held with
 * room to grow (rows `stride` apart, heads `plane` apart). */
export function aggregateHeads(
  data: Float32Array,
  heads: number,
  rows: number,
  cols: number,
  mode: 'mean' | 'max',
  stride = cols,
  plane = rows * cols,
): Float32Array {
  const n = rows * cols;
  const out = new Float32Array(n); // [rows, cols]
  if (heads <= 0) return out;
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * stride, r * stride + cols), r * cols);
  for (let h = 1; h < heads; h++) {
    for (let r = 0; r < rows; r++) {
      const base = h * plane + r * stride;
      const o = r * cols;
      if (mode === 'max') {
        for (let c = 0; c < cols; c++) {
          const v = data[base + c];
          if (v > out[o + c]) out[o + c] = v;
        }
      } else {
        for (let c = 0; c < cols; c++) out[o + c] += data[base + c];
      }
    }
  }
  if (mode === 'mean') for (let i = 0; i < n; i++) out[i] /= heads;
  return out;
}

/** Largest value of data[offset, offset + length), at least `floor` (so an all-zero map does not divide by 0). */
export function maxValue(data: Float32Array, offset: number, length: number, floor = 1e-12): number {
  let m = floor;
  for (let i = offset, end = offset + length; i < end; i++) if (data[i] > m) m = data[i];
  return m;
}

/** Which entries of a layer's map are masked: keys after the query (causal), keys `window` or more back. */
export interface MaskRule {
  causal: boolean;
  /** A sliding window (a query sees its last `window` keys, itself included), or null. */
  window: number | null;
}

export const NO_MASK: MaskRule = { causal: false, window: null };

export function isMasked(rule: MaskRule, row: number, col: number): boolean {
  return (rule.causal && col > row) || (rule.window !== null && row - col >= rule.window);
}

/** [start, end) of rows or columns. */
export interface Span {
  start: number;
  end: number;
}

/** Cell i of `out` cells over a span covers [lo, hi): the proportional split, at least one entry each. */
export function binOf(span: Span, out: number, i: number): [number, number] {
  const n = span.end - span.start;
  const lo = span.start + Math.floor((i * n) / out);
  const hi = Math.max(lo + 1, span.start + Math.floor(((i + 1) * n) / out));
  return [lo, hi];
}

/**
 * Pools the window rows × cols of a [R, C] map (row-major at data[offset...]) into outRows × outCols cells: each cell
 * the max (or mean) over the unmasked entries it covers, masked when every entry it covers is masked.
 * [R, C] → values [outRows, outCols], masked [outRows, outCols].
 */
export function poolWindow(
  data: Float32Array,
  offset: number,
  C: number,
  rows: Span,
  cols: Span,
  outRows: number,
  outCols: number,
  mask: MaskRule,
  reduce: 'max' | 'mean' = 'max',
): { values: Float32Array; masked: Uint8Array } {
  const values = new Float32Array(outRows * outCols);
  const masked = new Uint8Array(outRows * outCols);
  const masks = mask.causal || mask.window !== null;
  for (let y = 0; y < outRows; y++) {
    const [r0, r1] = binOf(rows, outRows, y);
    for (let x = 0; x < outCols; x++) {
      const [c0, c1] = binOf(cols, outCols, x);
      const i = y * outCols + x;
      let m = 0;
      let sum = 0;
      let n = 0;
      for (let r = r0; r < r1; r++) {
        // Unmasked columns of row r: [max(c0, r − window + 1), min(c1, r + 1)) under the rule.
        const from = mask.window !== null ? Math.max(c0, r - mask.window + 1) : c0;
        const to = mask.causal ? Math.min(c1, r + 1) : c1;
        const base = offset + r * C;
        for (let c = from; c < to; c++) {
          const v = data[base + c];
          if (v > m) m = v;
          sum += v;
        }
        if (to > from) n += to - from;
      }
      if (masks && n === 0) masked[i] = 1;
      else values[i] = reduce === 'max' ? m : n > 0 ? sum / n : 0;
    }
  }
  return { values, masked };
}
