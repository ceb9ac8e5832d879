// The contract between a model family (which builds ONNX graphs from weights) and the engine (which runs them).
// A model is cut into layer stages and a head, so that each layer's attention can be streamed as soon as it is
// computed (see docs/performance.md: one session per layer). Family plans fold the embeddings into layer 0
// and the final norm into the last layer, and give a small model's layers 1..L-1 one stage together and a wider
// model's layers after the first four to a stage (each session call and each message costs a fixed ~0.5 ms, more
// than 10 % of a 384-wide layer at 128 tokens; see family.ts layerGroups). The engine still runs a separate 'embed' stage where a plan has one (toy plans in tests).
//
// Tensor names every family uses:
//   embed  inputs : input_ids int64 [B,S], position_ids int64 [B,S], token_type_ids int64 [B,S] (bert only)
//          outputs: hidden float32 [B,S,E]
//   layer  inputs : hidden [B,S,E] (layer 0 of a family plan: the embed inputs instead), attn_bias float32 [B,1,S,S]
//                   (additive: 0 or -1e9; causal and padding), rope_cos, rope_sin float32 [B,1,S,D] (llama only)
//          outputs: hidden_out [B,S,E], attn [B,H,S,S] (post-softmax); the last layer of a family plan also
//                   last_hidden [B,S,E] (the head stage's output without logits), so a run skips the head.
//                   A stage of several layers names its per-layer outputs attn_<l>, q_<l>, ... (layerOutputs).
//          the `vectors` variant adds q, k, v [B,H,S,D] (q after RoPE, unscaled; k after RoPE; grouped-query
//          models report every query head). It is separate because graph outputs block onnxruntime's fusions.
//          the `norms` variant adds value_gram [B,S,H,H]: G[b,j,h,h'] = <f_h(x_j), f_h'(x_j)> with f_h(x_j) =
//          (x_j W_V + b_V)_h W_O,h the value vector of head h carried through its rows of the output projection
//          (Kobayashi et al. 2020); the diagonal is ‖f_h(x_j)‖², and ‖Σ_h α_h,ij f_h(x_j)‖² = α_ijᵀ G_j α_ij.
//          the `summaries` variant (long inputs) replaces attn by q, k and the summaries of attention-summaries.ts
//          (inputs top_k int64 [1], special_keys float32 [S]): the map stays inside onnxruntime.
//   head   inputs : hidden [B,S,E]
//          outputs: last_hidden [B,S,E] (after the final norm where the family has one)
//          the `withLogits` variant adds logits [B,S,V] (LM head on every position). It is separate because
//          onnxruntime computes graph outputs even when they are not fetched, and the LM head is costly.
//          the `gathered` variant reads one position per row first: inputs hidden [B,S,E], select int64 [B];
//          outputs hidden_at [B,1,E], logits_at [B,1,V] (LM head) — the LM head on one position, not all S.
import type { AttentionKind, Family, FeedTensor, ModelFacts } from '../types';

export type { FeedTensor, FeedType } from '../types';

export type StageRole = 'embed' | 'layer' | 'head';

export interface Stage {
  role: StageRole;
  /** Layer index for role 'layer' (the first of `layers`). */
  layer?: number;
  /** The layers a 'layer' stage computes, in order, when it computes more than one (see layerOutputs). */
  layers?: number[];
  /** Serialized ONNX ModelProto. A family plan's layer stages build it each time it is read (a getter), so read it
   * once and let it go: the engine holds one stage's bytes at a time while it creates the sessions. */
  readonly onnx: Uint8Array;
  inputNames: string[];
  outputNames: string[];
  /** Layer stages: builds the same layer with q, k, v as extra outputs (on demand: it costs a session). */
  vectors?: () => Uint8Array;
  /** Layer stages: the same layer with the extra outputs asked for (on demand: each variant costs a session). */
  variant?: (extras: LayerExtras) => Uint8Array;
  /** Head stage: the head on one selected position per row (inputs hidden, select; outputs hidden_at, logits_at). */
  gathered?: () => Uint8Array;
  /** Head stage of a model with an LM head: the head with logits [B,S,V] on every position as well. */
  withLogits?: () => Uint8Array;
  /** Layer stages of a family plan: a non-finite value in any of the stage's maps makes its hidden_out non-finite.
   * Softmax gives NaN, never ±Infinity; a NaN in row i of a map makes row i of the context NaN (NaN · 0 is NaN),
   * hence of the residual sum, and the residual carries it to hidden_out through every later layer of the stage.
   * The engine then scans the maps only when hidden_out is not finite (a pass over every map otherwise: ~20 % of
   * all-MiniLM-L6-v2's raw time at 512 tokens). */
  mapsReachHidden?: boolean;
}

/** The per-layer output names of a layer stage: a one-layer stage uses the plain names (attn, q, k, v,
 * value_gram); a stage of several layers suffixes them with the layer (attn_3, q_3, ...). */
export interface LayerOutputNames {
  layer: number;
  attn: string;
  q: string;
  k: string;
  v: string;
  valueGram: string;
  /** The mixing variant: f_h(x_j) [B,S,H,E], residual input and post-attention sum [B,S,E], post-LN norm [3,E]. */
  mixVectors: string;
  mixResid: string;
  mixSum: string;
  mixNorm: string;
}

export function layerOutputs(stage: Pick<Stage, 'layer' | 'layers'>): LayerOutputNames[] {
  const layers = stage.layers ?? [stage.layer ?? 0];
  const suffix = (l: number) => (layers.length > 1 ? `_${l}` : '');
  return layers.map((l) => ({
    layer: l,
    attn: `attn${suffix(l)}`,
    q: `q${suffix(l)}`,
    k: `k${suffix(l)}`,
    v: `v${suffix(l)}`,
    valueGram: `value_gram${suffix(l)}`,
    mixVectors: `mix_vectors${suffix(l)}`,
    mixResid: `mix_resid${suffix(l)}`,
    mixSum: `mix_sum${suffix(l)}`,
    mixNorm: `mix_norm${suffix(l)}`,
  }));
}

/** The mixing variant's input: which value vectors each row keeps, [B, layers, S] (value zeroing). */
export const VALUE_KEEP_INPUT = 'value_keep';

/** Extra outputs of a layer stage's on-demand variant. */
export interface LayerExtras {
  /** q, k, v [B,H,S,D]. */
  vectors?: boolean;
  /** value_gram [B,S,H,H] (norm-based attribution). */
  norms?: boolean;
  /** Context mixing (ALTI, value zeroing): mix_vectors, mix_resid, mix_sum (and mix_norm for post-LN blocks) per
   * layer, and the value_keep [B,L,S] input that zeroes chosen value vectors. */
  mixing?: boolean;
  /** Long inputs: q, k and the attention summaries (attention-summaries.ts) instead of the map. */
  summaries?: boolean;
  /** With summaries: attention in query-row blocks where the family can (an ONNX Loop whose rows per block are the
   * query_rows input: attention-summaries.ts blockedAttention); without, the map whole inside the graph. */
  blocked?: boolean;
}

/** A batch of token ids; mask[b][s] is 1 for real tokens and 0 for padding. All rows have the same length. */
export interface Batch {
  ids: number[][];
  mask: number[][];
}

/** The inputs of each stage that are not produced by the previous stage. */
export interface StageFeeds {
  embed: Record<string, FeedTensor>;
  /** Shared by every layer stage. */
  layer: Record<string, FeedTensor>;
}

export type PlanFacts = Omit<ModelFacts, 'name' | 'dir'>;

export interface GraphPlan {
  facts: PlanFacts;
  /** [layer 0 .. layer L-1, head] (a family plan), or with an 'embed' stage first. */
  stages: Stage[];
  /** Computes the per-run feeds (positions, masks, RoPE tables) for a batch. */
  feeds(batch: Batch, options?: FeedOptions): StageFeeds;
}

export interface FullGraphOptions {
  /** Add every layer's attention probabilities as outputs attn_0 .. attn_{L-1}. */
  attentionOutputs: boolean;
  /** false: the head stops at the final norm (no [B,S,V] logits, which onnxruntime computes even unfetched). */
  logits?: boolean;
}

export type { AttentionKind, Family };

export interface FeedOptions {
  /** false: leave out the n × n attention biases (the blocked variant builds its mask in the graph). */
  denseBias?: boolean;
}
