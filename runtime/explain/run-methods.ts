// The method loop of one explanation, shared by explain.ts (decoder-only and encoder models) and seq2seq-explain.ts
// (encoder–decoders): each method in order with its progress event, its wall time and the model rows it asked of the
// evaluator; a method that cannot run on this input (a RangeError, or a TOO_LONG LensError such as flow over too
// many tokens) is reported in its entry's `error` instead of ending the explanation. What each method computes is
// the caller's `score`.
import { getMethod, type ImportanceMethod } from '../analysis/registry';
import { isLensError } from '../errors';
import type { EvaluatorStats } from './evaluator';
import type { ExplainProgress } from './explain';
import type { MethodScores } from './result';

/** Runs `ids` (registry ids, the baseline among them) through `score`, in order. */
export async function runMethods(
  ids: readonly string[],
  score: (id: string, method: ImportanceMethod) => Promise<ArrayLike<number>>,
  stats: EvaluatorStats,
  onProgress?: (p: ExplainProgress) => void,
): Promise<MethodScores[]> {
  const methods: MethodScores[] = [];
  for (const [i, id] of ids.entries()) {
    onProgress?.({ phase: 'method', method: id, done: i, total: ids.length });
    const m = getMethod(id)!;
    const before = stats.rows + stats.cached;
    const tm = performance.now();
    const entry: MethodScores = { id, label: m.label, kind: m.kind, scores: [], ms: 0 };
    try {
      entry.scores = Array.from(await score(id, m)); // [seq]
    } catch (e) {
      if (isLensError(e) && e.code !== 'TOO_LONG') throw e;
      if (!isLensError(e) && !(e instanceof RangeError)) throw e;
      entry.error = e.message;
    }
    entry.ms = performance.now() - tm;
    if (m.kind === 'perturbation') entry.rows = stats.rows + stats.cached - before;
    methods.push(entry);
  }
  return methods;
}
