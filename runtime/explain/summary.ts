// A study's summary: many explanations (one per example of a dataset) reduced to the spread of every comparison
// metric across examples — mean, standard deviation, quartiles — so "does attention agree with leave-one-out?" is
// answered over a dataset, not one sentence. Keeps the per-example values for plots. Pure.
import type { ExplainResult } from './result';
import { bootstrapMean, pairedPermutationTest, type PairedTest } from './statistics';

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
  /** Percentile bootstrap 95 % interval of the mean (statistics.ts; seeded: the same values give the same interval). */
  ci: { lo: number; hi: number };
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
    ci: (({ lo, hi }) => ({ lo, hi }))(bootstrapMean(finite)),
    values: finite,
  };
}

export type AgreementMetric = 'kendall' | 'spearman' | 'topK';
export type FaithfulnessMetric = 'aopcComprehensiveness' | 'aopcSufficiency';
/** What a paired comparison compares: a faithfulness metric, the erasure area, or Kendall τ with the reference. */
export type PairedMetric = FaithfulnessMetric | 'erasureArea' | 'kendallWithReference';

/** The study's reference method: the one asked for, else leave-one-out when every result has it. */
export function studyReference(results: readonly ExplainResult[], asked?: string): string | undefined {
  if (asked !== undefined) return asked;
  const has = (id: string) => results.length > 0 && results.every((r) => (r.methods ?? []).some((m) => m.id === id));
  return has('loo') ? 'loo' : undefined;
}

/** Per-example values of every method for one metric, aligned by example (NaN where an example lacks it). */
function perMethod(
  results: readonly ExplainResult[],
  metric: PairedMetric,
  reference: string | undefined,
): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const put = (method: string, i: number, v: number) => {
    if (!out.has(method)) out.set(method, Array(results.length).fill(NaN));
    out.get(method)![i] = v;
  };
  results.forEach((r, i) => {
    if (metric === 'aopcComprehensiveness' || metric === 'aopcSufficiency')
      for (const f of r.faithfulness) put(f.method, i, f[metric]);
    else if (metric === 'erasureArea') for (const e of r.erasure) put(e.method, i, e.area);
    else if (reference !== undefined)
      for (const a of r.agreement) {
        // The uniform row's ranking is the random baseline's (the same seeded orders): 'random' stands for both.
        if (a.a === 'uniform' || a.b === 'uniform') continue;
        if (a.a === reference && a.b !== reference) put(a.b, i, a.kendall);
        else if (a.b === reference && a.a !== reference) put(a.a, i, a.kendall);
      }
  });
  return out;
}

/** The mean head sweep over the examples, when they all have one of the same reference and shape. */
function sweeps(results: readonly ExplainResult[]): Pick<StudySummary, 'headSweep'> | undefined {
  const all = results.map((r) => r.headSweep);
  const first = all[0];
  if (!first || all.some((s) => !s || s.reference !== first.reference || s.values.length !== first.values.length))
    return undefined;
  const cells = first.values.map((_, c) => bootstrapMean(all.map((s) => s!.values[c] ?? NaN)));
  return {
    headSweep: {
      reference: first.reference,
      layers: [...first.layers],
      heads: first.heads,
      values: cells.map((c) => c.mean),
      lo: cells.map((c) => c.lo),
      hi: cells.map((c) => c.hi),
      n: cells.map((c) => c.n),
      recency: bootstrapMean(all.map((s) => s!.recency ?? NaN)).mean,
    },
  };
}

/** Every pair of methods per metric, compared over the examples where both have a value. */
export function pairedComparisons(
  results: readonly ExplainResult[],
  reference: string | undefined,
): StudySummary['paired'] {
  const paired: StudySummary['paired'] = [];
  const metrics: PairedMetric[] = ['aopcComprehensiveness', 'aopcSufficiency', 'erasureArea'];
  if (reference !== undefined) metrics.push('kendallWithReference');
  for (const metric of metrics) {
    const byMethod = [...perMethod(results, metric, reference)];
    for (let i = 0; i < byMethod.length; i++)
      for (let j = i + 1; j < byMethod.length; j++)
        paired.push({
          metric,
          a: byMethod[i][0],
          b: byMethod[j][0],
          test: pairedPermutationTest(byMethod[i][1], byMethod[j][1]),
        });
  }
  return paired;
}

export interface StudySummary {
  examples: number;
  target: Spread;
  /** One entry per method pair and metric. */
  agreement: { a: string; b: string; metric: AgreementMetric; spread: Spread }[];
  distance: { a: string; b: string; metric: 'jsd' | 'tvd'; spread: Spread }[];
  faithfulness: { method: string; metric: FaithfulnessMetric; spread: Spread }[];
  erasure: { method: string; spread: Spread }[];
  /** Paired comparisons of two methods over the same examples: a − b per example, its mean with a bootstrap 95 %
   * interval and a sign-flip permutation test p-value. Metrics: AOPC comprehensiveness and sufficiency, erasure
   * area, and (with a reference method) Kendall τ with the reference. */
  paired: { metric: PairedMetric; a: string; b: string; test: PairedTest }[];
  /** The method the agreement comparisons are made against (e.g. loo), if any. */
  reference?: string;
  /** The examples' head sweeps (head-sweep.ts) cell by cell: the mean τ of each layer and head with its bootstrap
   * interval, and the recency baseline's; present when every sweep has the same reference and shape. */
  headSweep?: {
    reference: string;
    layers: number[];
    heads: number;
    /** [layers × heads]: mean over examples, and the 95 % interval. */
    values: number[];
    lo: number[];
    hi: number[];
    /** Examples with a finite τ, per cell. */
    n: number[];
    recency: number;
  };
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

export function summarizeStudy(results: readonly ExplainResult[], options: { reference?: string } = {}): StudySummary {
  const reference = studyReference(results, options.reference);
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
    paired: pairedComparisons(results, reference),
    ...(sweeps(results) ?? {}),
    ...(reference !== undefined ? { reference } : {}),
    meanMs: results.length ? results.reduce((a, r) => a + r.timings.totalMs, 0) / results.length : NaN,
  };
}
