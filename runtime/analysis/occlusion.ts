// Occlusion with a sliding window (Zeiler & Fergus 2014, applied to tokens): remove `window` consecutive candidate
// tokens at a time, run the model, and give every token the mean drop of the windows that covered it (the
// convention of Captum's Occlusion). Windows slide over the candidate positions only, so special tokens neither
// count towards a window nor break one. With window 1 it is exactly leave-one-out.
//
//   drop_w  = f(x) − f(x \ window w)
//   score_j = mean of drop_w over the windows w that contain j      (0 for non-candidates)
import { candidateFlags, type EvaluateBatch, type RemovalMask } from './loo';

export interface OcclusionOptions {
  /** Tokens per window (default 3). Clamped to the number of candidates. */
  window?: number;
  /** Candidate positions between window starts (default 1). */
  stride?: number;
  candidates?: readonly boolean[];
  signal?: AbortSignal;
}

/** The windows' removal masks, in order of their first position. The last window always ends at the last candidate. */
export function occlusionMasks(n: number, options: OcclusionOptions = {}): RemovalMask[] {
  const flags = candidateFlags(n, options.candidates);
  const positions: number[] = [];
  for (let j = 0; j < n; j++) if (flags[j]) positions.push(j);
  if (positions.length === 0) return [];
  const window = Math.min(options.window ?? 3, positions.length);
  const stride = options.stride ?? 1;
  if (!Number.isInteger(window) || window < 1)
    throw new RangeError(`window ${options.window} must be a positive integer`);
  if (!Number.isInteger(stride) || stride < 1)
    throw new RangeError(`stride ${options.stride} must be a positive integer`);
  const starts: number[] = [];
  for (let s = 0; s + window <= positions.length; s += stride) starts.push(s);
  const lastStart = positions.length - window;
  if (starts[starts.length - 1] !== lastStart) starts.push(lastStart);
  return starts.map((s) => {
    const removed = positions.slice(s, s + window);
    const keep = new Array<boolean>(n).fill(true);
    for (const j of removed) keep[j] = false;
    return { removed, keep };
  });
}

export interface OcclusionResult {
  full: number;
  /** [seq] */
  scores: Float64Array;
  passes: number;
  window: number;
}

/** Occlusion scores; the full input and every window go to `evaluate` in one call. */
export async function occlusion(
  evaluate: EvaluateBatch,
  n: number,
  options: OcclusionOptions = {},
): Promise<OcclusionResult> {
  const masks = occlusionMasks(n, options);
  options.signal?.throwIfAborted();
  const values = await evaluate([new Array<boolean>(n).fill(true), ...masks.map((m) => m.keep)]);
  if (values.length !== masks.length + 1) throw new RangeError(`evaluate returned ${values.length} values`);
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`evaluate returned ${v}`);
  const full = values[0];
  const sum = new Float64Array(n);
  const count = new Float64Array(n);
  masks.forEach((m, i) => {
    for (const j of m.removed) {
      sum[j] += full - values[i + 1];
      count[j]++;
    }
  });
  const scores = new Float64Array(n); // [seq]
  for (let j = 0; j < n; j++) scores[j] = count[j] > 0 ? sum[j] / count[j] : 0;
  return { full, scores, passes: values.length, window: masks[0]?.removed.length ?? 0 };
}
