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
import type { AgreementRow, DistanceRow, HeadRow, MethodScores } from './result';
import { AGREEMENT_BASELINE_SAMPLES, rankingSamples } from './baseline';

/** The entries of `scores` at candidate positions. */
export function atCandidates(scores: readonly number[], candidates: readonly boolean[]): number[] {
  return scores.filter((_, i) => candidates[i]);
}

/** Methods whose scores are (unnormalised) distributions: JSD/TVD apply. */
export const DISTRIBUTION_KINDS: readonly string[] = ['attention', 'norm', 'baseline'];

const scored = (methods: readonly MethodScores[]) => methods.filter((m) => m.scores.length > 0);

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

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
  for (let i = 0; i < ms.length; i++) {
    for (let j = i + 1; j < ms.length; j++) {
      const pairs = ms[i].samples.flatMap((a) => ms[j].samples.map((b) => [a, b] as const));
      const over = (f: (a: number[], b: number[]) => number) => mean(pairs.map(([a, b]) => f(a, b)));
      rows.push({
        a: ms[i].id,
        b: ms[j].id,
        kendall: n >= 2 ? over(kendallTau) : NaN,
        spearman: n >= 2 ? over(spearmanRho) : NaN,
        topK: k >= 1 ? over((a, b) => topKOverlap(a, b, k)) : NaN,
        k,
      });
    }
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

/** JSD (bits) and TVD between every pair of distribution-valued methods, normalised over the candidates. */
export function distanceTable(methods: readonly MethodScores[], candidates: readonly boolean[]): DistanceRow[] {
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
        jsd: jsDivergence(ms[i].p, ms[j].p, 2),
        tvd: totalVariation(ms[i].p, ms[j].p),
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
