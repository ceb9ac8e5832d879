// Context mixing on an encoder–decoder (marian, bart, mbart, t5): how much of each target row's representation comes from
// each SOURCE token, measured on what the blocks compute (mixing.ts has the single-stack measures). Pure, float64.
//
// ALTI+ (Ferrando et al. 2022, "Towards Opening the Black Box of Neural Machine Translation: Source and Target
// Contributions"). ALTI (mixing.ts: altiTerms) of every block: the encoder's self-attention blocks C_enc,l [S,S] and
// the decoder's self-attention blocks C_self,l [T,T] (the residual joins the term of j = i), and the decoder's
// cross-attention blocks C_cross,l [T, S+1]: one term per encoder output j, T_t(x_j) = Σ_h α_h,tj f_h(x_j), and the
// block's residual (the decoder's own state after its self-attention) as a term of its own, the last column. The
// contributions roll out over the S source and T decoder-input tokens: R = M_L ⋯ M_1 · M_0, M_0 = blockdiag(R_enc, I)
// with R_enc = C_enc,L ⋯ C_enc,1 (ALTI's encoder rollout), and decoder layer l's target rows
// [C_cross,l[:, :S] | diag(C_cross,l[:, S]) · C_self,l] (the residual's share is passed to the decoder inputs as the
// self-attention block mixed them; source rows stay the encoder's). R[S + t, :S] [T,S] is what the source tokens
// contribute to target row t, R[S + t, S:] [T,T] what the decoder inputs (the target prefix) contribute; each row
// sums to 1. Feed-forward sublayers and the encoder's final norm act token by token and are not modelled (as ALTI).
//
// Value zeroing through cross-attention (Mohebbi et al. 2023; applied to an encoder–decoder's cross-attention in
// their speech-Transformer follow-up, Mohebbi et al. 2023 EMNLP): decoder layer l re-run with encoder output j's
// cross-attention value vector zeroed in every head (layer l only), each target row's layer-l output compared with
// the original by cosine distance, C_l[t, j] = max(0, 1 − cos(y_t^l, y_t^l(¬j))), normalised over the source tokens.
import { altiTerms, mixingRollout, normaliseRowsOf, type MixingLayer } from './mixing';

/** One cross-attention block's mixing tensors: Q = T target rows over K = S encoder outputs. */
export interface CrossMixingLayer extends Omit<MixingLayer, 'seq'> {
  queries: number;
  keys: number;
}

/** ALTI of a cross-attention block: [T, S + 1] (column S: the residual, the decoder's own state), rows sum to 1. */
export function altiCrossLayer(m: CrossMixingLayer): Float64Array {
  const { heads: H, queries: T, keys: S, hidden: E } = m;
  const want: [string, ArrayLike<number>, number][] = [
    ['attn', m.attn, H * T * S],
    ['vectors', m.vectors, S * H * E],
    ['resid', m.resid, T * E],
    ['sum', m.sum, T * E],
  ];
  if (m.postNorm) want.push(['postNorm', m.postNorm, 3 * E]);
  for (const [name, a, n] of want)
    if (a.length !== n) throw new RangeError(`cross mixing ${name} has ${a.length} values; expected ${n}`);
  return normaliseRowsOf(altiTerms(m, T, S, 'column'), T, S + 1);
}

export interface AltiPlus {
  /** [T,S] the source tokens' contributions to each target row. */
  source: Float64Array;
  /** [T,T] the decoder inputs' contributions to each target row. */
  target: Float64Array;
}

/** ALTI+'s rollout from the layers' ALTI matrices (encoder [S,S], decoder self [T,T], cross [T,S+1], each in layer
 * order). */
export function altiPlus(
  encoder: readonly Float64Array[],
  self: readonly Float64Array[],
  cross: readonly Float64Array[],
  S: number,
  T: number,
): AltiPlus {
  if (self.length !== cross.length || self.length === 0)
    throw new RangeError(
      `ALTI+ needs one self and one cross matrix per decoder layer (${self.length}, ${cross.length})`,
    );
  const rEnc = mixingRollout(encoder, S); // [S,S]
  let src = new Float64Array(T * S); // [T,S]
  let tgt = new Float64Array(T * T); // [T,T]
  for (let t = 0; t < T; t++) tgt[t * T + t] = 1;
  for (let l = 0; l < self.length; l++) {
    const cs = self[l]; // [T,T]
    const cc = cross[l]; // [T,S+1]
    const nextSrc = new Float64Array(T * S);
    const nextTgt = new Float64Array(T * T);
    for (let t = 0; t < T; t++) {
      const res = cc[t * (S + 1) + S]; // the residual's share
      for (let j = 0; j < S; j++) {
        const a = cc[t * (S + 1) + j];
        if (a !== 0) for (let s = 0; s < S; s++) nextSrc[t * S + s] += a * rEnc[j * S + s];
      }
      for (let k = 0; k < T; k++) {
        const a = res * cs[t * T + k];
        if (a === 0) continue;
        for (let s = 0; s < S; s++) nextSrc[t * S + s] += a * src[k * S + s];
        for (let u = 0; u < T; u++) nextTgt[t * T + u] += a * tgt[k * T + u];
      }
    }
    src = nextSrc;
    tgt = nextTgt;
  }
  return { source: src, target: tgt };
}

/** Value zeroing through cross-attention for one decoder layer: `original` [T,E] (or one per j), `zeroed[j]` [T,E]
 * with encoder output j's cross-attention values zeroed. [T,S], rows sum to 1. */
export function crossValueZeroing(
  original: ArrayLike<number> | readonly ArrayLike<number>[],
  zeroed: readonly ArrayLike<number>[],
  T: number,
  S: number,
  hidden: number,
): Float64Array {
  const perJ = Array.isArray(original) && original.length > 0 && typeof original[0] !== 'number';
  const originals = perJ ? (original as readonly ArrayLike<number>[]) : zeroed.map(() => original as ArrayLike<number>);
  if (zeroed.length !== S || originals.length !== S)
    throw new RangeError(`${zeroed.length} zeroed runs for ${S} tokens`);
  const c = new Float64Array(T * S); // [T,S]
  for (let j = 0; j < S; j++) {
    const z = zeroed[j];
    const orig = originals[j];
    if (orig.length !== T * hidden || z.length !== T * hidden)
      throw new RangeError(`decoder outputs must have ${T * hidden} values`);
    for (let t = 0; t < T; t++) {
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let e = 0; e < hidden; e++) {
        const a = orig[t * hidden + e];
        const b = z[t * hidden + e];
        dot += a * b;
        na += a * a;
        nb += b * b;
      }
      const cos = na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 1;
      c[t * S + j] = Math.max(0, 1 - cos);
    }
  }
  return normaliseRowsOf(c, T, S);
}
