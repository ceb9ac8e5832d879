// Leave-one-out importance (Li et al. 2016, "Understanding Neural Networks through Representation Erasure"): remove
// one token, run the model again, and score the token by how much the explained value drops. Pure: the model is
// behind a batched callback (one call can run every variant as one batch), and what "removing" means (dropping the
// token, hiding it with the attention mask, replacing it with [MASK]) is the caller's choice, as in faithfulness.ts.
//
//   score_j = f(x) − f(x \ j)       positive: the token supports the value; negative: it works against it
// Only candidate positions are removed; the others (special tokens, the target position itself) score 0.

/** The model's value for each keep mask, in order; one call may run them all as one batch. */
export type EvaluateBatch = (keepMasks: boolean[][]) => Promise<number[]>;

/** A keep mask with one position removed. */
export interface RemovalMask {
  /** The removed positions. */
  removed: number[];
  keep: boolean[];
}

/** Candidate flags, defaulting to every position. */
export function candidateFlags(n: number, candidates?: readonly boolean[]): readonly boolean[] {
  if (candidates && candidates.length !== n)
    throw new RangeError(`candidates has ${candidates.length} flags; expected ${n}`);
  return candidates ?? new Array<boolean>(n).fill(true);
}

/** One mask per candidate position, in position order: every token kept except that one. */
export function leaveOneOutMasks(n: number, candidates?: readonly boolean[]): RemovalMask[] {
  const flags = candidateFlags(n, candidates);
  const masks: RemovalMask[] = [];
  for (let j = 0; j < n; j++) {
    if (!flags[j]) continue;
    const keep = new Array<boolean>(n).fill(true);
    keep[j] = false;
    masks.push({ removed: [j], keep });
  }
  return masks;
}

export interface LeaveOneOutResult {
  /** f(x) with every token. */
  full: number;
  /** [seq]: f(x) − f(x \ j) at candidates, 0 elsewhere. */
  scores: Float64Array;
  /** Model rows evaluated (including the full input). */
  passes: number;
}

/** Leave-one-out scores; the full input and every variant go to `evaluate` in one call. */
export async function leaveOneOut(
  evaluate: EvaluateBatch,
  n: number,
  options: { candidates?: readonly boolean[]; signal?: AbortSignal } = {},
): Promise<LeaveOneOutResult> {
  const masks = leaveOneOutMasks(n, options.candidates);
  options.signal?.throwIfAborted();
  const values = await evaluate([new Array<boolean>(n).fill(true), ...masks.map((m) => m.keep)]);
  if (values.length !== masks.length + 1) throw new RangeError(`evaluate returned ${values.length} values`);
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`evaluate returned ${v}`);
  const full = values[0];
  const scores = new Float64Array(n); // [seq]
  masks.forEach((m, i) => (scores[m.removed[0]] = full - values[i + 1]));
  return { full, scores, passes: values.length };
}
