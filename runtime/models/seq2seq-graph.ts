// The two graphs of an encoder–decoder model (marian.ts, bart.ts, t5.ts supply the layers), shared by the
// teacher-forced pass, greedy translation and the bench:
//
//   encoder  inputs : input_ids int64 [1,S]; position_ids int64 [1,S] (learned / sinusoidal positions) or
//                     enc_buckets int64 [S,S] (T5's relative position buckets)
//            outputs: enc_attn_<l> [1,H,S,S] (post-softmax, with attention), and for every decoder layer the
//                     cross-attention keys and values of the source, cross_key_<l>, cross_value_<l> [1,H,S,D]
//                     (computed once per source, read by every decoder call)
//   decoder  inputs : decoder_input_ids int64 [1,T]; decoder_position_ids int64 [1,T] or dec_buckets int64
//                     [T,P+T]; dec_bias float32 [1,1,T,P+T] (causal: 0 / MASKED); past_key_<l>, past_value_<l>
//                     [1,H,P,D]; cross_key_<l>, cross_value_<l> [1,H,S,D]
//            outputs: logits [1,T,V], present_key_<l>, present_value_<l> [1,H,P+T,D], with attention
//                     dec_attn_<l> [1,H,T,P+T] (causal self-attention) and cross_attn_<l> [1,H,T,S]
//
// One decoder graph serves the teacher-forced pass (P = 0, T = the target) and each step of greedy decoding
// (T = 1 over the cache), so the two cannot disagree. Attention stays plain MatMul/Softmax (graph-builder.ts).
import { A, GraphBuilder } from './graph-builder';
import { linearT, mergeHeads, splitHeads } from './ops';
import type { Seq2SeqConfig } from './seq2seq-config';
import type { CheckedWeights } from './source';

export const encAttn = (l: number) => `enc_attn_${l}`;
export const decAttn = (l: number) => `dec_attn_${l}`;
export const crossAttn = (l: number) => `cross_attn_${l}`;
export const crossKey = (l: number) => `cross_key_${l}`;
export const crossValue = (l: number) => `cross_value_${l}`;
export const pastKey = (l: number) => `past_key_${l}`;
export const pastValue = (l: number) => `past_value_${l}`;
export const presentKey = (l: number) => `present_key_${l}`;
export const presentValue = (l: number) => `present_value_${l}`;

/** A projection: HF Linear weight [out, in] and an optional bias [out]. */
export interface Proj {
  w: string;
  b?: string;
}

/** q, k, v and output projections of one attention. */
export interface AttnWeights {
  q: Proj;
  k: Proj;
  v: Proj;
  o: Proj;
}

/**
 * One attention block as context mixing reads it (seq2seq-mixing-graph.ts): its value vectors v [B,H,K,D] and output
 * projection, the post-softmax probabilities [B,H,Q,K], the block's residual input [B,Q,E] and residual + attention
 * output [B,Q,E] (with the output bias, before any norm), and a post-LN block's norm (γ, β initializers, ε).
 */
export interface BlockTap {
  block: 'self' | 'cross';
  v: string;
  o: Proj;
  probs: string;
  resid: string;
  sum: string;
  postNorm?: { weight: string; bias: string; eps: number };
}

/** Receives a layer's attention blocks when a graph asks for them (the mixing graph); the others pass none. */
export type Tap = (b: BlockTap) => void;

/** What a decoder layer gets besides its input. */
export interface DecoderLayerIO {
  /** Causal bias (+ T5's position bias) [1,1|H,T,P+T]. */
  selfBias: string;
  /** Puts the past keys/values before the new ones ([1,H,T,D] → [1,H,P+T,D]) and declares the present outputs. */
  cache: (k: string, v: string) => [string, string];
  crossK: string;
  crossV: string;
  tap?: Tap;
}

export interface LayerOut {
  hidden: string;
  attn: string;
}

export interface DecoderLayerOut {
  hidden: string;
  self: string;
  cross: string;
}

/** One family's pieces, added to the graph being built. x are [1,T,E] hidden states. */
export interface Seq2SeqParts {
  config: Seq2SeqConfig;
  weights: CheckedWeights;
  /** Positions fed as ids (learned or sinusoidal tables) or as T5's relative buckets. */
  positions: 'ids' | 'buckets';
  /** Token (+ position) embeddings. `positions`: position ids [1,T] (ids) or undefined (buckets). */
  embed(g: GraphBuilder, side: 'encoder' | 'decoder', ids: string, positions?: string): string;
  /** T5: the relative position bias [1,H,Q,K] from buckets [Q,K]. */
  positionBias?(g: GraphBuilder, side: 'encoder' | 'decoder', buckets: string): string;
  encoderLayer(g: GraphBuilder, l: number, x: string, bias?: string, tap?: Tap): LayerOut;
  /** The encoder's final norm where the family has one (T5). */
  encoderFinal(g: GraphBuilder, x: string): string;
  /** The cross-attention projections of decoder layer l. */
  crossWeights(g: GraphBuilder, l: number): AttnWeights;
  decoderLayer(g: GraphBuilder, l: number, x: string, io: DecoderLayerIO): DecoderLayerOut;
  /** Final norm and LM head (+ final_logits_bias): [1,T,E] → [1,T,V]. */
  head(g: GraphBuilder, x: string): string;
}

/** Adds a projection's weight (and bias) checked against [out, in]. */
export function proj(g: GraphBuilder, w: CheckedWeights, name: string, out: number, inn: number, bias: boolean): Proj {
  return {
    w: w.add(g, `${name}.weight`, [out, inn]),
    ...(bias ? { b: w.add(g, `${name}.bias`, [out]) } : {}),
  };
}

/** x [1,T,E] → heads [1,H,T,D] through a projection. */
export function project(g: GraphBuilder, x: string, p: Proj, heads: number, headDim: number): string {
  return splitHeads(g, linearT(g, x, p.w, p.b), heads, headDim);
}

/**
 * Multi-head attention over given keys/values: q [1,H,T,D], k, v [1,H,K,D], bias broadcast to [1,H,T,K] (or none),
 * scores × scale (BART/Marian head_dim^-½, T5 1). Returns the output projection [1,T,E] and the probabilities.
 */
export function attend(
  g: GraphBuilder,
  q: string,
  k: string,
  v: string,
  o: Proj,
  c: { heads: number; headDim: number; scale: number },
  bias?: string,
): { out: string; probs: string } {
  const kt = g.op('Transpose', [k], { perm: A.ints([0, 1, 3, 2]) }); // [1,H,D,K]
  let scores = g.op('MatMul', [q, kt]); // [1,H,T,K]
  if (c.scale !== 1) scores = g.op('Mul', [scores, g.constF([c.scale], [], 'scale')]);
  if (bias) scores = g.op('Add', [scores, bias]); // [1,H,T,K]
  const probs = g.op('Softmax', [scores], { axis: A.int(-1) }); // [1,H,T,K]
  const ctx = mergeHeads(g, g.op('MatMul', [probs, v]), c.heads, c.headDim); // [1,T,E]
  return { out: linearT(g, ctx, o.w, o.b), probs };
}

/** A whole-sequence graph's position inputs (S source, T target tokens; the gradient and mixing graphs): position
 * ids, or T5's bucketed biases, the decoder's added to the causal `decBias` [1,1,T,T]. */
export function fixedPositionInputs(
  g: GraphBuilder,
  parts: Seq2SeqParts,
  S: number,
  T: number,
  decBias: string,
): { encBias?: string; selfBias: string; srcPos?: string; tgtPos?: string } {
  if (parts.positions === 'ids')
    return {
      selfBias: decBias,
      srcPos: g.input('position_ids', 'int64', [1, S]),
      tgtPos: g.input('decoder_position_ids', 'int64', [1, T]),
    };
  const encBias = parts.positionBias!(g, 'encoder', g.input('enc_buckets', 'int64', [S, S])); // [1,H,S,S]
  const dec = parts.positionBias!(g, 'decoder', g.input('dec_buckets', 'int64', [T, T])); // [1,H,T,T]
  return { encBias, selfBias: g.op('Add', [dec, decBias]) }; // selfBias [1,H,T,T]
}

export interface Seq2SeqGraphOptions {
  /** Expose attention probabilities as outputs; false builds the same graphs without them (the bench's baseline). */
  attention: boolean;
}

export interface BuiltGraph {
  onnx: Uint8Array;
  inputNames: string[];
  outputNames: string[];
}

/** The encoder graph (see the header). */
export function buildEncoderGraph(parts: Seq2SeqParts, options: Seq2SeqGraphOptions): BuiltGraph {
  const c = parts.config;
  const g = new GraphBuilder(options.attention ? 'encoder_attn' : 'encoder');
  const ids = g.input('input_ids', 'int64', [1, 'src']);
  const inputNames = [ids];
  let positions: string | undefined;
  let bias: string | undefined;
  if (parts.positions === 'ids') {
    positions = g.input('position_ids', 'int64', [1, 'src']);
    inputNames.push(positions);
  } else {
    const buckets = g.input('enc_buckets', 'int64', ['src', 'src']);
    inputNames.push(buckets);
    bias = parts.positionBias!(g, 'encoder', buckets); // [1,H,S,S]
  }
  let x = parts.embed(g, 'encoder', ids, positions); // [1,S,E]
  const outputNames: string[] = [];
  for (let l = 0; l < c.encoderLayers; l++) {
    const out = parts.encoderLayer(g, l, x, bias);
    x = out.hidden;
    if (options.attention) {
      g.output(out.attn, encAttn(l), 'float32', [1, c.heads, 'src', 'src']);
      outputNames.push(encAttn(l));
    }
  }
  const enc = parts.encoderFinal(g, x); // [1,S,E]
  for (let l = 0; l < c.decoderLayers; l++) {
    const w = parts.crossWeights(g, l);
    const k = project(g, enc, w.k, c.heads, c.headDim); // [1,H,S,D]
    const v = project(g, enc, w.v, c.heads, c.headDim);
    g.output(k, crossKey(l), 'float32', [1, c.heads, 'src', c.headDim]);
    g.output(v, crossValue(l), 'float32', [1, c.heads, 'src', c.headDim]);
    outputNames.push(crossKey(l), crossValue(l));
  }
  return { onnx: g.toBytes(), inputNames, outputNames };
}

/** The decoder graph (see the header). */
export function buildDecoderGraph(parts: Seq2SeqParts, options: Seq2SeqGraphOptions): BuiltGraph {
  const c = parts.config;
  const { heads: H, headDim: D } = c;
  const g = new GraphBuilder(options.attention ? 'decoder_attn' : 'decoder');
  const ids = g.input('decoder_input_ids', 'int64', [1, 'tgt']);
  const inputNames = [ids];
  let positions: string | undefined;
  let selfBias = g.input('dec_bias', 'float32', [1, 1, 'tgt', 'total']); // [1,1,T,P+T]
  inputNames.push(selfBias);
  if (parts.positions === 'ids') {
    positions = g.input('decoder_position_ids', 'int64', [1, 'tgt']);
    inputNames.push(positions);
  } else {
    const buckets = g.input('dec_buckets', 'int64', ['tgt', 'total']);
    inputNames.push(buckets);
    selfBias = g.op('Add', [parts.positionBias!(g, 'decoder', buckets), selfBias]); // [1,H,T,P+T]
  }
  let x = parts.embed(g, 'decoder', ids, positions); // [1,T,E]
  const outputNames = ['logits'];
  for (let l = 0; l < c.decoderLayers; l++) {
    const pk = g.input(pastKey(l), 'float32', [1, H, 'past', D]); // [1,H,P,D]
    const pv = g.input(pastValue(l), 'float32', [1, H, 'past', D]);
    const ck = g.input(crossKey(l), 'float32', [1, H, 'src', D]); // [1,H,S,D]
    const cv = g.input(crossValue(l), 'float32', [1, H, 'src', D]);
    inputNames.push(pk, pv, ck, cv);
    const cache = (k: string, v: string): [string, string] => {
      const kAll = g.op('Concat', [pk, k], { axis: A.int(2) }); // [1,H,P+T,D]
      const vAll = g.op('Concat', [pv, v], { axis: A.int(2) });
      g.output(kAll, presentKey(l), 'float32', [1, H, 'total', D]);
      g.output(vAll, presentValue(l), 'float32', [1, H, 'total', D]);
      return [kAll, vAll];
    };
    const out = parts.decoderLayer(g, l, x, { selfBias, cache, crossK: ck, crossV: cv });
    x = out.hidden;
    if (options.attention) {
      g.output(out.self, decAttn(l), 'float32', [1, H, 'tgt', 'total']);
      g.output(out.cross, crossAttn(l), 'float32', [1, H, 'tgt', 'src']);
      outputNames.push(decAttn(l), crossAttn(l));
    }
    outputNames.push(presentKey(l), presentValue(l));
  }
  g.output(parts.head(g, x), 'logits', 'float32', [1, 'tgt', c.vocabSize]);
  return { onnx: g.toBytes(), inputNames, outputNames };
}
