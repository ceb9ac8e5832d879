// A study's summary: many explanations (one per example of a dataset) reduced to the spread of every comparison
// metric across examples — mean, standard deviation, quartiles — so "does attention agree with leave-one-out?" is
// answered over a dataset, not one sentence. Keeps the per-example values for plots. Pure.
import type { ExplainResult } from './result';

export interface Spread {
  /** Finite values. */
  n: number;
  /** Values left out because they were NaN (e.g. τ against a constant score vector). */
  missing: number;
  mean: number;
  /** Sample standard deviation (n − 1); NaN for n < 2. */
  std: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
  values: number[];
}

/** Linear-interpolation quantile of sorted values (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function spread(values: readonly number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v));
  const sorted = [...finite].sort((a, b) => a - b);
  const n = finite.length;
  const mean = n > 0 ? finite.reduce((a, b) => a + b, 0) / n : NaN;
  const std = n > 1 ? Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : NaN;
  return {
    n,
    missing: values.length - n,
    mean,
    std,
    min: n ? sorted[0] : NaN,
    q1: quantile(sorted, 0.25),
    median: quantile(sorted, 0.5),
    q3: quantile(sorted, 0.75),
    max: n ? sorted[n - 1] : NaN,
    values: finite,
  };
}

export type AgreementMetric = 'kendall' | 'spearman' | 'topK';
export type FaithfulnessMetric = 'aopcComprehensiveness' | 'aopcSufficiency';

export interface StudySummary {
  examples: number;
  target: Spread;
  /** One entry per method pair and metric. */
  agreement: { a: string; b: string; metric: AgreementMetric; spread: Spread }[];
  distance: { a: string; b: string; metric: 'jsd' | 'tvd'; spread: Spread }[];
  faithfulness: { method: string; metric: FaithfulnessMetric; spread: Spread }[];
  erasure: { method: string; spread: Spread }[];
  /** Mean wall time of one explanation, ms. */
  meanMs: number;
}

/** Groups values by key in first-seen order. */
function collect<T>(items: T[], key: (t: T) => string, value: (t: T) => number): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k) ?? [];
    list.push(value(it));
    out.set(k, list);
  }
  return out;
}

export function summarizeStudy(results: readonly ExplainResult[]): StudySummary {
  const agreement: StudySummary['agreement'] = [];
  const rows = results.flatMap((r) => r.agreement);
  for (const metric of ['kendall', 'spearman', 'topK'] as const) {
    for (const [k, values] of collect(
      rows,
      (x) => `${x.a}\u0000${x.b}`,
      (x) => x[metric],
    )) {
      const [a, b] = k.split('\u0000');
      agreement.push({ a, b, metric, spread: spread(values) });
    }
  }
  const distance: StudySummary['distance'] = [];
  const drows = results.flatMap((r) => r.distance);
  for (const metric of ['jsd', 'tvd'] as const) {
    for (const [k, values] of collect(
      drows,
      (x) => `${x.a}\u0000${x.b}`,
      (x) => x[metric],
    )) {
      const [a, b] = k.split('\u0000');
      distance.push({ a, b, metric, spread: spread(values) });
    }
  }
  const faithfulness: StudySummary['faithfulness'] = [];
  const frows = results.flatMap((r) => r.faithfulness);
  for (const metric of ['aopcComprehensiveness', 'aopcSufficiency'] as const) {
    for (const [method, values] of collect(
      frows,
      (x) => x.method,
      (x) => x[metric],
    ))
      faithfulness.push({ method, metric, spread: spread(values) });
  }
  const erasure = [
    ...collect(
      results.flatMap((r) => r.erasure),
      (x) => x.method,
      (x) => x.area,
    ),
  ].map(([method, values]) => ({ method, spread: spread(values) }));
  return {
    examples: results.length,
    target: spread(results.map((r) => r.target.value)),
    agreement,
    distance,
    faithfulness,
    erasure,
    meanMs: results.length ? results.reduce((a, r) => a + r.timings.totalMs, 0) / results.length : NaN,
  };
}
