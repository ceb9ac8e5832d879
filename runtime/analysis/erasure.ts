// Erasure curves (the "most relevant first" / MoRF perturbation curves of Samek et al. 2017, on tokens): erase the
// candidate tokens in the order a score vector ranks them, a growing share at a time, and follow the explained
// value. A faithful ranking makes the value fall fast when the most important tokens go first. Pure: the model is
// behind a batched callback, every point of the curve is one row of one batch.
//
//   points     k_p = round(p · C) for p = 0, 1/steps, …, 1 (duplicates dropped), C = number of candidates
//   curve      v_p = f(x without the first k_p ranked candidates)        ('least' order: the last k_p)
//   area       Σ trapezoids of (f(x) − v_p) over the erased fraction k_p / C ∈ [0, 1]: the mean drop along the curve
//              (higher = the value falls earlier; AOPC-like)
import { rankTokens } from './faithfulness';
import type { EvaluateBatch } from './loo';

export interface ErasureOptions {
  /** Points after the start (default 10: every 10 % of the candidates). */
  steps?: number;
  /** 'most' (default): erase the highest-scored first. 'least': the lowest first. */
  order?: 'most' | 'least';
  /** true at positions that are never erased nor ranked (special tokens, the target). Length = scores. */
  exclude?: readonly boolean[];
  signal?: AbortSignal;
}

export interface ErasureCurve {
  order: 'most' | 'least';
  /** Number of candidates erased at each point; starts at 0, ends at C. */
  erased: number[];
  /** erased / C. */
  fraction: number[];
  /** f(x) after each erasure; value[0] = f(x). */
  value: number[];
  /** Mean of f(x) − v over the erased fraction (trapezoid rule). */
  area: number;
}

/** The numbers of candidates erased at each point: 0 … C in `steps` even steps, rounded, without duplicates. */
export function erasurePoints(candidates: number, steps = 10): number[] {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps ${steps} must be a positive integer`);
  const points: number[] = [];
  for (let s = 0; s <= steps; s++) {
    const k = Math.round((s * candidates) / steps);
    if (points[points.length - 1] !== k) points.push(k);
  }
  return points;
}

/** Keep masks of the curve's points (point 0 keeps everything). */
export function erasureMasks(
  scores: ArrayLike<number>,
  options: Omit<ErasureOptions, 'signal'> = {},
): { erased: number[]; keep: boolean[][] } {
  const n = scores.length;
  const ranking = rankTokens(scores, options.exclude);
  if (options.order === 'least') ranking.reverse();
  const erased = erasurePoints(ranking.length, options.steps);
  const keep = erased.map((k) => {
    const m = new Array<boolean>(n).fill(true);
    for (let r = 0; r < k; r++) m[ranking[r]] = false;
    return m;
  });
  return { erased, keep };
}

/** Trapezoid mean of (full − value) over fraction ∈ [0, 1]. */
export function curveArea(fraction: readonly number[], value: readonly number[]): number {
  if (fraction.length !== value.length) throw new RangeError('fraction and value differ in length');
  if (fraction.length < 2) return 0;
  const full = value[0];
  let area = 0;
  for (let i = 1; i < fraction.length; i++) {
    const dx = fraction[i] - fraction[i - 1];
    area += (dx * (full - value[i - 1] + (full - value[i]))) / 2;
  }
  const span = fraction[fraction.length - 1] - fraction[0];
  return span > 0 ? area / span : 0;
}

/** The erasure curve of one score vector; all points go to `evaluate` in one call. */
export async function erasureCurve(
  scores: ArrayLike<number>,
  evaluate: EvaluateBatch,
  options: ErasureOptions = {},
): Promise<ErasureCurve> {
  const { erased, keep } = erasureMasks(scores, options);
  const candidates = erased[erased.length - 1];
  options.signal?.throwIfAborted();
  const value = await evaluate(keep);
  if (value.length !== keep.length) throw new RangeError(`evaluate returned ${value.length} values`);
  for (const v of value) if (!Number.isFinite(v)) throw new RangeError(`evaluate returned ${v}`);
  const fraction = erased.map((k) => (candidates > 0 ? k / candidates : 0));
  return { order: options.order ?? 'most', erased, fraction, value, area: curveArea(fraction, value) };
}
