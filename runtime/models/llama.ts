// RoPE decoders (llama, mistral, qwen2, qwen3, phi3, olmo2, gemma2, gemma3_text): token embeddings (× √hidden for
// gemma), layers of RMSNorm (x·w, or x·(1 + w) for gemma), causal grouped-query attention with RoPE (per layer type:
// gemma3's sliding layers have their own base; partial rotary for phi3), optional q/k RMSNorm (per head: qwen3,
// gemma3; over the whole projection: olmo2), gemma's query_pre_attn_scalar and soft-capping, a gated MLP; norms
// before (llama), around (gemma's sandwich) or after (olmo2) each block; final norm and an LM head (lm_head.weight,
// or tied to embed_tokens), soft-capped for gemma. Sliding windows live in the attention bias fed per run (feeds.ts).
// Grouped-query k and v are projected, normed and rotated once per key/value head, then repeated to one head per
// query head (HF repeat_kv: Unsqueeze, Expand, Reshape of [B,KV,S,D]), so every query head's attention is reported
// while the k/v projections cost KV·D columns each, not H·D (SmolLM2: 192, not 576). Names: "embed_tokens",
// "layers.N.self_attn.q_proj" (phi3: "qkv_proj", "mlp.gate_up_proj")...
import type { ModelConfig } from '../formats/config-normalise';
import { A } from './graph-builder';
import { activation, attention, linearT, rmsNorm, rope, softcap, splitHeads, splitLinear } from './ops';
import { sideInputs, type FamilyGraphs } from './family';
import { blockedAttention } from './attention-summaries';
import type { GraphBuilder } from './graph-builder';
import { CheckedWeights, type ModelSource } from './source';

/** The weight names each layer must have, with their shapes, for this config. */
function layerShapes(c: ModelConfig, l: number): [string, number[]][] {
  const { hidden: E, heads: H, kvHeads: KV, headDim: D, intermediate: I } = c;
  const p = `layers.${l}.`;
  const out: [string, number[]][] = [];
  const norms: Record<ModelConfig['normPlacement'], string[]> = {
    pre: ['input_layernorm', 'post_attention_layernorm'],
    sandwich: [
      'input_layernorm',
      'post_attention_layernorm',
      'pre_feedforward_layernorm',
      'post_feedforward_layernorm',
    ],
    post: ['post_attention_layernorm', 'post_feedforward_layernorm'],
  };
  for (const n of norms[c.normPlacement]) out.push([p + `${n}.weight`, [E]]);
  if (c.fusedProjections) {
    out.push([p + 'self_attn.qkv_proj.weight', [(H + 2 * KV) * D, E]]);
    out.push([p + 'mlp.gate_up_proj.weight', [2 * I, E]]);
  } else {
    out.push([p + 'self_attn.q_proj.weight', [H * D, E]]);
    out.push([p + 'self_attn.k_proj.weight', [KV * D, E]]);
    out.push([p + 'self_attn.v_proj.weight', [KV * D, E]]);
    for (const [n, shape] of [
      ['gate_proj', [I, E]],
      ['up_proj', [I, E]],
    ] as const)
      out.push([p + `mlp.${n}.weight`, [...shape]]);
  }
  out.push([p + 'self_attn.o_proj.weight', [E, H * D]]);
  out.push([p + 'mlp.down_proj.weight', [E, I]]);
  if (c.qkvBias) {
    out.push([p + 'self_attn.q_proj.bias', [H * D]]);
    out.push([p + 'self_attn.k_proj.bias', [KV * D]]);
    out.push([p + 'self_attn.v_proj.bias', [KV * D]]);
  }
  if (c.oBias) out.push([p + 'self_attn.o_proj.bias', [E]]);
  if (c.mlpBias)
    for (const [n, size] of [
      ['gate_proj', I],
      ['up_proj', I],
      ['down_proj', E],
    ] as const)
      out.push([p + `mlp.${n}.bias`, [size]]);
  if (c.qkNorm === 'head') {
    out.push([p + 'self_attn.q_norm.weight', [D]]);
    out.push([p + 'self_attn.k_norm.weight', [D]]);
  } else if (c.qkNorm === 'projection') {
    out.push([p + 'self_attn.q_norm.weight', [H * D]]);
    out.push([p + 'self_attn.k_norm.weight', [KV * D]]);
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
  for (let l = 0; l < c.layers; l++) for (const [name, shape] of layerShapes(c, l)) w.check(name, shape);
  w.check('norm.weight', [E]);
  const hasHead = !c.tieWordEmbeddings && w.has('lm_head.weight');
  if (hasHead) w.check('lm_head.weight', [V, E]);

  /** A stored tensor transformed once per graph (name suffix `tag`), e.g. repeated to H heads or 1 + w. */
  const derived = (
    g: GraphBuilder,
    name: string,
    tag: string,
    dims: number[],
    make: (d: Float32Array) => Float32Array,
  ) => {
    const full = w.resolve(name)!;
    return g.weightOnce(`${full}.${tag}`, () => make(source.weights.get(full)), dims);
  };
  /** RMSNorm weight as the model applies it: w, or 1 + w in float32 (gemma). */
  const normWeight = (g: GraphBuilder, name: string, size: number): string => {
    if (!c.normPlusOne) return w.add(g, name, [size]);
    // Float32Array rounds: (1 + w) in float32
    return derived(g, name, 'plus1', [size], (d) => Float32Array.from(d, (x) => x + 1));
  };
  const norm = (g: GraphBuilder, x: string, name: string, size = E) =>
    rmsNorm(g, x, normWeight(g, name, size), c.normEps);
  /** A projection's bias when the model has one (config-required ones were checked above). */
  const bias = (g: GraphBuilder, name: string, n: number): string | undefined => {
    if (!w.has(name)) return undefined;
    w.check(name, [n]);
    return w.add(g, name, [n]);
  };
  /** [B,KV,S,D] → [B,H,S,D]: each kv head repeated for its `groups` query heads (HF repeat_kv). */
  const repeatKv = (g: GraphBuilder, x: string): string => {
    if (groups === 1) return x;
    const one = g.op('Unsqueeze', [x, g.constI64([2], [1], 'axes')]); // [B,KV,1,S,D]
    const all = g.op('Expand', [one, g.constI64([1, 1, groups, 1, 1], [5], 'groups')]); // [B,KV,G,S,D]
    return g.op('Reshape', [all, g.constI64([0, H, -1, D], [4], 'shape')]); // [B,H,S,D]
  };

  /** q [B,S,H·D], k and v [B,S,KV·D] of the attention input `a` [B,S,E]: one MatMul over [q | k | v]. */
  const projections = (g: GraphBuilder, l: number, a: string): [string, string, string] => {
    const p = `layers.${l}.self_attn.`;
    const sizes = [H * D, KV * D, KV * D];
    const [weight, b] = c.fusedProjections
      ? [w.add(g, p + 'qkv_proj.weight', [(H + 2 * KV) * D, E]), undefined] // rows [q: H·D | k: KV·D | v: KV·D]
      : w.addStacked(
          g,
          ['q_proj', 'k_proj', 'v_proj'].map((n) => p + n),
          sizes,
          E,
        );
    const [q, k, v] = splitLinear(g, a, weight, b, sizes); // [B,S,H·D], [B,S,KV·D], [B,S,KV·D]
    return [q, k, v];
  };

  /** The gated MLP on `x` [B,S,E]: down(act(gate(x)) · up(x)), gate and up as one MatMul over [gate | up]. */
  const mlp = (g: GraphBuilder, l: number, x: string): string => {
    const m = `layers.${l}.mlp.`;
    const [weight, b] = c.fusedProjections
      ? [w.add(g, m + 'gate_up_proj.weight', [2 * I, E]), undefined] // rows [gate: I | up: I]
      : w.addStacked(g, [m + 'gate_proj', m + 'up_proj'], [I, I], E);
    const [gateLin, up] = splitLinear(g, x, weight, b, [I, I]); // [B,S,I] each
    const gated = g.op('Mul', [activation(g, gateLin, c.act), up]); // [B,S,I]
    return linearT(g, gated, w.add(g, m + 'down_proj.weight', [E, I]), bias(g, m + 'down_proj.bias', E)); // [B,S,E]
  };

  const side = sideInputs(c);
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
      ...(c.eosTokenIds.length ? { stopTokenIds: [...c.eosTokenIds] } : {}),
      hasLmHead: true, // lm_head.weight, or tied to embed_tokens
      ...(c.slidingWindow !== null
        ? { slidingWindows: c.layerTypes.map((t) => (t === 'sliding' ? c.slidingWindow : null)) }
        : {}),
      ...(Math.abs(c.attnScale - 1 / Math.sqrt(D)) > 1e-12 ? { attentionScale: c.attnScale } : {}),
      ...(c.attnSoftcap !== null ? { attentionSoftcap: c.attnSoftcap } : {}),
    },
    embedInputs: ['input_ids', 'position_ids'],
    blockedAttention: true,
    side,
    embed(g) {
      const x = g.op('Gather', [w.add(g, 'embed_tokens.weight', [V, E]), 'input_ids']); // [B,S,E]
      return c.embedScale === 1 ? x : g.op('Mul', [x, g.constF([c.embedScale], [], 'embed_scale')]);
    },
    layer(g, l, x, inputs) {
      const p = `layers.${l}.self_attn.`;
      const ln = `layers.${l}.`;
      const a = c.normPlacement === 'post' ? x : norm(g, x, ln + 'input_layernorm.weight'); // [B,S,E]
      const [q0, k0, vLin] = projections(g, l, a); // q [B,S,H·D], k and v [B,S,KV·D]
      let qLin = q0;
      let kLin = k0;
      if (c.qkNorm === 'projection') {
        // olmo2: over all heads at once (k over its KV·D, as HF).
        qLin = norm(g, qLin, p + 'q_norm.weight', H * D);
        kLin = norm(g, kLin, p + 'k_norm.weight', KV * D);
      }
      let qh = splitHeads(g, qLin, H, D); // [B,H,S,D]
      let kh = splitHeads(g, kLin, KV, D); // [B,KV,S,D]
      if (c.qkNorm === 'head') {
        qh = norm(g, qh, p + 'q_norm.weight', D); // over head_dim
        kh = norm(g, kh, p + 'k_norm.weight', D);
      }
      const R = side(l).cos!.dims[3] as number; // rotated dimensions
      const q = rope(g, qh, inputs.cos!, inputs.sin!, D, R); // [B,H,S,D]
      const k = repeatKv(g, rope(g, kh, inputs.cos!, inputs.sin!, D, R)); // [B,KV,S,D] → [B,H,S,D]
      const v = repeatKv(g, splitHeads(g, vLin, KV, D)); // [B,H,S,D]
      const [kAll, vAll] = inputs.cache ? inputs.cache(k, v) : [k, v]; // [B,H,P+S,D] with a KV cache
      const scoring = { scale: c.attnScale, softcap: c.attnSoftcap };
      const att = inputs.blocked
        ? { probs: '', context: blockedAttention(g, q, kAll, vAll, H, D, { ...scoring, kvHeads: KV }, inputs.blocked) }
        : attention(g, q, kAll, vAll, inputs.bias, H, D, scoring);
      let o = linearT(g, att.context, w.add(g, p + 'o_proj.weight', [E, H * D]), bias(g, p + 'o_proj.bias', E)); // [B,S,E]
      if (c.normPlacement !== 'pre') o = norm(g, o, ln + 'post_attention_layernorm.weight');
      const h1 = g.op('Add', [x, o]); // [B,S,E]
      let f: string;
      if (c.normPlacement === 'pre') f = mlp(g, l, norm(g, h1, ln + 'post_attention_layernorm.weight'));
      else if (c.normPlacement === 'sandwich')
        f = norm(
          g,
          mlp(g, l, norm(g, h1, ln + 'pre_feedforward_layernorm.weight')),
          ln + 'post_feedforward_layernorm.weight',
        );
      else f = norm(g, mlp(g, l, h1), ln + 'post_feedforward_layernorm.weight');
      const outWeight = () => g.op('Transpose', [w.add(g, p + 'o_proj.weight', [E, H * D])], { perm: A.ints([1, 0]) }); // [H·D, E]
      // A norm on the attention output before the residual sum (post, sandwich) does not decompose per token.
      const mixing = c.normPlacement === 'pre' ? { resid: x, sum: h1 } : undefined;
      return { hidden: g.op('Add', [h1, f]), attn: att.probs, q, k, v, outWeight, mixing };
    },
    head(g, x, where) {
      const h = norm(g, x, 'norm.weight'); // [B,S,E]
      if (where === 'none') return { lastHidden: h };
      const table = w.add(g, hasHead ? 'lm_head.weight' : 'embed_tokens.weight', [V, E]); // [V,E]
      const logits = linearT(g, h, table); // [B,S,V]
      return { lastHidden: h, logits: c.finalSoftcap ? softcap(g, logits, c.finalSoftcap) : logits };
    },
  };
}
