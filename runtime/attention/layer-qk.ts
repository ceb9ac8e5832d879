// What is kept of one layer so that its attention maps can be recomputed exactly when they are looked at, instead
// of storing [heads, n, n] probabilities: the queries and keys as the softmax sees them (after RoPE, before the
// scale), the scale, the soft-cap and the mask rule (causal, sliding window, padded keys). For SmolLM2-135M at 8,192
// tokens this is 30 × (9 query + 3 key heads) × 8,192 × 64 × 4 bytes ≈ 755 MB, against ≈ 72 GB for the maps.
// Kept in float32: half precision moves the probabilities by far more than the 1e-5 a shown value may differ from
// the full map (measured in test/unit/runtime/attention/exact-attention.test.ts: ~1e-3 on hf-tiny gemma2).
import { LensError } from '../errors';
import type { PlanFacts } from '../models/plan';

/** How a score becomes a logit, and which keys a query sees. */
export interface ScoreRule {
  /** Multiplies q·k (1/√headDim unless the model says otherwise). */
  scale: number;
  /** cap · tanh(x / cap) on the scaled score (gemma2), or null. */
  softcap: number | null;
  /** A query sees no later key. */
  causal: boolean;
  /** A query sees its last `window` keys, itself included, or null. */
  window: number | null;
}

export interface LayerQK {
  layer: number;
  heads: number;
  kvHeads: number;
  length: number;
  headDim: number;
  /** [heads, length, headDim]: after RoPE (and q/k norms), unscaled. */
  q: Float32Array;
  /** [kvHeads, length, headDim]: query head h reads key head floor(h / (heads / kvHeads)). */
  k: Float32Array;
  rule: ScoreRule;
  /** [length]: 1 for a real key, 0 for padding (never attended); undefined when every key is real. */
  keyMask?: Uint8Array;
}

/** The score rule of layer `layer` of a model. */
export function scoreRule(facts: PlanFacts, layer: number): ScoreRule {
  return {
    scale: facts.attentionScale ?? 1 / Math.sqrt(facts.headDim),
    softcap: facts.attentionSoftcap ?? null,
    causal: facts.attentionKinds[layer] === 'causal',
    window: facts.slidingWindows?.[layer] ?? null,
  };
}

/** Keeps a layer's q and k as the engine's `vectors` variant gives them ([heads, length, headDim] each, k repeated
 * per query head for grouped-query models): k is stored once per key/value head, after checking that the repeated
 * heads are the same. */
export function keepLayerQK(
  facts: PlanFacts,
  layer: number,
  q: Float32Array,
  kRepeated: Float32Array,
  keyMask?: Uint8Array,
): LayerQK {
  const { heads, headDim } = facts;
  const kvHeads = facts.kvHeads;
  const length = q.length / (heads * headDim);
  if (!Number.isInteger(length) || kRepeated.length !== q.length)
    throw new LensError(
      'INFERENCE_FAILED',
      `Layer ${layer}'s q has ${q.length} values and k ${kRepeated.length}; expected [${heads}, n, ${headDim}] each.`,
    );
  if (keyMask && keyMask.length !== length)
    throw new LensError('BAD_INPUT', `The key mask has ${keyMask.length} entries for ${length} positions.`);
  const groups = heads / kvHeads;
  const block = length * headDim; // one head: [length, headDim]
  const k = new Float32Array(kvHeads * block); // [kvHeads, length, headDim]
  for (let kv = 0; kv < kvHeads; kv++) {
    const first = kRepeated.subarray(kv * groups * block, (kv * groups + 1) * block);
    for (let r = 1; r < groups; r++) {
      const other = kRepeated.subarray((kv * groups + r) * block, (kv * groups + r + 1) * block);
      for (let i = 0; i < block; i++)
        if (other[i] !== first[i])
          throw new LensError(
            'INFERENCE_FAILED',
            `Layer ${layer}: query heads ${kv * groups} and ${kv * groups + r} should share key head ${kv} but their keys differ.`,
          );
    }
    k.set(first, kv * block);
  }
  return { layer, heads, kvHeads, length, headDim, q, k, rule: scoreRule(facts, layer), keyMask };
}

/** What is kept of layer `layer` from q [heads, n, D] and k already once per key/value head [kvHeads, n, D] (the
 * summaries variant gives it so). */
export function layerQK(facts: PlanFacts, layer: number, q: Float32Array, k: Float32Array): LayerQK {
  const { heads, headDim, kvHeads } = facts;
  const length = q.length / (heads * headDim);
  if (!Number.isInteger(length) || k.length !== kvHeads * length * headDim)
    throw new LensError(
      'INFERENCE_FAILED',
      `Layer ${layer}'s q has ${q.length} values and k ${k.length}; expected [${heads}, n, ${headDim}] and [${kvHeads}, n, ${headDim}].`,
    );
  return { layer, heads, kvHeads, length, headDim, q, k, rule: scoreRule(facts, layer) };
}

/** Bytes kept for one layer. */
export function layerQKBytes(qk: LayerQK): number {
  return qk.q.byteLength + qk.k.byteLength + (qk.keyMask?.byteLength ?? 0);
}
