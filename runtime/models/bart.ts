// BART (and the post-LN layers Marian shares with it, marian.ts): token embeddings (× √d with scale_embedding) plus
// learned positions read at position + 2 (BartLearnedPositionalEmbedding's offset), then layernorm_embedding; post-LN
// layers (x = LN(x + attn(x)); decoder: self, cross, feed-forward), biases everywhere, q·k × head_dim^-½; the LM head
// tied to model.shared plus final_logits_bias. Names: model.{encoder,decoder}.layers.N.{self_attn,encoder_attn}.
// {q,k,v,out}_proj, *_layer_norm, fc1, fc2. mBART: the same embeddings and names with pre-LN layers
// (x + attn(LN(x))) and a final layer_norm on each stack.
import { A, type GraphBuilder } from './graph-builder';
import { activation, layerNorm, linearT } from './ops';
import {
  attend,
  proj,
  project,
  type AttnWeights,
  type DecoderLayerIO,
  type DecoderLayerOut,
  type LayerOut,
  type Seq2SeqParts,
} from './seq2seq-graph';
import type { Seq2SeqSource } from './seq2seq-source';
import { CheckedWeights } from './source';

/** The position offset of BART's learned position table (its first two rows are never read). */
export const BART_POSITION_OFFSET = 2;

type LayerParts = Omit<Seq2SeqParts, 'embed'>;

/** The layers and head shared by BART and Marian (post-LN), and mBART's (pre-LN: `preNorm`). */
export function postLnParts(source: Seq2SeqSource, label: string, preNorm = false): LayerParts {
  const c = source.config;
  const w = new CheckedWeights(source.weights, 'shared.weight', label);
  const E = c.hidden;
  const a = { heads: c.heads, headDim: c.headDim, scale: 1 / Math.sqrt(c.headDim) };
  const attnWeights = (g: GraphBuilder, p: string): AttnWeights => ({
    q: proj(g, w, `${p}.q_proj`, E, E, true),
    k: proj(g, w, `${p}.k_proj`, E, E, true),
    v: proj(g, w, `${p}.v_proj`, E, E, true),
    o: proj(g, w, `${p}.out_proj`, E, E, true),
  });
  const normWeights = (g: GraphBuilder, name: string) => ({
    weight: w.add(g, `${name}.weight`, [E]),
    bias: w.add(g, `${name}.bias`, [E]),
    eps: c.normEps,
  });
  const norm = (g: GraphBuilder, x: string, name: string) => {
    const n = normWeights(g, name);
    return layerNorm(g, x, n.weight, n.bias, n.eps);
  };
  const ffn = (g: GraphBuilder, x: string, p: string, inner: number) => {
    const h = activation(g, linearT(g, x, ...bias(proj(g, w, `${p}.fc1`, inner, E, true))), c.act); // [1,T,F]
    return linearT(g, h, ...bias(proj(g, w, `${p}.fc2`, E, inner, true))); // [1,T,E]
  };
  return {
    config: c,
    weights: w,
    positions: 'ids',
    encoderLayer(g, l, x, biasIn, tap): LayerOut {
      const p = `encoder.layers.${l}`;
      const s = attnWeights(g, `${p}.self_attn`);
      const ln = `${p}.self_attn_layer_norm`;
      const n = preNorm ? norm(g, x, ln) : x; // [1,S,E]
      const q = project(g, n, s.q, c.heads, c.headDim); // [1,H,S,D]
      const k = project(g, n, s.k, c.heads, c.headDim);
      const v = project(g, n, s.v, c.heads, c.headDim);
      const att = attend(g, q, k, v, s.o, a, biasIn); // probs [1,H,S,S]
      const sum = g.op('Add', [x, att.out]); // [1,S,E]
      if (preNorm) {
        tap?.({ block: 'self', v, o: s.o, probs: att.probs, resid: x, sum }); // pre-LN: no norm after the sum
        const out = g.op('Add', [sum, ffn(g, norm(g, sum, `${p}.final_layer_norm`), p, c.encoderFfn)]);
        return { hidden: out, attn: att.probs };
      }
      tap?.({ block: 'self', v, o: s.o, probs: att.probs, resid: x, sum, postNorm: normWeights(g, ln) });
      const h = norm(g, sum, ln); // [1,S,E]
      const out = norm(g, g.op('Add', [h, ffn(g, h, p, c.encoderFfn)]), `${p}.final_layer_norm`);
      return { hidden: out, attn: att.probs };
    },
    encoderFinal: (g, x) => (preNorm ? norm(g, x, 'encoder.layer_norm') : x),
    crossWeights: (g, l) => attnWeights(g, `decoder.layers.${l}.encoder_attn`),
    decoderLayer(g, l, x, io: DecoderLayerIO): DecoderLayerOut {
      const p = `decoder.layers.${l}`;
      const s = attnWeights(g, `${p}.self_attn`);
      const ln1 = `${p}.self_attn_layer_norm`;
      const n1 = preNorm ? norm(g, x, ln1) : x; // [1,T,E]
      const q = project(g, n1, s.q, c.heads, c.headDim); // [1,H,T,D]
      const [k, v] = io.cache(project(g, n1, s.k, c.heads, c.headDim), project(g, n1, s.v, c.heads, c.headDim));
      const self = attend(g, q, k, v, s.o, a, io.selfBias); // probs [1,H,T,P+T]
      const sum1 = g.op('Add', [x, self.out]); // [1,T,E]
      const post1 = preNorm ? {} : { postNorm: normWeights(g, ln1) };
      io.tap?.({ block: 'self', v, o: s.o, probs: self.probs, resid: x, sum: sum1, ...post1 });
      const h1 = preNorm ? sum1 : norm(g, sum1, ln1); // [1,T,E]
      const cw = attnWeights(g, `${p}.encoder_attn`);
      const ln2 = `${p}.encoder_attn_layer_norm`;
      const cq = project(g, preNorm ? norm(g, h1, ln2) : h1, cw.q, c.heads, c.headDim); // [1,H,T,D]
      const cross = attend(g, cq, io.crossK, io.crossV, cw.o, a); // probs [1,H,T,S]
      const sum2 = g.op('Add', [h1, cross.out]); // [1,T,E]
      const post2 = preNorm ? {} : { postNorm: normWeights(g, ln2) };
      io.tap?.({ block: 'cross', v: io.crossV, o: cw.o, probs: cross.probs, resid: h1, sum: sum2, ...post2 });
      const h2 = preNorm ? sum2 : norm(g, sum2, ln2);
      const ln3 = `${p}.final_layer_norm`;
      const out = preNorm
        ? g.op('Add', [h2, ffn(g, norm(g, h2, ln3), p, c.decoderFfn)])
        : norm(g, g.op('Add', [h2, ffn(g, h2, p, c.decoderFfn)]), ln3);
      return { hidden: out, self: self.probs, cross: cross.probs };
    },
    head(g, x) {
      // Tied to the shared embeddings (transformers ties lm_head for bart, mbart and marian) + final_logits_bias.
      const emb = w.add(g, 'shared.weight', [c.vocabSize, E]);
      const logits = linearT(g, preNorm ? norm(g, x, 'decoder.layer_norm') : x, emb); // [1,T,V]
      if (!w.has('final_logits_bias')) return logits;
      return g.op('Add', [logits, w.add(g, 'final_logits_bias', [1, c.vocabSize])]);
    },
  };
}

const bias = (p: { w: string; b?: string }): [string, string | undefined] => [p.w, p.b];

/** Token embeddings × scale: ids [1,T] → [1,T,E]. */
export function tokenEmbedding(g: GraphBuilder, w: CheckedWeights, source: Seq2SeqSource, ids: string): string {
  const c = source.config;
  const table = w.add(g, 'shared.weight', [c.vocabSize, c.hidden]);
  const x = g.op('Gather', [table, ids], { axis: A.int(0) }); // [1,T,E]
  return c.scaleEmbedding ? g.op('Mul', [x, g.constF([Math.sqrt(c.hidden)], [], 'embed_scale')]) : x;
}

/** BART's embeddings: tokens (× √d with scale_embedding) + learned positions at position + 2, layernorm_embedding. */
function learnedEmbed(source: Seq2SeqSource, w: CheckedWeights): Seq2SeqParts['embed'] {
  const c = source.config;
  return (g, side, ids, positions) => {
    const x = tokenEmbedding(g, w, source, ids); // [1,T,E]
    const table = w.add(g, `${side}.embed_positions.weight`, [c.maxPositions + BART_POSITION_OFFSET, c.hidden]);
    const at = g.op('Add', [positions!, g.constI64([BART_POSITION_OFFSET], [], 'offset')]); // [1,T]
    const pos = g.op('Gather', [table, at], { axis: A.int(0) }); // [1,T,E]
    const sum = g.op('Add', [x, pos]);
    const n = `${side}.layernorm_embedding`;
    return layerNorm(g, sum, w.add(g, `${n}.weight`, [c.hidden]), w.add(g, `${n}.bias`, [c.hidden]), c.normEps);
  };
}

export function bartParts(source: Seq2SeqSource): Seq2SeqParts {
  const base = postLnParts(source, 'bart');
  return { ...base, embed: learnedEmbed(source, base.weights) };
}

export function mbartParts(source: Seq2SeqSource): Seq2SeqParts {
  const base = postLnParts(source, 'mbart', true);
  return { ...base, embed: learnedEmbed(source, base.weights) };
}
