// The context-mixing graph of an encoder–decoder (marian, bart, mbart, t5): the family's own pieces (seq2seq-graph.ts)
// assembled into one graph for a source length S and a target length T — the encoder once, the teacher-forced
// decoder without a cache over B rows — that exposes what ALTI and value zeroing read (runtime/analysis/
// seq2seq-mixing.ts), on request:
//
//   inputs : input_ids int64 [1,S]; decoder_input_ids int64 [1,T]; position ids or T5 buckets and the causal
//            dec_bias [1,1,T,T] (seq2seq-feeds.ts); cross_keep float32 [B,L,S]: row b multiplies decoder layer l's
//            cross-attention value vector of encoder output j by cross_keep[b,l,j] (value zeroing: 0 for the zeroed
//            (layer, token), 1 elsewhere; the encoder and every self-attention are the same in every row)
//   outputs: dec_out_<l> [B,T,E] every decoder layer's output (value zeroing compares these rows)
//            with tensors (B = 1), for every attention block <b> = enc_<l> | self_<l> | cross_<l>:
//            <b>_attn [1,H,Q,K] post-softmax; <b>_vectors [1,K,H,E] f_h(x_j) = v_h,j · W_O,h (each head's rows of the
//            output projection, bias excluded); <b>_resid [1,Q,E] the block's residual input; <b>_sum [1,Q,E]
//            residual + attention output (with the output bias, before any norm); post-LN blocks (BART, Marian)
//            also <b>_gamma, <b>_beta [E] (ε in `norms`)
import { A, GraphBuilder } from './graph-builder';
import { seq2seqParts } from './seq2seq-builders';
import { fixedPositionInputs, project, type BlockTap } from './seq2seq-graph';
import type { Seq2SeqSource } from './seq2seq-source';

export interface Seq2SeqMixingSpec {
  /** Rows of the decoder (value zeroing: 1 + the zeroed (layer, token) pairs). */
  batch: number;
  source: number;
  target: number;
  /** Output every block's ALTI tensors (batch must be 1). */
  tensors: boolean;
}

export interface Seq2SeqMixingGraph {
  onnx: Uint8Array;
  spec: Seq2SeqMixingSpec;
  /** Block output prefixes in order: enc_0.., then self_l and cross_l per decoder layer. */
  blocks: string[];
  /** ε of each post-LN block's norm by prefix (absent: a pre-LN block, no norm after the sum). */
  norms: Record<string, number>;
  encoderLayers: number;
  decoderLayers: number;
  heads: number;
  hidden: number;
}

export const decoderOut = (l: number) => `dec_out_${l}`;

/** Builds the mixing graph (see the header). */
export function buildSeq2SeqMixingGraph(source: Seq2SeqSource, spec: Seq2SeqMixingSpec): Seq2SeqMixingGraph {
  const parts = seq2seqParts(source);
  const c = parts.config;
  const { batch: B, source: S, target: T, tensors } = spec;
  if (tensors && B !== 1) throw new RangeError('the mixing tensors are output for one row');
  const { hidden: E, heads: H, headDim: D } = c;
  const L = c.decoderLayers;
  const g = new GraphBuilder('seq2seq_mixing');
  const srcIds = g.input('input_ids', 'int64', [1, S]);
  const tgtIds = g.input('decoder_input_ids', 'int64', [1, T]);
  const decBias = g.input('dec_bias', 'float32', [1, 1, T, T]); // causal: 0 / MASKED
  const keep = g.input('cross_keep', 'float32', [B, L, S]);
  const { encBias, selfBias, srcPos, tgtPos } = fixedPositionInputs(g, parts, S, T, decBias);

  const blocks: string[] = [];
  const norms: Record<string, number> = {};
  /** Outputs one block's tensors under `prefix` (Q queries over K keys). */
  const tapAs =
    (prefix: string, Q: number, K: number) =>
    (b: BlockTap): void => {
      if (!tensors) return;
      blocks.push(prefix);
      g.output(b.probs, `${prefix}_attn`, 'float32', [1, H, Q, K]);
      const wt = g.op('Transpose', [b.o.w], { perm: A.ints([1, 0]) }); // [H·D,E]
      const perHead = g.op('Reshape', [wt, g.constI64([H, D, E], [3], 'shape')]); // [H,D,E]
      const f = g.op('MatMul', [b.v, perHead]); // [1,H,K,E]
      const vectors = g.op('Transpose', [f], { perm: A.ints([0, 2, 1, 3]) }); // [1,K,H,E]
      g.output(vectors, `${prefix}_vectors`, 'float32', [1, K, H, E]);
      g.output(b.resid, `${prefix}_resid`, 'float32', [1, Q, E]);
      g.output(b.sum, `${prefix}_sum`, 'float32', [1, Q, E]);
      if (b.postNorm) {
        g.output(b.postNorm.weight, `${prefix}_gamma`, 'float32', [E]);
        g.output(b.postNorm.bias, `${prefix}_beta`, 'float32', [E]);
        norms[prefix] = b.postNorm.eps;
      }
    };

  let x = parts.embed(g, 'encoder', srcIds, srcPos); // [1,S,E]
  for (let l = 0; l < c.encoderLayers; l++) x = parts.encoderLayer(g, l, x, encBias, tapAs(`enc_${l}`, S, S)).hidden;
  const enc = parts.encoderFinal(g, x); // [1,S,E]
  let y = parts.embed(g, 'decoder', tgtIds, tgtPos); // [1,T,E], then [B,T,E] from the first cross-attention on
  for (let l = 0; l < L; l++) {
    const w = parts.crossWeights(g, l);
    const crossK = project(g, enc, w.k, H, D); // [1,H,S,D]
    const rowKeep = g.op('Gather', [keep, g.constI64([l], [], 'layer')], { axis: A.int(1) }); // [B,S]
    const k4 = g.op('Unsqueeze', [rowKeep, g.constI64([1, 3], [2], 'axes')]); // [B,1,S,1]
    const crossV = g.op('Mul', [project(g, enc, w.v, H, D), k4]); // [B,H,S,D]
    const cache = (k: string, v: string): [string, string] => [k, v]; // no cache: P = 0
    const selfTap = tapAs(`self_${l}`, T, T);
    const crossTap = tapAs(`cross_${l}`, T, S);
    const tap = (b: BlockTap) => (b.block === 'self' ? selfTap(b) : crossTap(b));
    y = parts.decoderLayer(g, l, y, { selfBias, cache, crossK, crossV, tap }).hidden; // [B,T,E]
    g.output(y, decoderOut(l), 'float32', [B, T, E]);
  }
  const onnx = g.toBytes();
  return {
    onnx,
    spec,
    blocks,
    norms,
    encoderLayers: c.encoderLayers,
    decoderLayers: L,
    heads: H,
    hidden: E,
  };
}
