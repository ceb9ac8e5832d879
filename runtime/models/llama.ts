// Llama-family decoders (llama, mistral, qwen2): RMSNorm, RoPE (HF rotate_half, tables fed per run), causal
// grouped-query attention, SiLU-gated MLP, final norm and an LM head (lm_head.weight, or tied to embed_tokens).
// Grouped-query k/v projections are repeated row-blocks at build time so that k and v have one head per query
// head, and every query head's attention is reported. Names: "embed_tokens", "layers.N.self_attn.q_proj"...
import { A } from './graph-builder';
import { activation, attention, linearT, rmsNorm, rope, splitHeads } from './ops';
import type { FamilyGraphs } from './family';
import type { GraphBuilder } from './graph-builder';
import { CheckedWeights, type ModelSource } from './source';

/** Repeats each kv head's rows `groups` times: [kvH·D, E] → [H·D, E] (or [kvH·D] → [H·D] for biases);
 * query head h uses kv head floor(h / groups), as HF repeat_kv. */
export function repeatKvRows(data: Float32Array, kvHeads: number, headDim: number, groups: number): Float32Array {
  if (groups === 1) return data;
  const rowLen = data.length / (kvHeads * headDim);
  const block = headDim * rowLen; // one kv head's rows
  const out = new Float32Array(data.length * groups); // [H·D, E]
  for (let kv = 0; kv < kvHeads; kv++) {
    const src = data.subarray(kv * block, (kv + 1) * block);
    for (let r = 0; r < groups; r++) out.set(src, (kv * groups + r) * block);
  }
  return out;
}

export function llamaGraphs(source: ModelSource): FamilyGraphs {
  const c = source.config;
  const w = new CheckedWeights(source.weights, 'embed_tokens.weight', c.modelType);
  const E = c.hidden;
  const H = c.heads;
  const KV = c.kvHeads;
  const D = c.headDim;
  const I = c.intermediate;
  const V = c.vocabSize;
  const groups = H / KV;

  w.check('embed_tokens.weight', [V, E]);
  for (let l = 0; l < c.layers; l++) {
    const p = `layers.${l}.`;
    w.check(p + 'input_layernorm.weight', [E]);
    w.check(p + 'post_attention_layernorm.weight', [E]);
    w.check(p + 'self_attn.q_proj.weight', [H * D, E]);
    w.check(p + 'self_attn.k_proj.weight', [KV * D, E]);
    w.check(p + 'self_attn.v_proj.weight', [KV * D, E]);
    w.check(p + 'self_attn.o_proj.weight', [E, H * D]);
    if (c.qkvBias) {
      w.check(p + 'self_attn.q_proj.bias', [H * D]);
      w.check(p + 'self_attn.k_proj.bias', [KV * D]);
      w.check(p + 'self_attn.v_proj.bias', [KV * D]);
    }
    if (c.oBias) w.check(p + 'self_attn.o_proj.bias', [E]);
    for (const [n, shape] of [
      ['gate_proj', [I, E]],
      ['up_proj', [I, E]],
      ['down_proj', [E, I]],
    ] as const) {
      w.check(p + `mlp.${n}.weight`, [...shape]);
      if (c.mlpBias) w.check(p + `mlp.${n}.bias`, [shape[0]]);
    }
  }
  w.check('norm.weight', [E]);
  const hasHead = w.has('lm_head.weight');
  if (hasHead) w.check('lm_head.weight', [V, E]);

  /** A projection's bias when the model has one (config-required ones were checked above). */
  const bias = (g: GraphBuilder, name: string, n: number, repeat = false): string | undefined => {
    if (!w.has(name)) return undefined;
    const full = w.check(name, [repeat ? KV * D : n]);
    if (!repeat) return w.add(g, name, [n]);
    return g.weightOnce(`${full}.rep`, () => repeatKvRows(source.weights.get(full), KV, D, groups), [H * D]);
  };
  /** k/v projection weight repeated to H heads: [H·D, E]. */
  const kvWeight = (g: GraphBuilder, name: string): string => {
    const full = w.check(name, [KV * D, E]);
    if (groups === 1) return w.add(g, name, [KV * D, E]);
    return g.weightOnce(`${full}.rep`, () => repeatKvRows(source.weights.get(full), KV, D, groups), [H * D, E]);
  };

  return {
    facts: {
      family: 'llama',
      modelType: c.modelType,
      layers: c.layers,
      heads: H,
      kvHeads: KV,
      headDim: D,
      hidden: E,
      vocabSize: V,
      maxPositions: c.maxPositions,
      attentionKinds: Array.from({ length: c.layers }, () => 'causal' as const),
      hasLmHead: true, // lm_head.weight, or tied to embed_tokens
    },
    embedInputs: ['input_ids', 'position_ids'],
    usesRope: true,
    embed(g) {
      return g.op('Gather', [w.add(g, 'embed_tokens.weight', [V, E]), 'input_ids']); // [B,S,E]
    },
    layer(g, l, x, inputs) {
      const p = `layers.${l}.self_attn.`;
      const m = `layers.${l}.mlp.`;
      const a = rmsNorm(g, x, w.add(g, `layers.${l}.input_layernorm.weight`, [E]), c.normEps); // [B,S,E]
      const qLin = linearT(g, a, w.add(g, p + 'q_proj.weight', [H * D, E]), bias(g, p + 'q_proj.bias', H * D)); // [B,S,H·D]
      const kLin = linearT(g, a, kvWeight(g, p + 'k_proj.weight'), bias(g, p + 'k_proj.bias', H * D, true)); // [B,S,H·D]
      const vLin = linearT(g, a, kvWeight(g, p + 'v_proj.weight'), bias(g, p + 'v_proj.bias', H * D, true));
      const q = rope(g, splitHeads(g, qLin, H, D), inputs.cos!, inputs.sin!); // [B,H,S,D]
      const k = rope(g, splitHeads(g, kLin, H, D), inputs.cos!, inputs.sin!);
      const v = splitHeads(g, vLin, H, D);
      const att = attention(g, q, k, v, inputs.bias, H, D);
      const h1 = g.op('Add', [
        x,
        linearT(g, att.context, w.add(g, p + 'o_proj.weight', [E, H * D]), bias(g, p + 'o_proj.bias', E)),
      ]);
      const n2 = rmsNorm(g, h1, w.add(g, `layers.${l}.post_attention_layernorm.weight`, [E]), c.normEps);
      const gate = activation(
        g,
        linearT(g, n2, w.add(g, m + 'gate_proj.weight', [I, E]), bias(g, m + 'gate_proj.bias', I)),
        c.act,
      ); // [B,S,I]
      const up = linearT(g, n2, w.add(g, m + 'up_proj.weight', [I, E]), bias(g, m + 'up_proj.bias', I));
      const down = linearT(
        g,
        g.op('Mul', [gate, up]),
        w.add(g, m + 'down_proj.weight', [E, I]),
        bias(g, m + 'down_proj.bias', E),
      ); // [B,S,E]
      const outWeight = () => g.op('Transpose', [w.add(g, p + 'o_proj.weight', [E, H * D])], { perm: A.ints([1, 0]) }); // [H·D, E]
      return { hidden: g.op('Add', [h1, down]), attn: att.probs, q, k, v, outWeight };
    },
    head(g, x, where) {
      const h = rmsNorm(g, x, w.add(g, 'norm.weight', [E]), c.normEps); // [B,S,E]
      if (where === 'none') return { lastHidden: h };
      const table = w.add(g, hasHead ? 'lm_head.weight' : 'embed_tokens.weight', [V, E]); // [V,E]
      return { lastHidden: h, logits: linearT(g, h, table) }; // [B,S,V]
    },
  };
}
