// BERT-family encoders (bert, roberta, distilbert): word + position (+ token type) embeddings and LayerNorm, then
// post-LN layers of bidirectional self-attention and a GELU feed-forward. Weights are HF Linear [out, in].
// Names: bert/roberta "embeddings.*", "encoder.layer.N.attention.self.query" ...; distilbert
// "transformer.layer.N.attention.q_lin" ...; old checkpoints' LayerNorm.gamma/beta are accepted.
// A masked-LM head (BertForMaskedLM "cls.predictions.*", RobertaForMaskedLM "lm_head.*", DistilBertForMaskedLM
// "vocab_*") is added when the checkpoint has one: dense → activation → LayerNorm → decoder (tied to the word
// embeddings when the checkpoint stores no decoder) + bias. Only in the gathered head (one position per row, the
// [MASK] explained): over every position it would cost S·E·V per run (a quarter of BERT-base at 128 tokens; ONNX
// Runtime computes every node even when only last_hidden is fetched), for logits the attention views never read.
import type { Activation } from '../formats/config-normalise';
import { A } from './graph-builder';
import { activation, attention, layerNorm, linearT, splitHeads } from './ops';
import { blockedAttention } from './attention-summaries';
import { sideInputs, type FamilyGraphs } from './family';
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

interface MlmNames {
  dense: string;
  norm: string;
  decoder: string;
  /** Candidate names of the vocabulary bias, first found wins. */
  bias: string[];
  /** Activation of the transform (RoBERTa's lm_head always uses gelu). */
  act: Activation | undefined;
}

function mlmNames(modelType: string): MlmNames {
  if (modelType === 'distilbert')
    return {
      dense: 'vocab_transform',
      norm: 'vocab_layer_norm',
      decoder: 'vocab_projector.weight',
      bias: ['vocab_projector.bias'],
      act: undefined,
    };
  if (modelType === 'roberta')
    return {
      dense: 'lm_head.dense',
      norm: 'lm_head.layer_norm',
      decoder: 'lm_head.decoder.weight',
      bias: ['lm_head.bias', 'lm_head.decoder.bias'],
      act: 'gelu',
    };
  return {
    dense: 'cls.predictions.transform.dense',
    norm: 'cls.predictions.transform.LayerNorm',
    decoder: 'cls.predictions.decoder.weight',
    bias: ['cls.predictions.bias', 'cls.predictions.decoder.bias'],
    act: undefined,
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
  const mlm = mlmNames(c.modelType);
  const hasMlm = w.has(mlm.dense + '.weight');
  const mlmBias = mlm.bias.find((b) => w.has(b));
  if (hasMlm) {
    w.check(mlm.dense + '.weight', [E, E]);
    w.check(mlm.dense + '.bias', [E]);
    if (w.has(mlm.decoder)) w.check(mlm.decoder, [c.vocabSize, E]);
    if (mlmBias) w.check(mlmBias, [c.vocabSize]);
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
      hasLmHead: hasMlm,
    },
    embedInputs: c.typeVocabSize > 0 ? ['input_ids', 'position_ids', 'token_type_ids'] : ['input_ids', 'position_ids'],
    blockedAttention: true,
    side: sideInputs(c),
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
      const [, vAll] = inputs.cache ? inputs.cache(k, v) : [k, v]; // the mixing variant zeroes chosen values
      // Long inputs: query-row blocks, the padding mask built in the graph from key_mask (no [B,H,S,S] tensor).
      const att = inputs.blocked
        ? { probs: '', context: blockedAttention(g, q, k, vAll, H, D, {}, inputs.blocked) }
        : attention(g, q, k, vAll, inputs.bias, H, D); // probs [B,H,S,S], context [B,S,E]
      const sum = g.op('Add', [x, dense(g, att.context, n.o, E, E)]); // [B,S,E]
      const a = norm(g, sum, n.ln1); // post-LN [B,S,E]
      const mid = activation(g, dense(g, a, n.ffnIn, I, E), c.act); // [B,S,I]
      const out = norm(g, g.op('Add', [a, dense(g, mid, n.ffnOut, E, I)]), n.ln2); // [B,S,E]
      const outWeight = () => g.op('Transpose', [w.add(g, n.o + '.weight', [E, E])], { perm: A.ints([1, 0]) }); // [in, out]
      const ln1 = {
        scale: w.addFirst(g, [n.ln1 + '.weight', n.ln1 + '.gamma'], [E]),
        bias: w.addFirst(g, [n.ln1 + '.bias', n.ln1 + '.beta'], [E]),
        eps: c.normEps,
      };
      return { hidden: out, attn: att.probs, q, k, v, outWeight, mixing: { resid: x, sum, postNorm: ln1 } };
    },
    head(g, x, where) {
      if (!hasMlm || where === 'all') return { lastHidden: x };
      // Masked-LM head on the encoder output x [B,S,E]; last_hidden stays the encoder output (for pooling).
      const t = norm(g, activation(g, dense(g, x, mlm.dense, E, E), mlm.act ?? c.act), mlm.norm); // [B,S,E]
      const decoder = w.has(mlm.decoder)
        ? w.add(g, mlm.decoder, [c.vocabSize, E])
        : w.add(g, 'embeddings.word_embeddings.weight', [c.vocabSize, E]); // tied, [V,E]
      const bias = mlmBias ? w.add(g, mlmBias, [c.vocabSize]) : undefined;
      return { lastHidden: x, logits: linearT(g, t, decoder, bias) }; // [B,S,V]
    },
  };
}
