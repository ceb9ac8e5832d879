// GPT-2 decoders: learned token + position embeddings, pre-LN layers with causal attention over a fused c_attn
// projection (split into q, k, v in the graph), gelu_new MLP, final ln_f and an LM head tied to wte. GPT-2's
// Conv1D weights are stored [in, out], so they feed MatMul as they are. Names: "wte", "h.N.attn.c_attn", "ln_f"...
import { A } from './graph-builder';
import { activation, attention, layerNorm, linear, linearT, splitHeads } from './ops';
import { blockedAttention } from './attention-summaries';
import { sideInputs, type FamilyGraphs } from './family';
import type { GraphBuilder } from './graph-builder';
import { CheckedWeights, type ModelSource } from './source';

export function gpt2Graphs(source: ModelSource): FamilyGraphs {
  const c = source.config;
  const w = new CheckedWeights(source.weights, 'wte.weight', c.modelType);
  const E = c.hidden;
  const H = c.heads;
  const D = c.headDim;
  const I = c.intermediate;
  const V = c.vocabSize;

  /** Conv1D [in, out] + bias [out]. x [B,S,in] → [B,S,out]. */
  const conv = (g: GraphBuilder, x: string, name: string, inn: number, out: number) =>
    linear(g, x, w.add(g, name + '.weight', [inn, out]), w.add(g, name + '.bias', [out]));
  const norm = (g: GraphBuilder, x: string, name: string) =>
    layerNorm(g, x, w.add(g, name + '.weight', [E]), w.add(g, name + '.bias', [E]), c.normEps);

  w.check('wte.weight', [V, E]);
  w.check('wpe.weight', [c.maxPositionEmbeddings, E]);
  for (let l = 0; l < c.layers; l++) {
    const p = `h.${l}.`;
    w.check(p + 'attn.c_attn.weight', [E, 3 * E]);
    w.check(p + 'attn.c_proj.weight', [E, E]);
    w.check(p + 'mlp.c_fc.weight', [E, I]);
    w.check(p + 'mlp.c_proj.weight', [I, E]);
  }
  w.check('ln_f.weight', [E]);
  const untiedHead = w.has('lm_head.weight') && !c.tieWordEmbeddings;
  if (untiedHead) w.check('lm_head.weight', [V, E]);

  return {
    facts: {
      family: 'gpt2',
      modelType: c.modelType,
      layers: c.layers,
      heads: H,
      kvHeads: H,
      headDim: D,
      hidden: E,
      vocabSize: V,
      maxPositions: c.maxPositions,
      attentionKinds: Array.from({ length: c.layers }, () => 'causal' as const),
      ...(c.eosTokenIds.length ? { stopTokenIds: [...c.eosTokenIds] } : {}),
      hasLmHead: true,
    },
    embedInputs: ['input_ids', 'position_ids'],
    blockedAttention: true,
    side: sideInputs(c),
    embed(g) {
      const tok = g.op('Gather', [w.add(g, 'wte.weight', [V, E]), 'input_ids']); // [B,S,E]
      const pos = g.op('Gather', [w.add(g, 'wpe.weight', [c.maxPositionEmbeddings, E]), 'position_ids']); // [B,S,E]
      return g.op('Add', [tok, pos]);
    },
    layer(g, l, x, inputs) {
      const p = `h.${l}.`;
      const a = norm(g, x, p + 'ln_1'); // [B,S,E]
      const qkv = conv(g, a, p + 'attn.c_attn', E, 3 * E); // [B,S,3E]
      const parts = g.opN('Split', [qkv], 3, { axis: A.int(-1) }); // 3 × [B,S,E]
      const [q, k, v] = parts.map((t) => splitHeads(g, t, H, D)); // [B,H,S,D]
      const [kAll, vAll] = inputs.cache ? inputs.cache(k, v) : [k, v]; // [B,H,P+S,D] with a KV cache
      // Long inputs: query-row blocks, the causal mask built in the graph from positions (no [B,H,S,S] tensor).
      const att = inputs.blocked
        ? { probs: '', context: blockedAttention(g, q, kAll, vAll, H, D, {}, inputs.blocked) }
        : attention(g, q, kAll, vAll, inputs.bias, H, D);
      const h1 = g.op('Add', [x, conv(g, att.context, p + 'attn.c_proj', E, E)]); // [B,S,E]
      const m = norm(g, h1, p + 'ln_2');
      const mid = activation(g, conv(g, m, p + 'mlp.c_fc', E, I), c.act); // [B,S,I]
      const out = g.op('Add', [h1, conv(g, mid, p + 'mlp.c_proj', I, E)]); // [B,S,E]
      const outWeight = () => w.add(g, p + 'attn.c_proj.weight', [E, E]); // Conv1D: already [in, out]
      return { hidden: out, attn: att.probs, q, k, v, outWeight, mixing: { resid: x, sum: h1 } };
    },
    head(g, x, where) {
      const h = norm(g, x, 'ln_f'); // [B,S,E]
      if (where === 'none') return { lastHidden: h };
      const table = untiedHead ? w.add(g, 'lm_head.weight', [V, E]) : w.add(g, 'wte.weight', [V, E]); // [V,E]
      return { lastHidden: h, logits: linearT(g, h, table) }; // [B,S,V]
    },
  };
}
