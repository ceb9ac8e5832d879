// A run kept for long inputs: per layer what exact maps are recomputed from (q and k, layer-qk.ts), each row's
// log-sum-exp and the per-head summaries and overview (head-summaries.ts) — never the [heads, n, n] maps. Each
// layer's dense map is read once as it streams from the engine (one layer at a time) and dropped by the caller.
// What it keeps grows as n (q, k, lse, summaries) plus res² per head (the overview), not as n².
import { LensError } from '../errors';
import type { PlanFacts } from '../models/plan';
import type { LayerAttention } from '../types';
import { ExactAttention } from './exact-attention';
import { summariseDense, type HeadSummary, type SummaryOptions } from './head-summaries';
import { keepLayerQK, layerQK, layerQKBytes } from './layer-qk';
import { POOL, type LayerSummaryTensors } from '../models/attention-summaries';

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

/** [res, res]: how many entries of each block × block cell a query may see (the same for every head). */
function blockCounts(exact: ExactAttention, block: number, res: number): Float64Array {
  const counts = new Float64Array(res * res);
  const keyMask = exact.qk.keyMask;
  for (let i = 0; i < exact.length; i++) {
    const [lo, hi] = exact.visible(i);
    const y = Math.floor(i / block);
    for (let x = Math.floor(lo / block); x <= Math.floor(hi / block); x++) {
      const from = Math.max(lo, x * block);
      const to = Math.min(hi + 1, (x + 1) * block);
      let c = to - from;
      if (keyMask) for (let j = from; j < to; j++) c -= keyMask[j] === 0 ? 1 : 0;
      counts[y * res + x] += c;
    }
  }
  return counts;
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

  /** Keeps a layer from the graph's summaries (the summaries variant: the map never left onnxruntime). Each row's
   * log-sum-exp is read from its largest weight: lse_i = logit_ij − ln p_ij at j = its top key. */
  addSummaries(t: LayerSummaryTensors): KeptLayer {
    const exact = new ExactAttention(layerQK(this.facts, t.layer, t.q, t.k));
    const n = exact.length;
    const K = t.topK;
    const res = t.cells;
    const counts = blockCounts(exact, POOL, res); // [res, res] unmasked entries per cell
    const heads = Array.from({ length: exact.heads }, (_, h): HeadSummary => {
      const rows = (a: Float32Array, width: number) => a.subarray(h * n * width, (h + 1) * n * width);
      const topWeights = rows(t.topWeights, K).slice();
      const topKeys = Int32Array.from(rows(t.topKeys, K));
      exact.setLseFromTop(h, topKeys, topWeights, K);
      const keyMean = rows(t.keyMean, 1);
      const previous = rows(t.previous, 1);
      let distance = 0;
      let prev = 0;
      for (let i = 0; i < n; i++) distance += i - keyMean[i];
      for (let i = 1; i < n; i++) prev += previous[i];
      const cells = (a: Float32Array) => a.subarray(h * res * res, (h + 1) * res * res);
      const meanAll = cells(t.blockMean);
      const blockMean = Float32Array.from(meanAll, (m, c) => {
        const y = Math.floor(c / res);
        const x = c % res;
        const entries = (Math.min(n, (y + 1) * POOL) - y * POOL) * (Math.min(n, (x + 1) * POOL) - x * POOL);
        return counts[c] > 0 ? (m * entries) / counts[c] : 0;
      });
      return {
        entropy: rows(t.entropy, 1).slice(),
        topKeys,
        topWeights,
        specialMass: rows(t.special, 1).slice(),
        meanDistance: distance / n,
        previousToken: n > 1 ? prev / (n - 1) : 0,
        res,
        block: POOL,
        blockMax: cells(t.blockMax).slice(),
        blockMean,
      };
    });
    const kept = { exact, heads };
    this.layers[t.layer] = kept;
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
