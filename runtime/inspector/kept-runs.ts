// The inference worker's side of long inputs: the one run it keeps (runtime/attention/kept-run.ts: q, k, each row's
// log-sum-exp and the summaries, never a [heads, n, n] map) and the answers to the calling side's attention queries
// (exact values, rows, columns, windows recomputed from q and k). One kept run at a time, so what a worker holds
// for attention is bounded by one run's q and k: a newer kept run replaces it, a failed or cancelled one is dropped,
// dispose drops it. No Node imports (both inference workers use it through worker-loop.ts).
import { LensError } from '../errors';
import type { KeptLayer, KeptRun } from '../attention/kept-run';
import type { ExactAttention } from '../attention/exact-attention';
import type { PlanFacts } from '../models/plan';
import { checkRolloutCost, keptRolloutCost, keptRolloutRow, type RolloutCost } from '../attention/kept-rollout';
import type { HeadSummary } from '../attention/head-summaries';
import type { AttentionAnswer, AttentionQuery, KeptLayerOverview, SpanPayload } from './worker-protocol';

/** Entries of one window answer at most (16 MB of float32): a larger picture comes from the overview. */
export const MAX_WINDOW_ENTRIES = 1 << 22;

/** Keys of one vectors answer at most (the neuron view's window). */
export const MAX_VECTOR_KEYS = 4096;

export class KeptRuns {
  private current: { id: number; run: KeptRun } | undefined;

  /** Keeps `run` under `id`, dropping the run kept before. */
  keep(id: number, run: KeptRun): void {
    this.current = { id, run };
  }

  /** Drops the run kept under `id` (a failed or cancelled run), or any run when `id` is undefined. */
  drop(id?: number): void {
    if (id === undefined || this.current?.id === id) this.current = undefined;
  }

  /** Bytes the kept run holds (0 when none). */
  bytes(): number {
    return this.current?.run.bytes() ?? 0;
  }

  /** Row `target` of the kept run's attention rollout, refused when estimated above its time limit. */
  private rollout(run: KeptRun, target: number, startLayer: number, shouldStop?: () => boolean): Float64Array {
    const { facts } = run;
    const exact: ExactAttention[] = [];
    for (let l = 0; l < facts.layers; l++) {
      const layer = run.layer(l);
      if (!layer) throw new LensError('BAD_INPUT', `Rollout needs every layer; layer ${l} has not been computed yet.`);
      exact.push(layer.exact);
    }
    const n = exact[0].length;
    if (!Number.isInteger(target) || target < 0 || target >= n)
      throw new LensError('BAD_INPUT', `Position ${target} is outside the ${n} positions of the run.`);
    if (!Number.isInteger(startLayer) || startLayer < 0 || startLayer >= facts.layers)
      throw new LensError('BAD_INPUT', `The rollout's first layer ${startLayer} is outside 0..${facts.layers - 1}.`);
    const causal = facts.attentionKinds.every((k) => k === 'causal');
    checkRolloutCost(rolloutCostOf(facts, n, target, startLayer), causal);
    return keptRolloutRow(exact, target, { startLayer, ...(shouldStop ? { shouldStop } : {}) });
  }

  /** The answer to `q`; `shouldStop` (read while a rollout row runs) cancels it. */
  answer(q: AttentionQuery, shouldStop?: () => boolean): AttentionAnswer {
    const kept = this.current;
    if (!kept || kept.id !== q.run)
      throw new LensError(
        'BAD_INPUT',
        `Run ${q.run} is no longer kept (a newer long run replaced it, or the model was reloaded); run it again.`,
      );
    const layers = kept.run.facts.layers;
    if (q.what === 'rollout') return { values: this.rollout(kept.run, q.query, q.startLayer ?? 0, shouldStop) };
    if (!Number.isInteger(q.layer) || q.layer < 0 || q.layer >= layers)
      throw new LensError('BAD_INPUT', `Layer ${q.layer} is outside the model's ${layers} layers.`);
    const layer = kept.run.layer(q.layer);
    if (!layer) throw new LensError('BAD_INPUT', `Layer ${q.layer} of run ${q.run} has not been computed yet.`);
    const ex = layer.exact;
    switch (q.what) {
      case 'value':
        return { values: Float64Array.of(ex.value(q.head, q.query, q.key)) };
      case 'row':
        return { values: ex.row(q.head, q.query) };
      case 'column':
        return { values: ex.column(q.head, q.key) };
      case 'window': {
        const entries = (q.rows.end - q.rows.start) * (q.cols.end - q.cols.start);
        if (!(q.rows.end > q.rows.start && q.cols.end > q.cols.start))
          throw new LensError('BAD_INPUT', 'An attention window needs at least one row and one column.');
        if (entries > MAX_WINDOW_ENTRIES)
          throw new LensError(
            'BAD_INPUT',
            `A window of ${entries} entries is too large to send at once (at most ${MAX_WINDOW_ENTRIES}); ask for smaller windows or use the overview.`,
          );
        return { values: ex.window(q.head, q.rows, q.cols) };
      }
      case 'vectors':
        return keptVectors(ex, q.query, q.keys);
    }
  }
}

/** One query's q over every head [heads, headDim], the keys' k [kvHeads, keys, headDim] and the query's row lse per
 *  head [heads]: what the neuron view needs for a window of a long run (softmax of a key = exp(logit − lse)). */
export function keptVectors(ex: ExactAttention, query: number, keys: SpanPayload): AttentionAnswer {
  const { heads, kvHeads, headDim: D, length: n } = ex.qk;
  if (!Number.isInteger(query) || query < 0 || query >= n)
    throw new LensError('BAD_INPUT', `Position ${query} is outside the ${n} positions of the run.`);
  const W = keys.end - keys.start;
  if (!(Number.isInteger(keys.start) && Number.isInteger(keys.end) && keys.start >= 0 && keys.end <= n && W > 0))
    throw new LensError('BAD_INPUT', `Keys ${keys.start}–${keys.end} are not a span inside the ${n} positions.`);
  if (W > MAX_VECTOR_KEYS)
    throw new LensError('BAD_INPUT', `${W} keys are more than the ${MAX_VECTOR_KEYS} one vectors request may ask for.`);
  const q = new Float32Array(heads * D); // [heads, headDim]
  for (let h = 0; h < heads; h++) q.set(ex.qk.q.subarray((h * n + query) * D, (h * n + query + 1) * D), h * D);
  const k = new Float32Array(kvHeads * W * D); // [kvHeads, keys, headDim]
  for (let kv = 0; kv < kvHeads; kv++)
    k.set(ex.qk.k.subarray((kv * n + keys.start) * D, (kv * n + keys.end) * D), kv * W * D);
  const lse = Float64Array.from({ length: heads }, (_, h) => ex.rowLse(h, query)); // [heads]
  return { values: lse, q, k };
}

/** The cost of a rollout row of a kept run, from its facts (the same estimate the worker refuses by). */
export function rolloutCostOf(
  facts: Pick<PlanFacts, 'layers' | 'heads' | 'headDim' | 'attentionKinds'>,
  tokens: number,
  target: number,
  startLayer = 0,
): RolloutCost {
  const causal = facts.attentionKinds.every((k) => k === 'causal');
  return keptRolloutCost({ ...facts, causal }, tokens, target, startLayer);
}

/** What the calling side gets of a kept layer: the per-head overview and scalars (top-k keys stay in the worker). */
export function layerOverview(layer: number, kept: KeptLayer): KeptLayerOverview {
  const head = (s: HeadSummary) => ({
    entropy: s.entropy.slice(),
    specialMass: s.specialMass.slice(),
    meanDistance: s.meanDistance,
    previousToken: s.previousToken,
    res: s.res,
    block: s.block,
    blockMax: s.blockMax.slice(),
    blockMean: s.blockMean.slice(),
  });
  return { layer, length: kept.exact.length, heads: kept.heads.map(head) };
}

/** The buffers of an overview, to transfer with its event (each a copy the worker does not keep). */
export function overviewBuffers(o: KeptLayerOverview): ArrayBuffer[] {
  return o.heads.flatMap((h) =>
    [h.entropy, h.specialMass, h.blockMax, h.blockMean].map((a) => a.buffer as ArrayBuffer),
  );
}
