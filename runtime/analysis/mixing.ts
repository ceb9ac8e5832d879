// Context mixing: how much of each token's representation after a layer comes from each input token, measured on
// what the layer computes rather than on its attention weights alone. Two measures from the literature:
//
// ALTI (Ferrando et al. 2022, "Measuring the Mixing of Contextual Information in the Transformer"). The attention
// block's output for token i is the sum of one vector per input token j,
//   T_i(x_j) = Σ_h α_h,ij f_h(x_j) + [i = j] x_i          f_h(x_j) = v_h,j · W_O,h (the head's rows of W_O)
// (the output bias is the rest of the block's sum). A post-LN block (BERT) applies its LayerNorm to every term
// with token i's statistics, T̃_i(x_j) = γ ⊙ (T_i(x_j) − mean) / σ_i, and the block output is y_i = LN(sum_i); a
// pre-LN block (Llama, GPT-2) has no norm after the sum: T̃ = T, y_i = sum_i. Token j's contribution is how much
// closer it is to y_i than nothing is, in L1: c_ij = max(0, ‖y_i‖₁ − ‖y_i − T̃_i(x_j)‖₁), normalised over j.
// ALTI proper is the rollout of these layer matrices through the layers (C_L ⋯ C_1, no added identity: the residual
// is inside each C).
//
// Value zeroing (Mohebbi et al. 2023, "Quantifying Context Mixing in Transformers"): re-run layer l with token j's
// value vectors zeroed in every head and compare each token's output with the original by cosine distance,
// C_ij = 1 − cos(x_i^l, x_i^l(¬j)), normalised over j; its rollout multiplies the layer matrices as ALTI's.
// The zeroed runs come from the model (explain.ts runs them batched through the mixing variant); this module turns
// their outputs into the matrices. Pure, float64.

/** One layer's mixing tensors for one input (inspector MixingTensors, one row). */
export interface MixingLayer {
  heads: number;
  seq: number;
  hidden: number;
  /** [heads, query, key] post-softmax attention. */
  attn: ArrayLike<number>;
  /** [seq, heads, hidden]: f_h(x_j). */
  vectors: ArrayLike<number>;
  /** [seq, hidden]: the block's residual input. */
  resid: ArrayLike<number>;
  /** [seq, hidden]: residual + attention output (with bias), before any norm. */
  sum: ArrayLike<number>;
  /** [3, hidden]: γ, β, ε of a post-LN block; absent for pre-LN blocks. */
  postNorm?: ArrayLike<number>;
}

function checkLayer(m: MixingLayer): void {
  const { heads: H, seq: S, hidden: E } = m;
  const want: [string, ArrayLike<number>, number][] = [
    ['attn', m.attn, H * S * S],
    ['vectors', m.vectors, S * H * E],
    ['resid', m.resid, S * E],
    ['sum', m.sum, S * E],
  ];
  if (m.postNorm) want.push(['postNorm', m.postNorm, 3 * E]);
  for (const [name, a, n] of want)
    if (a.length !== n) throw new RangeError(`mixing ${name} has ${a.length} values; expected ${n}`);
}

/** Divides each row of a [rows, cols] matrix by its sum (a row summing to 0 stays 0). In place. */
export function normaliseRowsOf(c: Float64Array, rows: number, cols: number): Float64Array {
  for (let i = 0; i < rows; i++) {
    let total = 0;
    for (let j = 0; j < cols; j++) total += c[i * cols + j];
    if (total > 0) for (let j = 0; j < cols; j++) c[i * cols + j] /= total;
  }
  return c;
}

const normaliseRows = (c: Float64Array, n: number) => normaliseRowsOf(c, n, n);

/** ALTI's contribution matrix of one layer: [query, key], rows summing to 1. */
export function altiLayer(m: MixingLayer): Float64Array {
  checkLayer(m);
  return normaliseRowsOf(altiTerms(m, m.seq, m.seq, 'diagonal'), m.seq, m.seq);
}

/**
 * ALTI's unnormalised contributions c_ij = max(0, ‖y_i‖₁ − ‖y_i − T̃_i(x_j)‖₁) of one block with Q queries over K keys
 * (`m.attn` [H,Q,K], `m.vectors` [K,H,E], `m.resid` and `m.sum` [Q,E]). The residual x_i joins the term of key i
 * ('diagonal': a self-attention block, Q = K) or is a term of its own, the last column ('column': a cross-attention
 * block, whose residual is the decoder's state, not a key). [Q, K] or [Q, K + 1]
 */
export function altiTerms(
  m: Omit<MixingLayer, 'seq'>,
  Q: number,
  K: number,
  residual: 'diagonal' | 'column',
): Float64Array {
  const { heads: H, hidden: E } = m;
  const N = residual === 'column' ? K + 1 : K; // terms per query
  const c = new Float64Array(Q * N); // [query, term]
  const terms = new Float64Array(N * E); // [term, hidden]: T_i(x_j) for the current i
  const y = new Float64Array(E); // [hidden]
  for (let i = 0; i < Q; i++) {
    terms.fill(0);
    for (let j = 0; j < K; j++) {
      for (let h = 0; h < H; h++) {
        const a = m.attn[(h * Q + i) * K + j]; // α_h,ij
        if (a === 0) continue;
        const f = (j * H + h) * E; // f_h(x_j)
        for (let e = 0; e < E; e++) terms[j * E + e] += a * m.vectors[f + e];
      }
    }
    const r = (residual === 'column' ? K : i) * E; // the residual path's term
    for (let e = 0; e < E; e++) terms[r + e] += m.resid[i * E + e];
    if (m.postNorm) {
      // LN(sum_i) = γ ⊙ (sum_i − μ_i) / σ_i + β, applied term by term with token i's σ_i (LN's linear part).
      let mu = 0;
      for (let e = 0; e < E; e++) mu += m.sum[i * E + e];
      mu /= E;
      let v = 0;
      for (let e = 0; e < E; e++) v += (m.sum[i * E + e] - mu) ** 2;
      const sigma = Math.sqrt(v / E + m.postNorm[2 * E]);
      for (let e = 0; e < E; e++) y[e] = (m.postNorm[e] * (m.sum[i * E + e] - mu)) / sigma + m.postNorm[E + e];
      for (let j = 0; j < N; j++) {
        let tm = 0;
        for (let e = 0; e < E; e++) tm += terms[j * E + e];
        tm /= E;
        for (let e = 0; e < E; e++) terms[j * E + e] = (m.postNorm[e] * (terms[j * E + e] - tm)) / sigma;
      }
    } else for (let e = 0; e < E; e++) y[e] = m.sum[i * E + e];
    let yNorm = 0;
    for (let e = 0; e < E; e++) yNorm += Math.abs(y[e]);
    for (let j = 0; j < N; j++) {
      let d = 0;
      for (let e = 0; e < E; e++) d += Math.abs(y[e] - terms[j * E + e]);
      c[i * N + j] = Math.max(0, yNorm - d);
    }
  }
  return c;
}

/** Value zeroing's matrix of one layer from its outputs: `original` [seq, hidden] (or one per j: the unzeroed row
 * of the batch that ran j), `zeroed[j]` [seq, hidden] with token j's values zeroed. [query, key], rows sum to 1. */
export function valueZeroingLayer(
  original: ArrayLike<number> | readonly ArrayLike<number>[],
  zeroed: readonly ArrayLike<number>[],
  seq: number,
  hidden: number,
): Float64Array {
  // One array per j, or one flat [seq, hidden] array for every j.
  const perJ = Array.isArray(original) && original.length > 0 && typeof original[0] !== 'number';
  const originals = perJ ? (original as readonly ArrayLike<number>[]) : zeroed.map(() => original as ArrayLike<number>);
  if (zeroed.length !== seq || originals.length !== seq)
    throw new RangeError(`${zeroed.length} zeroed runs for ${seq} tokens`);
  const c = new Float64Array(seq * seq); // [query, key]
  for (let j = 0; j < seq; j++) {
    const z = zeroed[j];
    const orig = originals[j];
    if (orig.length !== seq * hidden) throw new RangeError(`original ${j} has ${orig.length} values`);
    if (z.length !== seq * hidden) throw new RangeError(`zeroed run ${j} has ${z.length} values`);
    for (let i = 0; i < seq; i++) {
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let e = 0; e < hidden; e++) {
        const a = orig[i * hidden + e];
        const b = z[i * hidden + e];
        dot += a * b;
        na += a * a;
        nb += b * b;
      }
      const cos = na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 1;
      c[i * seq + j] = Math.max(0, 1 - cos);
    }
  }
  return normaliseRows(c, seq);
}

/** The rollout of layer matrices (each [seq, seq]): C_last ⋯ C_first. [seq, seq] */
export function mixingRollout(layers: readonly Float64Array[], seq: number): Float64Array {
  if (layers.length === 0) throw new RangeError('mixing rollout needs at least one layer');
  let r = Float64Array.from(layers[0]);
  for (let l = 1; l < layers.length; l++) {
    const c = layers[l];
    const next = new Float64Array(seq * seq);
    for (let i = 0; i < seq; i++)
      for (let k = 0; k < seq; k++) {
        const a = c[i * seq + k];
        if (a === 0) continue;
        for (let j = 0; j < seq; j++) next[i * seq + j] += a * r[k * seq + j];
      }
    r = next;
  }
  return r;
}

/** Row `i` of a [seq, seq] matrix. [seq] */
export function matrixRow(m: Float64Array, seq: number, i: number): Float64Array {
  if (!Number.isInteger(i) || i < 0 || i >= seq) throw new RangeError(`row ${i} is outside 0..${seq - 1}`);
  return m.slice(i * seq, (i + 1) * seq);
}

/**
 * The value-keep rows of a value-zeroing batch ([rows, layers, seq], 1 = keep): row 0 keeps everything (the
 * original, in the same batch so that both sides of each comparison run alike), then one row per (layer, token) of
 * `pairs`, each zeroing that token's values in that layer only.
 */
export function valueKeepRows(
  pairs: readonly { layer: number; token: number }[],
  layers: number,
  seq: number,
): Float32Array {
  const rows = pairs.length + 1;
  const keep = new Float32Array(rows * layers * seq).fill(1); // [rows, layers, seq]
  pairs.forEach((p, r) => (keep[((r + 1) * layers + p.layer) * seq + p.token] = 0));
  return keep;
}
