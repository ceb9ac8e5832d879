// The comparison tables of one explanation, from score vectors that already exist: agreement (rank correlations and
// top-k overlap) between every pair of methods, distances between the methods whose scores are distributions, and
// per-head statistics with a uniform-attention row per layer. All over the candidate tokens only (special tokens and
// the target's own position are not what an explanation ranks). The baseline's agreement is the chance level: the
// mean over random orders of the candidates (baseline.ts). Pure.
import { kendallTau, spearmanRho, topKOverlap } from '../analysis/agreement';
import { divergenceFromUniform, jsDivergence, totalVariation, uniformAttention } from '../analysis/distance';
import { headStats } from '../analysis/head-stats';
import { headScores, tokenFlags } from '../analysis/scores';
import type { LayerAttention, Token } from '../types';
import type { AgreementRow, DistanceRow, HeadRow, MethodScores, SampleSpread } from './result';
import { AGREEMENT_BASELINE_SAMPLES, RANDOM_ID, RECENCY_ID, rankingSamples, recencyScores } from './baseline';
import { quantile } from './summary';

/** The entries of `scores` at candidate positions. */
export function atCandidates(scores: readonly number[], candidates: readonly boolean[]): number[] {
  return scores.filter((_, i) => candidates[i]);
}

/** Methods whose scores are (unnormalised) distributions: JSD/TVD apply. */
export const DISTRIBUTION_KINDS: readonly string[] = ['attention', 'norm', 'mixing', 'baseline'];

const scored = (methods: readonly MethodScores[]) => methods.filter((m) => m.scores.length > 0);

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** 0 for a value within rounding of it: these measures lie in [−1, 1], where a mean of +τ and −τ over random orders, or
 *  the JSD of two equal distributions, leaves ~1e-17 (printed as −3.3e-18, "−0.000") where the exact value is 0. */
const residueToZero = (x: number) => (Math.abs(x) < 1e-12 ? 0 : x);

/** Sample standard deviation and 2.5th–97.5th percentiles of the finite values (NaN when there are none). */
export function sampleSpread(values: readonly number[]): SampleSpread {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const m = xs.length ? mean(xs) : NaN;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1)) : NaN;
  return { sd, lo: quantile(xs, 0.025), hi: quantile(xs, 0.975) };
}

/** Agreement of every pair of scored methods over the candidates; k of top-k is min(topK, candidates). A pair with
 * the baseline averages over its random orders. */
export function agreementTable(
  methods: readonly MethodScores[],
  candidates: readonly boolean[],
  topK = 5,
  baselineSamples = AGREEMENT_BASELINE_SAMPLES,
): AgreementRow[] {
  const ms = scored(methods).map((m) => ({
    id: m.id,
    samples: rankingSamples(m.id, m.scores, candidates, baselineSamples).map((s) => atCandidates(s, candidates)),
  }));
  const rows: AgreementRow[] = [];
  const n = candidates.filter(Boolean).length;
  const k = Math.min(topK, n);
  // Not shown: k ≥ the candidates (both top-k sets are all of them: an overlap of 1 by construction), or a ranking of
  // equal scores (its top k would be its first tokens; τ and ρ are undefined there too).
  const constant = (x: number[]) => x.every((v) => v === x[0]);
  const metrics = (a: number[], b: number[]) => ({
    kendall: n >= 2 ? kendallTau(a, b) : NaN,
    spearman: n >= 2 ? spearmanRho(a, b) : NaN,
    topK: k >= 1 && k < n && !constant(a) && !constant(b) ? topKOverlap(a, b, k) : NaN,
  });
  const row = (a: string, b: string, aSamples: number[][], bSamples: number[][], withSpread: boolean) => {
    const values = aSamples.flatMap((x) => bSamples.map((y) => metrics(x, y)));
    const r: AgreementRow = {
      a,
      b,
      kendall: residueToZero(mean(values.map((v) => v.kendall))),
      spearman: residueToZero(mean(values.map((v) => v.spearman))),
      topK: residueToZero(mean(values.map((v) => v.topK))),
      k,
    };
    if (withSpread)
      r.spread = {
        kendall: sampleSpread(values.map((v) => v.kendall)),
        spearman: sampleSpread(values.map((v) => v.spearman)),
        topK: sampleSpread(values.map((v) => v.topK)),
      };
    return r;
  };
  for (let i = 0; i < ms.length; i++)
    for (let j = i + 1; j < ms.length; j++) rows.push(row(ms[i].id, ms[j].id, ms[i].samples, ms[j].samples, false));
  // The recency and random baselines against every method that is not a baseline itself.
  const recency = [atCandidates(recencyScores(candidates), candidates)];
  const random = rankingSamples(RANDOM_ID, [], candidates, baselineSamples).map((s) => atCandidates(s, candidates));
  for (const [i, m] of scored(methods).entries()) {
    if (m.kind === 'baseline') continue;
    rows.push(row(m.id, RECENCY_ID, ms[i].samples, recency, false));
    rows.push(row(m.id, RANDOM_ID, ms[i].samples, random, true));
  }
  return rows;
}

/** True when the scores over the candidates are non-negative with a positive sum. */
function isDistribution(scores: readonly number[]): boolean {
  let sum = 0;
  for (const x of scores) {
    if (!(x >= 0)) return false;
    sum += x;
  }
  return sum > 0;
}

/** JSD (bits) and TVD between every pair of distribution-valued methods, normalised over the candidates; none below
 *  two candidates (every distribution over one candidate is [1]: a distance of 0 by construction). */
export function distanceTable(methods: readonly MethodScores[], candidates: readonly boolean[]): DistanceRow[] {
  if (candidates.filter(Boolean).length < 2) return [];
  const ms = scored(methods)
    .filter((m) => DISTRIBUTION_KINDS.includes(m.kind))
    .map((m) => ({ id: m.id, p: atCandidates(m.scores, candidates) }))
    .filter((m) => isDistribution(m.p));
  const rows: DistanceRow[] = [];
  for (let i = 0; i < ms.length; i++)
    for (let j = i + 1; j < ms.length; j++)
      rows.push({
        a: ms[i].id,
        b: ms[j].id,
        jsd: residueToZero(jsDivergence(ms[i].p, ms[j].p, 2)),
        tvd: residueToZero(totalVariation(ms[i].p, ms[j].p)),
      });
  return rows;
}

/** Per layer: every head's statistics, then the same statistics of uniform attention (head −1). */
export function headTable(layers: readonly LayerAttention[], tokens: readonly Token[]): HeadRow[] {
  const flags = tokenFlags(tokens);
  const rows: HeadRow[] = [];
  for (const layer of layers) {
    const uniformLayer: LayerAttention = {
      ...layer,
      heads: 1,
      data: Float32Array.from(uniformAttention(layer.queryLength, layer.keyLength, layer.kind === 'causal')),
    };
    for (const [l, headOffset] of [
      [layer, 0],
      [uniformLayer, -1],
    ] as const) {
      const stats = headStats(l);
      const scores = headScores(l, flags);
      const jsd = divergenceFromUniform(l, 2);
      for (let h = 0; h < l.heads; h++) {
        rows.push({
          layer: layer.layer,
          head: headOffset === -1 ? -1 : h,
          entropy: stats[h].meanEntropy,
          specialShare: scores[h].specialShare,
          punctuationShare: scores[h].punctuationShare,
          previousToken: scores[h].previousToken,
          meanDistance: scores[h].meanDistance,
          jsdUniform: jsd[h],
        });
      }
    }
  }
  return rows;
}
