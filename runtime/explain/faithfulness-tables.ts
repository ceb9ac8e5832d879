// Faithfulness (ERASER comprehensiveness / sufficiency / AOPC) and erasure curves for every method of one
// explanation, with all their model passes batched: faithfulness.ts asks for one mask at a time, so each method is
// first run against a recorder (the masks it asks for do not depend on the answers), every recorded mask is run in
// batches, and the methods are run again against the filled cache. The uniform baseline row is the mean over a few
// seeded random orders of the candidates (baseline.ts), and so is the row of a method that scores every candidate alike.
import { faithfulness, type FaithfulnessResult } from '../analysis/faithfulness';
import { erasureMasks, curveArea } from '../analysis/erasure';
import type { EvaluateBatch } from '../analysis/loo';
import type { ErasureRow, FaithfulnessRow, MethodScores } from './result';
import { rankingSamples } from './baseline';

interface Ranked {
  id: string;
  /** Score vectors to average (one for a method, several random orders for the baseline). */
  samples: number[][];
}

function rankedMethods(methods: readonly MethodScores[], candidates: readonly boolean[], samples?: number): Ranked[] {
  return methods
    .filter((m) => m.scores.length > 0)
    .map((m) => ({ id: m.id, samples: rankingSamples(m.id, m.scores, candidates, samples, true) }));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export interface FaithfulTableOptions {
  candidates: readonly boolean[];
  percents?: readonly number[];
  /** Random orders averaged for the baseline row (default 5). */
  baselineSamples?: number;
  signal?: AbortSignal;
}

/** One faithfulness row per scored method; model passes batched through `evaluate`. */
export async function faithfulnessTable(
  methods: readonly MethodScores[],
  evaluate: EvaluateBatch,
  options: FaithfulTableOptions,
): Promise<FaithfulnessRow[]> {
  const exclude = options.candidates.map((c) => !c);
  if (!options.candidates.some(Boolean)) return [];
  const ranked = rankedMethods(methods, options.candidates, options.baselineSamples);
  const fopts = { exclude, percents: options.percents, signal: options.signal };
  // 1. Record every mask (answers do not matter), 2. run them in batches, 3. replay against the cache.
  const recorded: boolean[][] = [];
  for (const r of ranked)
    for (const s of r.samples) await faithfulness(s, async (keep) => (recorded.push(keep), 0), fopts);
  await evaluate(recorded);
  const one = async (keep: boolean[]) => (await evaluate([keep]))[0];
  const rows: FaithfulnessRow[] = [];
  for (const r of ranked) {
    const results: FaithfulnessResult[] = [];
    for (const s of r.samples) results.push(await faithfulness(s, one, fopts));
    rows.push({
      method: r.id,
      full: results[0].full,
      bins: results[0].bins.map((b, i) => ({
        percent: b.percent,
        k: b.k,
        comprehensiveness: mean(results.map((x) => x.bins[i].comprehensiveness)),
        sufficiency: mean(results.map((x) => x.bins[i].sufficiency)),
      })),
      aopcComprehensiveness: mean(results.map((x) => x.aopcComprehensiveness)),
      aopcSufficiency: mean(results.map((x) => x.aopcSufficiency)),
    });
  }
  return rows;
}

/** One most-important-first erasure curve per scored method (the baseline: mean over random orders). */
export async function erasureTable(
  methods: readonly MethodScores[],
  evaluate: EvaluateBatch,
  options: { candidates: readonly boolean[]; steps?: number; baselineSamples?: number; signal?: AbortSignal },
): Promise<ErasureRow[]> {
  const exclude = options.candidates.map((c) => !c);
  if (!options.candidates.some(Boolean)) return [];
  const ranked = rankedMethods(methods, options.candidates, options.baselineSamples);
  const plans = ranked.map((r) => ({
    id: r.id,
    masks: r.samples.map((s) => erasureMasks(s, { exclude, steps: options.steps })),
  }));
  options.signal?.throwIfAborted();
  const all = plans.flatMap((p) => p.masks.flatMap((m) => m.keep));
  const values = await evaluate(all);
  let at = 0;
  return plans.map((p) => {
    const erased = p.masks[0].erased;
    const candidates = erased[erased.length - 1];
    const curves = p.masks.map((m) => {
      const v = values.slice(at, at + m.keep.length);
      at += m.keep.length;
      return v;
    });
    const value = erased.map((_, i) => mean(curves.map((c) => c[i])));
    const fraction = erased.map((k) => (candidates > 0 ? k / candidates : 0));
    return { method: p.id, erased, fraction, value, area: curveArea(fraction, value) };
  });
}

/** Both tables of one explanation, with the progress phases the views show and the time each took (causal and
 * encoder–decoder explanations alike). `end` is the performance.now() at which the tables were done. */
export async function evaluationTables(
  methods: readonly MethodScores[],
  evaluate: EvaluateBatch,
  options: FaithfulTableOptions & { faithfulness?: boolean; erasureSteps?: number },
  onProgress?: (p: { phase: 'faithfulness' | 'erasure' | 'done' }) => void,
): Promise<{
  faithfulness: FaithfulnessRow[];
  erasure: ErasureRow[];
  faithfulnessMs: number;
  erasureMs: number;
  end: number;
}> {
  const { candidates, percents, baselineSamples, signal } = options;
  const tFaith = performance.now();
  onProgress?.({ phase: 'faithfulness' });
  const faithfulness =
    options.faithfulness === false
      ? []
      : await faithfulnessTable(methods, evaluate, { candidates, percents, baselineSamples, signal });
  const tErasure = performance.now();
  onProgress?.({ phase: 'erasure' });
  const steps = options.erasureSteps ?? 10;
  const erasure =
    steps > 0 ? await erasureTable(methods, evaluate, { candidates, steps, baselineSamples, signal }) : [];
  const end = performance.now();
  onProgress?.({ phase: 'done' });
  return { faithfulness, erasure, faithfulnessMs: tErasure - tFaith, erasureMs: end - tErasure, end };
}
