// Exact attention probabilities of one layer recomputed from its kept q and k (layer-qk.ts), for what the user looks
// at: one value, a query's row, a key's column, a window of entries. A probability is exp(logit − lse) where lse is
// its row's log-sum-exp; each row's lse is computed once (O(n · headDim)) and kept per head, so a value costs
// O(headDim) and a column O(n · headDim) once its rows' lse are known. Arithmetic is float64 over the float32 q and
// k, so values are within float32 rounding of the softmax the graph computes (test: exact-attention.test.ts).
import { LensError } from '../errors';
import type { LayerQK } from './layer-qk';

/** [start, end) of rows or columns. */
export interface Span {
  start: number;
  end: number;
}

export class ExactAttention {
  readonly heads: number;
  readonly length: number;
  private readonly groups: number;
  /** Per head [length]: each row's log-sum-exp of its visible logits, NaN until computed. */
  private readonly lse: (Float64Array | undefined)[];
  /** Per head: the top key and weight of each row (setLseFromTop), read into `lse` when the head is first used. */
  private readonly tops: ({ keys: Int32Array; weights: Float32Array; stride: number } | undefined)[];

  constructor(readonly qk: LayerQK) {
    this.heads = qk.heads;
    this.length = qk.length;
    this.groups = qk.heads / qk.kvHeads;
    this.lse = new Array<Float64Array | undefined>(qk.heads);
    this.tops = new Array<{ keys: Int32Array; weights: Float32Array; stride: number } | undefined>(qk.heads);
  }

  /** [lo, hi] of the keys query `i` may see (before the padding mask). */
  visible(i: number): [number, number] {
    const { causal, window } = this.qk.rule;
    const hi = causal ? i : this.length - 1;
    const lo = window !== null ? Math.max(0, i - window + 1) : 0;
    return [lo, hi];
  }

  /** Whether key `j` is masked for query `i`. */
  masked(i: number, j: number): boolean {
    const [lo, hi] = this.visible(i);
    return j < lo || j > hi || (this.qk.keyMask !== undefined && this.qk.keyMask[j] === 0);
  }

  /** The logit of (i, j) as the softmax sees it: scale · q_i·k_j, soft-capped; -Infinity where masked. */
  logit(h: number, i: number, j: number): number {
    if (this.masked(i, j)) return -Infinity;
    return this.rawLogit(h, i, j);
  }

  private rawLogit(h: number, i: number, j: number): number {
    const { q, k, headDim: D, length: n, rule } = this.qk;
    const qo = (h * n + i) * D; // q[h, i, :]
    const ko = (Math.floor(h / this.groups) * n + j) * D; // k[kv(h), j, :]
    let dot = 0;
    for (let d = 0; d < D; d++) dot += q[qo + d] * k[ko + d];
    const x = dot * rule.scale;
    return rule.softcap === null ? x : rule.softcap * Math.tanh(x / rule.softcap);
  }

  /** Row i's visible logits into `out` [length] (-Infinity where masked); returns their max. */
  private logits(h: number, i: number, out: Float64Array): number {
    const [lo, hi] = this.visible(i);
    const keyMask = this.qk.keyMask;
    out.fill(-Infinity);
    let m = -Infinity;
    for (let j = lo; j <= hi; j++) {
      if (keyMask && keyMask[j] === 0) continue;
      const x = this.rawLogit(h, i, j);
      out[j] = x;
      if (x > m) m = x;
    }
    return m;
  }

  /** Row i's log-sum-exp (computed once per head and row). */
  rowLse(h: number, i: number, scratch?: Float64Array): number {
    this.check(h, i, 0);
    let lse = this.lseOf(h);
    if (!lse) {
      lse = new Float64Array(this.length).fill(NaN);
      this.lse[h] = lse;
    }
    if (Number.isNaN(lse[i])) {
      const row = scratch ?? new Float64Array(this.length);
      const m = this.logits(h, i, row);
      if (m === -Infinity)
        throw new LensError('INFERENCE_FAILED', `Layer ${this.qk.layer}, head ${h}: query ${i} sees no key.`);
      let z = 0;
      for (const x of row) if (x !== -Infinity) z += Math.exp(x - m);
      lse[i] = m + Math.log(z);
    }
    return lse[i];
  }

  /**
   * Sets every row's lse of head `h` from its top key and weight (the graph's summaries): lse_i = logit(i, key) −
   * ln(weight) at key = keys[i · stride], weight = weights[i · stride]. One tight loop (a kept run does this for
   * every row of every head of every layer: logit() per row cost ~1 ms a layer at 512 tokens). Deferred to the
   * head's first use (a value, row, column or window asked): the run's critical path then only keeps the arrays —
   * the dot products of every row of every layer were ~35 ms of JS a SmolLM2 run at 512 tokens (bench/kept-path.ts),
   * and most heads of a run are never looked at.
   */
  setLseFromTop(h: number, keys: Int32Array, weights: Float32Array, stride: number): void {
    this.tops[h] = { keys, weights, stride };
    this.lse[h] = undefined;
  }

  /** Head h's row lse (undefined when none is known yet), read from its top keys on first use. */
  private lseOf(h: number): Float64Array | undefined {
    const top = this.tops[h];
    if (top) {
      this.tops[h] = undefined;
      this.lseFromTop(h, top.keys, top.weights, top.stride);
    }
    return this.lse[h];
  }

  private lseFromTop(h: number, keys: Int32Array, weights: Float32Array, stride: number): void {
    const { q, k, headDim: D, length: n, rule, keyMask } = this.qk;
    const lse = new Float64Array(n); // [n]
    this.lse[h] = lse;
    const kvBase = Math.floor(h / this.groups) * n * D;
    for (let i = 0; i < n; i++) {
      const j = keys[i * stride];
      const lo = rule.window !== null ? Math.max(0, i - rule.window + 1) : 0; // as visible(i)
      const hi = rule.causal ? i : n - 1;
      if (j < lo || j > hi || (keyMask !== undefined && keyMask[j] === 0)) {
        lse[i] = -Infinity;
        continue;
      }
      const qo = (h * n + i) * D; // q[h, i, :]
      const ko = kvBase + j * D; // k[kv(h), j, :]
      let dot = 0;
      for (let d = 0; d < D; d++) dot += q[qo + d] * k[ko + d];
      const x = dot * rule.scale;
      const logit = rule.softcap === null ? x : rule.softcap * Math.tanh(x / rule.softcap);
      lse[i] = logit - Math.log(weights[i * stride]);
    }
  }

  /** Sets row lse values computed elsewhere (the summaries pass), so that they are not computed again. */
  setRowLse(h: number, i: number, value: number): void {
    let lse = this.lseOf(h);
    if (!lse) {
      lse = new Float64Array(this.length).fill(NaN);
      this.lse[h] = lse;
    }
    lse[i] = value;
  }

  value(h: number, i: number, j: number): number {
    this.check(h, i, j);
    if (this.masked(i, j)) return 0;
    return Math.exp(this.rawLogit(h, i, j) - this.rowLse(h, i));
  }

  /** Query i's probabilities over every key [length] (exact zeros where masked). */
  row(h: number, i: number): Float32Array {
    this.check(h, i, 0);
    const logits = new Float64Array(this.length);
    const m = this.logits(h, i, logits);
    let lse = this.lseOf(h)?.[i] ?? NaN;
    if (Number.isNaN(lse)) {
      if (m === -Infinity)
        throw new LensError('INFERENCE_FAILED', `Layer ${this.qk.layer}, head ${h}: query ${i} sees no key.`);
      let z = 0;
      for (const x of logits) if (x !== -Infinity) z += Math.exp(x - m);
      lse = m + Math.log(z);
      this.setRowLse(h, i, lse);
    }
    return Float32Array.from(logits, (x) => (x === -Infinity ? 0 : Math.exp(x - lse)));
  }

  /** Adds `scale` × query i's probabilities (float64, exact zeros where masked) into `out` [length]; `scratch`
   * [length] is overwritten. What a chain of vector–matrix products (kept-rollout.ts) reads of a row. */
  addRow(h: number, i: number, scale: number, out: Float64Array, scratch: Float64Array): void {
    this.check(h, i, 0);
    const m = this.logits(h, i, scratch);
    let lse = this.lseOf(h)?.[i] ?? NaN;
    if (Number.isNaN(lse)) {
      if (m === -Infinity)
        throw new LensError('INFERENCE_FAILED', `Layer ${this.qk.layer}, head ${h}: query ${i} sees no key.`);
      let z = 0;
      for (const x of scratch) if (x !== -Infinity) z += Math.exp(x - m);
      lse = m + Math.log(z);
      this.setRowLse(h, i, lse);
    }
    const [lo, hi] = this.visible(i);
    for (let j = lo; j <= hi; j++) if (scratch[j] !== -Infinity) out[j] += scale * Math.exp(scratch[j] - lse);
  }

  /** Key j's probabilities from every query [length]. */
  column(h: number, j: number): Float32Array {
    this.check(h, 0, j);
    const out = new Float32Array(this.length);
    const scratch = new Float64Array(this.length);
    for (let i = 0; i < this.length; i++) {
      if (this.masked(i, j)) continue;
      out[i] = Math.exp(this.rawLogit(h, i, j) - this.rowLse(h, i, scratch));
    }
    return out;
  }

  /** The entries rows × cols [rows, cols], exactly (no pooling). */
  window(h: number, rows: Span, cols: Span): Float32Array {
    this.check(h, rows.start, cols.start);
    this.check(h, rows.end - 1, cols.end - 1);
    const w = cols.end - cols.start;
    const out = new Float32Array((rows.end - rows.start) * w); // [rows, cols]
    const scratch = new Float64Array(this.length);
    const keyMask = this.qk.keyMask;
    for (let i = rows.start; i < rows.end; i++) {
      const [lo, hi] = this.visible(i);
      const from = Math.max(lo, cols.start);
      const to = Math.min(hi + 1, cols.end);
      if (from >= to) continue;
      const lse = this.rowLse(h, i, scratch);
      for (let j = from; j < to; j++)
        if (!keyMask || keyMask[j] === 1)
          out[(i - rows.start) * w + (j - cols.start)] = Math.exp(this.rawLogit(h, i, j) - lse);
    }
    return out;
  }

  private check(h: number, i: number, j: number): void {
    if (!Number.isInteger(h) || h < 0 || h >= this.heads)
      throw new LensError('BAD_INPUT', `Head ${h} is outside the layer's ${this.heads} heads.`);
    for (const p of [i, j])
      if (!Number.isInteger(p) || p < 0 || p >= this.length)
        throw new LensError('BAD_INPUT', `Position ${p} is outside the ${this.length} positions of the run.`);
  }
}
