// BERT-family encoders (bert, roberta, distilbert): word + position (+ token type) embeddings and LayerNorm, then
// post-LN layers of bidirectional self-attention and a GELU feed-forward. Weights are HF Linear [out, in].
// Names: bert/roberta "embeddings.*", "encoder.layer.N.attention.self.query" ...; distilbert
// "transformer.layer.N.attention.q_lin" ...; old checkpoints' LayerNorm.gamma/beta are accepted.
import { activation, attention, layerNorm, linearT, splitHeads } from './ops';
import type { FamilyGraphs } from './family';
import type { GraphBuilder } from './graph-builder';
import { CheckedWeights, type ModelSource } from './source';

interface BertNames {
  q: string;
  k: string;
  v: string;
  o: string;
  ln1: string;
  ffnIn: string;
  ffnOut: string;
  ln2: string;
}

function layerNames(distil: boolean, l: number): BertNames {
  if (distil) {
    const p = `transformer.layer.${l}.`;
    return {
      q: p + 'attention.q_lin',
      k: p + 'attention.k_lin',
      v: p + 'attention.v_lin',
      o: p + 'attention.out_lin',
      ln1: p + 'sa_layer_norm',
      ffnIn: p + 'ffn.lin1',
      ffnOut: p + 'ffn.lin2',
      ln2: p + 'output_layer_norm',
    };
  }
  const p = `encoder.layer.${l}.`;
  return {
    q: p + 'attention.self.query',
    k: p + 'attention.self.key',
    v: p + 'attention.self.value',
    o: p + 'attention.output.dense',
    ln1: p + 'attention.output.LayerNorm',
    ffnIn: p + 'intermediate.dense',
    ffnOut: p + 'output.dense',
    ln2: p + 'output.LayerNorm',
  };
}

export function bertGraphs(source: ModelSource): FamilyGraphs {
  const c = source.config;
  const w = new CheckedWeights(source.weights, 'embeddings.word_embeddings.weight', c.modelType);
  const distil = c.modelType === 'distilbert';
  const E = c.hidden;
  const H = c.heads;
  const D = c.headDim;
  const I = c.intermediate;

  /** HF Linear [out, in] + bias [out]. x [B,S,in] → [B,S,out]. */
  const dense = (g: GraphBuilder, x: string, name: string, out: number, inn: number) =>
    linearT(g, x, w.add(g, name + '.weight', [out, inn]), w.add(g, name + '.bias', [out]));
  const norm = (g: GraphBuilder, x: string, name: string) =>
    layerNorm(
      g,
      x,
      w.addFirst(g, [name + '.weight', name + '.gamma'], [E]),
      w.addFirst(g, [name + '.bias', name + '.beta'], [E]),
      c.normEps,
    );

  // Check every weight up front, so a mismatch is reported before any graph is built.
  w.check('embeddings.word_embeddings.weight', [c.vocabSize, E]);
  w.check('embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, E]);
  if (c.typeVocabSize > 0) w.check('embeddings.token_type_embeddings.weight', [c.typeVocabSize, E]);
  for (let l = 0; l < c.layers; l++) {
    const n = layerNames(distil, l);
    for (const k of [n.q, n.k, n.v, n.o]) {
      w.check(k + '.weight', [E, E]);
      w.check(k + '.bias', [E]);
    }
    w.check(n.ffnIn + '.weight', [I, E]);
    w.check(n.ffnIn + '.bias', [I]);
    w.check(n.ffnOut + '.weight', [E, I]);
    w.check(n.ffnOut + '.bias', [E]);
  }

  return {
    facts: {
      family: 'bert',
      modelType: c.modelType,
      layers: c.layers,
      heads: H,
      kvHeads: H,
      headDim: D,
      hidden: E,
      vocabSize: c.vocabSize,
      maxPositions: c.maxPositions,
      attentionKinds: Array.from({ length: c.layers }, () => 'self' as const),
      hasLmHead: false,
    },
    embedInputs: c.typeVocabSize > 0 ? ['input_ids', 'position_ids', 'token_type_ids'] : ['input_ids', 'position_ids'],
    usesRope: false,
    embed(g) {
      const word = g.op('Gather', [w.add(g, 'embeddings.word_embeddings.weight', [c.vocabSize, E]), 'input_ids']); // [B,S,E]
      const pos = g.op('Gather', [
        w.add(g, 'embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, E]),
        'position_ids',
      ]);
      let x = g.op('Add', [word, pos]); // [B,S,E]
      if (c.typeVocabSize > 0) {
        const types = w.add(g, 'embeddings.token_type_embeddings.weight', [c.typeVocabSize, E]);
        x = g.op('Add', [x, g.op('Gather', [types, 'token_type_ids'])]);
      }
      return norm(g, x, 'embeddings.LayerNorm'); // [B,S,E]
    },
    layer(g, l, x, inputs) {
      const n = layerNames(distil, l);
      const q = splitHeads(g, dense(g, x, n.q, E, E), H, D); // [B,H,S,D]
      const k = splitHeads(g, dense(g, x, n.k, E, E), H, D);
      const v = splitHeads(g, dense(g, x, n.v, E, E), H, D);
      const att = attention(g, q, k, v, inputs.bias, H, D); // probs [B,H,S,S], context [B,S,E]
      const a = norm(g, g.op('Add', [x, dense(g, att.context, n.o, E, E)]), n.ln1); // post-LN [B,S,E]
      const mid = activation(g, dense(g, a, n.ffnIn, I, E), c.act); // [B,S,I]
      const out = norm(g, g.op('Add', [a, dense(g, mid, n.ffnOut, E, I)]), n.ln2); // [B,S,E]
      return { hidden: out, attn: att.probs, q, k, v };
    },
    head(_g, x) {
      return { lastHidden: x };
    },
  };
}
