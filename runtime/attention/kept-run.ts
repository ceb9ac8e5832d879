// A run kept for long inputs: per layer what exact maps are recomputed from (q and k, layer-qk.ts), each row's
// log-sum-exp and the per-head summaries and overview (head-summaries.ts) — never the [heads, n, n] maps. Each
// layer's dense map is read once as it streams from the engine (one layer at a time) and dropped by the caller.
// What it keeps grows as n (q, k, lse, summaries) plus res² per head (the overview), not as n².
import { LensError } from '../errors';
import type { PlanFacts } from '../models/plan';
import type { LayerAttention } from '../types';
import { ExactAttention } from './exact-attention';
import { summariseDense, type HeadSummary, type SummaryOptions } from './head-summaries';
import { keepLayerQK, layerQKBytes } from './layer-qk';

export interface KeptLayer {
  exact: ExactAttention;
  /** One per query head. */
  heads: HeadSummary[];
}

function summaryBytes(s: HeadSummary): number {
  return [s.entropy, s.topKeys, s.topWeights, s.specialMass, s.blockMax, s.blockMean].reduce(
    (a, x) => a + x.byteLength,
    0,
  );
}

export class KeptRun {
  private readonly layers: (KeptLayer | undefined)[];

  constructor(
    readonly facts: PlanFacts,
    readonly options: SummaryOptions,
  ) {
    this.layers = new Array<KeptLayer | undefined>(facts.layers);
  }

  /** Keeps a layer from the engine's output: its map [heads, n, n] (read here, not kept), q and k [heads, n, D]. */
  add(attention: LayerAttention, q: Float32Array | undefined, k: Float32Array | undefined): KeptLayer {
    if (!q || !k)
      throw new LensError('INFERENCE_FAILED', `Layer ${attention.layer} came without q and k; run with vectors.`);
    const exact = new ExactAttention(keepLayerQK(this.facts, attention.layer, q, k));
    const n = exact.length;
    if (attention.queryLength !== n || attention.keyLength !== n || attention.heads !== exact.heads)
      throw new LensError(
        'INFERENCE_FAILED',
        `Layer ${attention.layer}'s map is [${attention.heads}, ${attention.queryLength}, ${attention.keyLength}] but q and k give [${exact.heads}, ${n}, ${n}].`,
      );
    const heads = Array.from({ length: exact.heads }, (_, h) =>
      summariseDense(exact, h, attention.data.subarray(h * n * n, (h + 1) * n * n), this.options),
    );
    const kept = { exact, heads };
    this.layers[attention.layer] = kept;
    return kept;
  }

  layer(l: number): KeptLayer | undefined {
    return this.layers[l];
  }

  /** Bytes kept for attention: q, k, the rows' log-sum-exp (float64) and the summaries of every layer so far. */
  bytes(): number {
    let total = 0;
    for (const l of this.layers) {
      if (!l) continue;
      total += layerQKBytes(l.exact.qk) + l.exact.heads * l.exact.length * 8;
      for (const s of l.heads) total += summaryBytes(s);
    }
    return total;
  }
}
