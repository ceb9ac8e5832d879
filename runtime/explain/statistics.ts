// The statistics a study reports so that its numbers hold beyond the examples it ran: a percentile bootstrap 95 %
// confidence interval of a mean (seeded through runtime/random.ts, so the same data give the same interval), and
// the paired comparison of two methods over the same examples — the mean of the per-example differences, its
// bootstrap interval, and a two-sided sign-flip permutation test (exact enumeration of every sign pattern up to
// EXACT_PERMUTATION_MAX examples, seeded Monte Carlo beyond). Pure; NaN values are left out (pairs: where either
// side is NaN).
import { mulberry32 } from '../random';

/** Bootstrap resamples of a confidence interval. */
export const BOOTSTRAP_SAMPLES = 2000;
/** Up to this many pairs the permutation test enumerates all 2^n sign patterns; beyond it samples them. */
export const EXACT_PERMUTATION_MAX = 16;
/** Random sign patterns of the Monte Carlo permutation test. */
export const PERMUTATION_SAMPLES = 10000;

export interface MeanInterval {
  /** Finite values used. */
  n: number;
  mean: number;
  /** The 2.5th and 97.5th percentiles of the bootstrap means (NaN for n < 2). */
  lo: number;
  hi: number;
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Linear-interpolation quantile of sorted values (numpy's default). */
function quantileOf(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Mean with a percentile bootstrap interval at `level` (default 95 %): `samples` resamples of n values drawn with
 * replacement by the seeded PRNG. */
export function bootstrapMean(
  values: readonly number[],
  options: { samples?: number; seed?: number; level?: number } = {},
): MeanInterval {
  const xs = values.filter((v) => Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { n, mean: NaN, lo: NaN, hi: NaN };
  const m = mean(xs);
  if (n < 2) return { n, mean: m, lo: NaN, hi: NaN };
  const samples = options.samples ?? BOOTSTRAP_SAMPLES;
  const alpha = (1 - (options.level ?? 0.95)) / 2;
  const rand = mulberry32(options.seed ?? 1);
  const means = new Float64Array(samples); // [samples]
  for (let s = 0; s < samples; s++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += xs[Math.floor(rand() * n)];
    means[s] = sum / n;
  }
  means.sort();
  return { n, mean: m, lo: quantileOf(means, alpha), hi: quantileOf(means, 1 - alpha) };
}

export interface PairedTest {
  /** Pairs where both values are finite. */
  n: number;
  /** Mean of a − b over the pairs, with its bootstrap interval. */
  meanDiff: number;
  lo: number;
  hi: number;
  /** Two-sided p-value of the sign-flip permutation test of mean(a − b) = 0. */
  p: number;
  /** True when every sign pattern was enumerated (n ≤ EXACT_PERMUTATION_MAX). */
  exact: boolean;
}

/** The paired difference a − b over examples and its sign-flip permutation test: under the null each difference is
 * as likely negated, so p = the share of sign patterns whose |mean| is at least the observed |mean| (exact: all 2^n;
 * else (hits + 1) / (samples + 1) over seeded random patterns). */
export function pairedPermutationTest(
  a: readonly number[],
  b: readonly number[],
  options: { samples?: number; seed?: number; exactMax?: number; bootstrapSamples?: number } = {},
): PairedTest {
  if (a.length !== b.length) throw new RangeError(`paired values differ in length: ${a.length} vs ${b.length}`);
  const d: number[] = [];
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]) && Number.isFinite(b[i])) d.push(a[i] - b[i]);
  const n = d.length;
  const ci = bootstrapMean(d, { samples: options.bootstrapSamples, seed: options.seed });
  if (n === 0) return { n, meanDiff: NaN, lo: NaN, hi: NaN, p: NaN, exact: true };
  // One pair: both sign patterns are as extreme as the observed one, so p is 1 whatever the difference: not a test.
  if (n === 1) return { n, meanDiff: ci.mean, lo: ci.lo, hi: ci.hi, p: NaN, exact: true };
  const observed = Math.abs(d.reduce((s, x) => s + x, 0));
  // A relative tolerance so that a pattern equal to the observed sum up to rounding counts as "at least as extreme".
  const tol = 1e-12 * d.reduce((s, x) => s + Math.abs(x), 0);
  const exactMax = options.exactMax ?? EXACT_PERMUTATION_MAX;
  let p: number;
  let exact: boolean;
  if (n <= exactMax) {
    let hits = 0;
    const total = 2 ** n;
    for (let mask = 0; mask < total; mask++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += mask & (1 << i) ? -d[i] : d[i];
      if (Math.abs(sum) >= observed - tol) hits++;
    }
    p = hits / total;
    exact = true;
  } else {
    const samples = options.samples ?? PERMUTATION_SAMPLES;
    const rand = mulberry32(options.seed ?? 1);
    let hits = 0;
    for (let s = 0; s < samples; s++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += rand() < 0.5 ? -d[i] : d[i];
      if (Math.abs(sum) >= observed - tol) hits++;
    }
    p = (hits + 1) / (samples + 1);
    exact = false;
  }
  return { n, meanDiff: ci.mean, lo: ci.lo, hi: ci.hi, p, exact };
}
