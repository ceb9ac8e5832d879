// The baselines of every table, so that a method's numbers can be read against what needs no model at all.
//   uniform  uniform attention over what the target may see (the registry's 'uniform' method): a distribution, so
//            JSD/TVD against it say how far a method is from attending to everything. As a ranking it carries no
//            information (all scores equal), so wherever a table needs a ranking — agreement, faithfulness,
//            erasure — its row is the mean over a few seeded random orders of the candidate tokens: the chance
//            level (ranking its equal scores by position would measure "left to right" instead).
//   recency  score = position (the later a token, the more important): a ranking with no model in it that, on
//            causal LMs, often agrees with leave-one-out better than attention does — so users see it.
//   random   seeded random orders of the candidates, as the uniform row's ranking, reported with its spread over
//            the seeds (standard deviation, 2.5th–97.5th percentile), so a method's agreement can be read against
//            what chance gives on this input.
// The recency and random rows are added to the agreement table only (compare.ts), against every method that is
// not itself a baseline.

import { mulberry32 } from '../random';

export const BASELINE_ID = 'uniform';
export const RECENCY_ID = 'recency';
export const RANDOM_ID = 'random';
/** Ids of the agreement table's baseline columns beside the uniform method. */
export const AGREEMENT_BASELINES: readonly string[] = [RECENCY_ID, RANDOM_ID];

/** Random orders averaged for a baseline row that costs model passes (faithfulness, erasure). */
export const BASELINE_SAMPLES = 5;
/** Random orders averaged for the baseline's agreement (no model passes, so many: the chance level ± ~0.02). */
export const AGREEMENT_BASELINE_SAMPLES = 100;

/** Scores that rank the candidates in a random order (seeded); 0 elsewhere. [seq] */
export function randomOrderScores(candidates: readonly boolean[], seed: number): number[] {
  const rand = mulberry32(seed);
  return candidates.map((c) => (c ? 1 + rand() : 0));
}

/** The recency baseline: score = position + 1 at the candidates (later is more important); 0 elsewhere. [seq] */
export function recencyScores(candidates: readonly boolean[]): number[] {
  return candidates.map((c, i) => (c ? i + 1 : 0));
}

/** True when `scores` give every one of two or more candidates the same value: they rank nothing (a tie broken by
 *  position would be read as a ranking). */
export function constantOverCandidates(scores: readonly number[], candidates: readonly boolean[]): boolean {
  let first: number | undefined;
  let n = 0;
  for (let i = 0; i < candidates.length; i++) {
    if (!candidates[i]) continue;
    n++;
    if (first === undefined) first = scores[i];
    else if (scores[i] !== first) return false;
  }
  return n > 1;
}

/** The score vectors a ranking table uses for a method: its own, or `samples` random orders for the baseline and,
 *  with `constantAsRandom` (faithfulness, erasure: tables that need an order), for a method whose scores are equal on
 *  every candidate (it ranks nothing, as uniform attention ranks nothing; broken by position, its ties would read as
 *  "first tokens first"). */
export function rankingSamples(
  id: string,
  scores: readonly number[],
  candidates: readonly boolean[],
  samples = BASELINE_SAMPLES,
  constantAsRandom = false,
): number[][] {
  const random =
    id === BASELINE_ID || id === RANDOM_ID || (constantAsRandom && constantOverCandidates(scores, candidates));
  if (!random) return [[...scores]];
  return Array.from({ length: Math.max(1, samples) }, (_, i) => randomOrderScores(candidates, 1 + i));
}
