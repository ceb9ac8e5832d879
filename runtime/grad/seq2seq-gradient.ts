// The gradient graph of an encoder–decoder (marian, bart, mbart, t5): the family's own pieces (seq2seq-graph.ts) assembled
// into ONE graph for one batch size, source length S and target length T — the encoder, the cross keys/values of
// its output, the teacher-forced decoder without a cache, the LM head — with the token embeddings of both sides fed
// as inputs (inputs_embeds [B,S,E], decoder_inputs_embeds [B,T,E]: the rows of the shared table, before Marian's
// √d scale, where the families' Gathers on the ids were), the explained scalar per row (target [B] = Σ_t,v
// w[b,t,v] · log p_t(v): the log-probability of one target token, or of the whole target, picked by the weights
// input), and the backward part of backward.ts giving d(target)/d(source embeddings) and d(target)/d(decoder
// embeddings), and on request (attention × gradient) every decoder layer's cross-attention probabilities with the
// target's gradient w.r.t. them (cross_<l>, grad_cross_<l> [B,H,T,S]). Rows of a batch do not interact, so
// Integrated Gradients batches its points along B. With AttnLRP's rules (attnlrp-rules.ts) the explained scalar is
// the weighted logits instead of log-probabilities (LXT's convention) and the backward is AttnLRP's modified gradient.
import { DataType, type ModelMsg } from '../formats/onnx-descriptor';
import { encodeModelPlain } from '../formats/onnx-encode';
import { A, GraphBuilder } from '../models/graph-builder';
import { seq2seqParts } from '../models/seq2seq-builders';
import { fixedPositionInputs, project } from '../models/seq2seq-graph';
import type { Seq2SeqSource } from '../models/seq2seq-source';
import { LensError } from '../errors';
import { attnLrpUncovered } from './attnlrp-coverage';
import { addBackward } from './backward';
import type { BackwardRules } from './family-gradient';

export const SOURCE_EMBEDS = 'inputs_embeds';
export const TARGET_EMBEDS = 'decoder_inputs_embeds';

export interface Seq2SeqGradientSpec {
  batch: number;
  /** Source tokens S. */
  source: number;
  /** Decoder input tokens T (= target tokens: row t reads decoder input t and predicts target token t). */
  target: number;
  /** Also output every decoder layer's cross-attention cross_<l> and its gradient grad_cross_<l> [B,H,T,S]. */
  attention?: boolean;
  /** AttnLRP's rules instead of the gradient's (default 'gradient'): the target then weighs the logits, not log p. */
  rules?: BackwardRules;
}

export const crossOut = (l: number) => `cross_${l}`;
export const gradCrossOut = (l: number) => `grad_cross_${l}`;

export interface Seq2SeqGradientGraph {
  onnx: Uint8Array;
  spec: Seq2SeqGradientSpec;
  /** Graph inputs besides the two embeddings and target_weights (positions, buckets, the causal bias). */
  inputNames: string[];
  /** The shared token embedding table [vocab, hidden] (the rows both embedding inputs replace). */
  table: { data: Float32Array; rows: number; width: number };
  hidden: number;
  vocab: number;
}

/** Replaces the Gather of `table` on the int64 input `ids` by the float input `embeds` [B,N,E]. */
function feedEmbeddings(model: ModelMsg, ids: string, embeds: string, dims: number[]): string {
  const graph = model.graph!;
  const nodes = graph.node!;
  const at = nodes.findIndex((n) => n.opType === 'Gather' && n.input[1] === ids);
  if (at < 0) throw new Error(`seq2seq gradient graph: no Gather of the token embeddings on ${ids}`);
  const [table] = nodes[at].input;
  const out = nodes[at].output[0];
  nodes.splice(at, 1);
  for (const n of nodes) n.input = n.input.map((i) => (i === out ? embeds : i));
  graph.input = graph.input!.filter((i) => i.name !== ids);
  graph.input.push({
    name: embeds,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  return table;
}

/** Builds the gradient graph of an encoder–decoder for (rows, source length, target length). */
export function buildSeq2SeqGradientGraph(source: Seq2SeqSource, spec: Seq2SeqGradientSpec): Seq2SeqGradientGraph {
  const parts = seq2seqParts(source);
  const c = parts.config;
  if (spec.rules === 'attnlrp') {
    const refusal = attnLrpUncovered(c.modelType);
    if (refusal) throw new LensError('UNSUPPORTED_MODEL', refusal);
  }
  const { batch: B, source: S, target: T } = spec;
  const { hidden: E, vocabSize: V, heads: H, headDim: D } = c;
  const g = new GraphBuilder('seq2seq_gradient');
  const srcIds = g.input('input_ids', 'int64', [B, S]); // replaced by inputs_embeds below
  const tgtIds = g.input('decoder_input_ids', 'int64', [B, T]);
  const decBias = g.input('dec_bias', 'float32', [1, 1, T, T]); // causal: 0 / MASKED
  const { encBias, selfBias, srcPos, tgtPos } = fixedPositionInputs(g, parts, S, T, decBias);
  let x = parts.embed(g, 'encoder', srcIds, srcPos); // [B,S,E]
  for (let l = 0; l < c.encoderLayers; l++) x = parts.encoderLayer(g, l, x, encBias).hidden;
  const enc = parts.encoderFinal(g, x); // [B,S,E]
  let y = parts.embed(g, 'decoder', tgtIds, tgtPos); // [B,T,E]
  const cross: string[] = []; // [B,H,T,S] per decoder layer
  for (let l = 0; l < c.decoderLayers; l++) {
    const w = parts.crossWeights(g, l);
    const crossK = project(g, enc, w.k, H, D); // [B,H,S,D]
    const crossV = project(g, enc, w.v, H, D);
    // No cache: the teacher-forced pass sees its own T keys/values (P = 0).
    const cache = (k: string, v: string): [string, string] => [k, v];
    const out = parts.decoderLayer(g, l, y, { selfBias, cache, crossK, crossV });
    y = out.hidden; // [B,T,E]
    cross.push(out.cross);
  }
  const logits = parts.head(g, y); // [B,T,V]
  // log p, or for AttnLRP the logit itself (LXT's convention)
  const lrp = spec.rules === 'attnlrp';
  const lsm = lrp ? logits : g.op('LogSoftmax', [logits], { axis: A.int(-1) }); // [B,T,V]
  const weights = g.input('target_weights', 'float32', [B, T, V]); // which (position, token) log-probs are summed
  const target = g.op('ReduceSum', [g.op('Mul', [lsm, weights]), g.constI64([1, 2])], { keepdims: A.int(0) }); // [B]
  g.output(target, 'target', 'float32', [B]);
  const total = g.op('ReduceSum', ['target', g.constI64([0])], { keepdims: A.int(0) }); // []
  g.output(total, 'target_total', 'float32', []);

  const model = g.toModel();
  const tableName = feedEmbeddings(model, 'input_ids', SOURCE_EMBEDS, [B, S, E]);
  const tableName2 = feedEmbeddings(model, 'decoder_input_ids', TARGET_EMBEDS, [B, T, E]);
  if (tableName !== tableName2) throw new Error('seq2seq gradient graph: the two sides read different tables');
  const init = model.graph!.initializer!.find((t) => t.name === tableName)!;
  const raw = init.rawData!;
  const data = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4).slice(); // [V,E]
  if (!model.graph!.node!.some((n) => n.input.includes(tableName)))
    model.graph!.initializer = model.graph!.initializer!.filter((t) => t !== init);
  addBackward(model, {
    target: 'target_total',
    grads: [
      { of: SOURCE_EMBEDS, as: 'grad_source' },
      { of: TARGET_EMBEDS, as: 'grad_target' },
      ...(spec.attention ? cross.map((a, l) => ({ of: a, as: gradCrossOut(l) })) : []),
    ],
    outputs: spec.attention ? cross.map((a, l) => ({ of: a, as: crossOut(l) })) : [],
    ...(lrp ? { rules: 'attnlrp' as const, activations: g.activations } : {}),
  });
  const inputNames = model.graph!.input!.map((i) => i.name);
  return {
    onnx: encodeModelPlain(model),
    spec,
    inputNames,
    table: { data, rows: data.length / E, width: E },
    hidden: E,
    vocab: V,
  };
}
