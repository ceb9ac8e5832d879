// Attention methods over the SOURCE tokens of an encoder–decoder (marian, bart, mbart, t5): which source tokens a target
// token's prediction reads, from cross-attention alone or followed through every layer. Pure, float64.
//
// Raw cross-attention: row i of one decoder layer's cross-attention [heads, T, S], one head or the mean / max over
// heads (max rows renormalised to sum 1).
//
// Encoder–decoder rollout (Abnar & Zuidema's rollout, extended over the two stacks; residuals as half of each
// sublayer's mixing, the paper's 0.5·A + 0.5·I):
//   R_enc = Ã_enc,L · … · Ã_enc,1                                [S, S]  the encoder's rollout (rollout.ts)
//   per decoder layer l, on the shares of each target row: D [T, T] (from the decoder inputs) and X [T, S] (from
//   the encoder's outputs), starting from D = I, X = 0:
//     self-attention   D ← Ã_self,l · D,  X ← Ã_self,l · X       Ã = rownorm(0.5 · reduce(A) + 0.5 · I)
//     cross-attention  D ← 0.5 · D,       X ← 0.5 · X + 0.5 · C_l   C = reduce(cross A) (rows sum to 1)
//   scores = X · R_enc                                           [T, S]
// Row i of the scores is the share of target row i's top representation that comes from each source token; the
// rest (the row sum of D, 1 − Σ_j scores[i, j]) stays with the decoder's own inputs and is not a source score.
// The feed-forward sublayers mix nothing across tokens (as in the paper) and the layer norms are ignored.
import type { LayerAttention } from '../types';
import { attentionRollout, mixedAttention, type HeadReduce } from './rollout';

/** The attention of one encoder–decoder run, split by kind, each list in layer order within its stack. */
export interface Seq2SeqAttention {
  /** Encoder self-attention [heads, S, S]. */
  encoder: readonly LayerAttention[];
  /** Decoder self-attention [heads, T, T] (causal). */
  decoder: readonly LayerAttention[];
  /** Cross-attention [heads, T, S]. */
  cross: readonly LayerAttention[];
}

function checkShapes(a: Seq2SeqAttention): { S: number; T: number } {
  if (!a.encoder.length || !a.decoder.length || a.cross.length !== a.decoder.length)
    throw new RangeError('encoder–decoder attention needs encoder layers and as many cross as decoder layers');
  const S = a.encoder[0].queryLength;
  const T = a.decoder[0].queryLength;
  const check = (l: LayerAttention, q: number, k: number) => {
    if (l.queryLength !== q || l.keyLength !== k || l.data.length !== l.heads * q * k)
      throw new RangeError(`${l.kind} layer ${l.layer} is ${l.queryLength}×${l.keyLength}; expected ${q}×${k}`);
  };
  for (const l of a.encoder) check(l, S, S);
  for (const l of a.decoder) check(l, T, T);
  for (const l of a.cross) check(l, T, S);
  return { S, T };
}

/** One cross layer's heads combined: [heads, T, S] → [T, S]; 'max' rows are renormalised to sum 1. */
export function reduceCross(layer: LayerAttention, how: HeadReduce | number = 'mean'): Float64Array {
  const { heads, queryLength: T, keyLength: S, data } = layer;
  const out = new Float64Array(T * S); // [T, S]
  if (typeof how === 'number') {
    if (!Number.isInteger(how) || how < 0 || how >= heads)
      throw new RangeError(`head ${how} is outside 0..${heads - 1}`);
    for (let x = 0; x < T * S; x++) out[x] = data[how * T * S + x];
    return out;
  }
  if (how === 'max') out.fill(-Infinity);
  for (let h = 0; h < heads; h++)
    for (let x = 0; x < T * S; x++) {
      const v = data[h * T * S + x]; // [h, i, j]
      out[x] = how === 'max' ? Math.max(out[x], v) : out[x] + v / heads;
    }
  if (how === 'max')
    for (let i = 0; i < T; i++) {
      let sum = 0;
      for (let j = 0; j < S; j++) sum += out[i * S + j];
      if (sum > 0) for (let j = 0; j < S; j++) out[i * S + j] /= sum;
    }
  return out;
}

/** The encoder–decoder rollout [T, S] (see the header). */
export function seq2seqRollout(a: Seq2SeqAttention, heads: HeadReduce = 'mean'): Float64Array {
  const { S, T } = checkShapes(a);
  const rEnc = attentionRollout(a.encoder, { heads }); // [S, S]
  let d = new Float64Array(T * T); // [T, T]
  for (let i = 0; i < T; i++) d[i * T + i] = 1;
  let x = new Float64Array(T * S); // [T, S]
  a.decoder.forEach((self, l) => {
    const m = mixedAttention(self, heads); // [T, T]
    const nd = new Float64Array(T * T);
    const nx = new Float64Array(T * S);
    for (let i = 0; i < T; i++)
      for (let k = 0; k < T; k++) {
        const w = m[i * T + k];
        if (w === 0) continue;
        for (let j = 0; j < T; j++) nd[i * T + j] += w * d[k * T + j];
        for (let j = 0; j < S; j++) nx[i * S + j] += w * x[k * S + j];
      }
    const c = reduceCross(a.cross[l], heads); // [T, S]
    for (let e = 0; e < T * T; e++) nd[e] *= 0.5;
    for (let e = 0; e < T * S; e++) nx[e] = 0.5 * nx[e] + 0.5 * c[e];
    d = nd;
    x = nx;
  });
  const out = new Float64Array(T * S); // [T, S] = X · R_enc
  for (let i = 0; i < T; i++)
    for (let k = 0; k < S; k++) {
      const w = x[i * S + k];
      if (w === 0) continue;
      for (let j = 0; j < S; j++) out[i * S + j] += w * rEnc[k * S + j];
    }
  return out;
}

/** The weighted mean of the rows of a [T, S] matrix (weights: one per target row, summing to anything > 0). [S] */
export function weightedRows(m: Float64Array, T: number, S: number, weights: readonly number[]): Float64Array {
  if (weights.length !== T) throw new RangeError(`${weights.length} row weights for ${T} target rows`);
  const total = weights.reduce((s, w) => s + w, 0);
  if (!(total > 0)) throw new RangeError('target row weights sum to 0');
  const out = new Float64Array(S); // [S]
  weights.forEach((w, i) => {
    if (w !== 0) for (let j = 0; j < S; j++) out[j] += (w / total) * m[i * S + j];
  });
  return out;
}
