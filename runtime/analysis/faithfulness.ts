// Faithfulness of an importance score vector (ERASER, DeYoung et al. 2020): if the tokens a method calls important
// really matter to the model, removing them should change the model's output a lot (comprehensiveness) and keeping
// only them should change it little (sufficiency). The model is behind a callback, so this module stays pure and
// testable; the caller decides what "removing" a token means (dropping it, masking it, replacing its embedding).
//
//   f(x)                the callback with every token kept
//   comprehensiveness_k = f(x) − f(x \ top-k)       (top-k removed; higher = more faithful)
//   sufficiency_k       = f(x) − f(top-k only)      (only top-k kept; lower = more faithful)
//   AOPC                = ERASER's: 1/(|B| + 1) · Σ over the bins B (k ∈ {1, 5, 10, 20, 50}% of the candidate tokens)
// — the sum runs over k = 0..|B| in the paper, the k = 0 term (nothing removed) being 0 — with |B| the bins
// requested, also when two bins give the same k (short inputs: 1 % and 5 % of ≤ 20 tokens are both k = 1), so
// AOPCs of different texts stay comparable. A constant drop d gives AOPC d·|B|/(|B| + 1) (5/6 d for 5 bins); the
// plain mean over the bins that some follow-up work reports is AOPC · (|B| + 1)/|B|.
// k for p% is ceil(p/100 · n), at least 1 and at most n, with n the number of candidate tokens. Ranking is by
// score, highest first, ties to the earlier position. Excluded positions (e.g. special tokens) are never ranked,
// never removed and always kept. Each distinct mask is evaluated once, one call at a time.

/** The model's target value (e.g. the probability of the predicted class) on the input with only kept tokens. */
export type Evaluate = (keepMask: boolean[]) => Promise<number>;

export const DEFAULT_PERCENTS: readonly number[] = [1, 5, 10, 20, 50];

export interface FaithfulnessOptions {
  /** Bins as percentages of the candidate tokens. Default [1, 5, 10, 20, 50]. */
  percents?: readonly number[];
  /** true at positions to leave out of the ranking and always keep (special tokens). Length = scores. */
  exclude?: readonly boolean[];
  /** Checked between model calls; an aborted signal rejects with its reason. */
  signal?: AbortSignal;
}

export interface FaithfulnessBin {
  percent: number;
  /** Tokens removed (comprehensiveness) or kept (sufficiency) in this bin. */
  k: number;
  /** f(x \ top-k) */
  withoutTopK: number;
  /** f(top-k only) */
  onlyTopK: number;
  comprehensiveness: number;
  sufficiency: number;
}

export interface FaithfulnessResult {
  /** f(x), every token kept. */
  full: number;
  bins: FaithfulnessBin[];
  /** ERASER's AOPC of comprehensiveness: Σ over the bins / (|B| + 1). */
  aopcComprehensiveness: number;
  /** ERASER's AOPC of sufficiency: Σ over the bins / (|B| + 1). */
  aopcSufficiency: number;
  /** Candidate positions, most important first (the ranking the bins cut). */
  ranking: number[];
}

/** Candidate positions ranked by score, highest first, ties by position; excluded positions left out. */
export function rankTokens(scores: ArrayLike<number>, exclude?: readonly boolean[]): number[] {
  if (exclude && exclude.length !== scores.length) {
    throw new RangeError(`exclude has ${exclude.length} flags; expected ${scores.length}`);
  }
  const positions: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new RangeError(`score ${i} is NaN`);
    if (!exclude?.[i]) positions.push(i);
  }
  return positions.sort((i, j) => scores[j] - scores[i] || i - j);
}

/** ceil(percent/100 · n), clamped to 1..n. */
export function binSize(percent: number, n: number): number {
  if (!(percent > 0 && percent <= 100)) throw new RangeError(`percent ${percent} is outside (0, 100]`);
  return Math.min(n, Math.max(1, Math.ceil((percent * n) / 100)));
}

/** Comprehensiveness, sufficiency and their AOPC for one score vector. */
export async function faithfulness(
  scores: ArrayLike<number>,
  evaluate: Evaluate,
  options: FaithfulnessOptions = {},
): Promise<FaithfulnessResult> {
  const n = scores.length;
  const ranking = rankTokens(scores, options.exclude);
  if (ranking.length === 0) throw new RangeError('no candidate tokens to rank (all excluded or empty)');
  const percents = options.percents ?? DEFAULT_PERCENTS;
  if (percents.length === 0) throw new RangeError('no bins given');

  const cache = new Map<string, number>();
  const run = async (keep: boolean[]): Promise<number> => {
    const key = keep.map((b) => (b ? '1' : '0')).join('');
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    options.signal?.throwIfAborted();
    const value = await evaluate(keep.slice());
    if (!Number.isFinite(value)) throw new RangeError(`evaluate returned ${value}`);
    cache.set(key, value);
    return value;
  };

  const full = await run(new Array<boolean>(n).fill(true));
  const bins: FaithfulnessBin[] = [];
  for (const percent of percents) {
    const k = binSize(percent, ranking.length);
    const top = ranking.slice(0, k);
    const without = new Array<boolean>(n).fill(true);
    for (const i of top) without[i] = false;
    const only = new Array<boolean>(n).fill(false);
    for (let i = 0; i < n; i++) if (options.exclude?.[i]) only[i] = true;
    for (const i of top) only[i] = true;
    const withoutTopK = await run(without);
    const onlyTopK = await run(only);
    bins.push({
      percent,
      k,
      withoutTopK,
      onlyTopK,
      comprehensiveness: full - withoutTopK,
      sufficiency: full - onlyTopK,
    });
  }
  const aopc = (f: (b: FaithfulnessBin) => number) => bins.reduce((s, b) => s + f(b), 0) / (bins.length + 1);
  return {
    full,
    bins,
    aopcComprehensiveness: aopc((b) => b.comprehensiveness),
    aopcSufficiency: aopc((b) => b.sufficiency),
    ranking,
  };
}
