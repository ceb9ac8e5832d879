// T5 / Flan-T5: pre-norm blocks with RMS layer norms that do not subtract the mean and have no bias; no 1/√d on q·k;
// no biases; relative position buckets (bidirectional in the encoder, causal in the decoder) looked up in layer 0's
// relative_attention_bias [buckets, H] and added in every layer (cross-attention gets none); feed-forward act(wi x)
// or, in v1.1 configs (feed_forward_proj gated-gelu), act(wi_0 x) · wi_1 x; final norms on both stacks; the LM head
// is lm_head.weight, or the shared embeddings; the decoder output is scaled by d_model^-½ first in original T5 (seq2seq-config.ts).
// Names: {encoder,decoder}.block.N.layer.M.{SelfAttention,EncDecAttention}.{q,k,v,o}, .layer_norm, DenseReluDense.
import { A, type GraphBuilder } from './graph-builder';
import { activation, linearT, rmsNorm } from './ops';
import { attend, proj, project, type AttnWeights, type Seq2SeqParts } from './seq2seq-graph';
import type { Seq2SeqSource } from './seq2seq-source';
import { CheckedWeights } from './source';

/**
 * transformers' T5Attention._relative_position_bucket for key − query distance `rel`, in float32 arithmetic as torch
 * computes it (so bucket edges match). Bidirectional: half the buckets for keys after the query.
 */
export function relativeBucket(rel: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  let buckets = numBuckets;
  let bucket = 0;
  let n: number;
  if (bidirectional) {
    buckets = Math.floor(buckets / 2);
    if (rel > 0) bucket += buckets;
    n = Math.abs(rel);
  } else n = -Math.min(rel, 0);
  const maxExact = Math.floor(buckets / 2);
  if (n < maxExact) return bucket + n;
  const f = Math.fround;
  const ratio = f(Math.log(f(n / maxExact)));
  const scaled = f(f(ratio / f(Math.log(maxDistance / maxExact))) * (buckets - maxExact));
  const large = Math.min(maxExact + Math.trunc(scaled), buckets - 1);
  return bucket + large;
}

/** Buckets int64 [Q,K] for queries at positions first .. first + Q - 1 over keys 0 .. K - 1. */
export function bucketMatrix(
  first: number,
  queries: number,
  keys: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): BigInt64Array {
  const out = new BigInt64Array(queries * keys); // [Q,K]
  for (let i = 0; i < queries; i++)
    for (let j = 0; j < keys; j++)
      out[i * keys + j] = BigInt(relativeBucket(j - (first + i), bidirectional, numBuckets, maxDistance));
  return out;
}

export function t5Parts(source: Seq2SeqSource): Seq2SeqParts {
  const c = source.config;
  const w = new CheckedWeights(source.weights, 'shared.weight', 't5');
  const E = c.hidden;
  const inner = c.heads * c.headDim;
  const a = { heads: c.heads, headDim: c.headDim, scale: 1 };
  const attnWeights = (g: GraphBuilder, p: string): AttnWeights => ({
    q: proj(g, w, `${p}.q`, inner, E, false),
    k: proj(g, w, `${p}.k`, inner, E, false),
    v: proj(g, w, `${p}.v`, inner, E, false),
    o: proj(g, w, `${p}.o`, E, inner, false),
  });
  const norm = (g: GraphBuilder, x: string, name: string) => rmsNorm(g, x, w.add(g, `${name}.weight`, [E]), c.normEps);
  const ffn = (g: GraphBuilder, x: string, p: string) => {
    const d = `${p}.DenseReluDense`;
    const F = c.encoderFfn;
    const h = c.gated
      ? g.op('Mul', [
          activation(g, linearT(g, x, w.add(g, `${d}.wi_0.weight`, [F, E])), c.act),
          linearT(g, x, w.add(g, `${d}.wi_1.weight`, [F, E])),
        ])
      : activation(g, linearT(g, x, w.add(g, `${d}.wi.weight`, [F, E])), c.act); // [1,T,F]
    return linearT(g, h, w.add(g, `${d}.wo.weight`, [E, F])); // [1,T,E]
  };
  return {
    config: c,
    weights: w,
    positions: 'buckets',
    embed(g, _side, ids) {
      const table = w.add(g, 'shared.weight', [c.vocabSize, E]);
      return g.op('Gather', [table, ids], { axis: A.int(0) }); // [1,T,E]
    },
    positionBias(g, side, buckets) {
      const table = w.add(g, `${side}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`, [
        c.relativeBuckets,
        c.heads,
      ]);
      const values = g.op('Gather', [table, buckets], { axis: A.int(0) }); // [Q,K,H]
      const hqk = g.op('Transpose', [values], { perm: A.ints([2, 0, 1]) }); // [H,Q,K]
      return g.op('Unsqueeze', [hqk, g.constI64([0], [1], 'axes')]); // [1,H,Q,K]
    },
    encoderLayer(g, l, x, bias, tap) {
      const p = `encoder.block.${l}.layer`;
      const s = attnWeights(g, `${p}.0.SelfAttention`);
      const n = norm(g, x, `${p}.0.layer_norm`); // [1,S,E]
      const q = project(g, n, s.q, c.heads, c.headDim); // [1,H,S,D]
      const k = project(g, n, s.k, c.heads, c.headDim);
      const v = project(g, n, s.v, c.heads, c.headDim);
      const att = attend(g, q, k, v, s.o, a, bias); // probs [1,H,S,S]
      const h = g.op('Add', [x, att.out]); // [1,S,E]
      tap?.({ block: 'self', v, o: s.o, probs: att.probs, resid: x, sum: h }); // pre-LN: no norm after the sum
      const out = g.op('Add', [h, ffn(g, norm(g, h, `${p}.1.layer_norm`), `${p}.1`)]);
      return { hidden: out, attn: att.probs };
    },
    encoderFinal: (g, x) => norm(g, x, 'encoder.final_layer_norm'),
    crossWeights: (g, l) => attnWeights(g, `decoder.block.${l}.layer.1.EncDecAttention`),
    decoderLayer(g, l, x, io) {
      const p = `decoder.block.${l}.layer`;
      const s = attnWeights(g, `${p}.0.SelfAttention`);
      const n = norm(g, x, `${p}.0.layer_norm`); // [1,T,E]
      const q = project(g, n, s.q, c.heads, c.headDim); // [1,H,T,D]
      const [k, v] = io.cache(project(g, n, s.k, c.heads, c.headDim), project(g, n, s.v, c.heads, c.headDim));
      const self = attend(g, q, k, v, s.o, a, io.selfBias); // probs [1,H,T,P+T]
      const h1 = g.op('Add', [x, self.out]); // [1,T,E]
      io.tap?.({ block: 'self', v, o: s.o, probs: self.probs, resid: x, sum: h1 });
      const cw = attnWeights(g, `${p}.1.EncDecAttention`);
      const cq = project(g, norm(g, h1, `${p}.1.layer_norm`), cw.q, c.heads, c.headDim); // [1,H,T,D]
      const cross = attend(g, cq, io.crossK, io.crossV, cw.o, a); // probs [1,H,T,S]
      const h2 = g.op('Add', [h1, cross.out]); // [1,T,E]
      io.tap?.({ block: 'cross', v: io.crossV, o: cw.o, probs: cross.probs, resid: h1, sum: h2 });
      const out = g.op('Add', [h2, ffn(g, norm(g, h2, `${p}.2.layer_norm`), `${p}.2`)]);
      return { hidden: out, self: self.probs, cross: cross.probs };
    },
    head(g, x) {
      let y = norm(g, x, 'decoder.final_layer_norm'); // [1,T,E]
      if (c.tiedHead) y = g.op('Mul', [y, g.constF([Math.pow(E, -0.5)], [], 'tied_scale')]);
      const table = w.has('lm_head.weight') ? 'lm_head.weight' : 'shared.weight';
      return linearT(g, y, w.add(g, table, [c.vocabSize, E])); // [1,T,V]
    },
  };
}
