// The uniform-attention baseline of every table. As scores it is uniform attention over what the target may see
// (the registry's 'uniform' method): a distribution, so JSD/TVD against it say how far a method is from attending to
// everything. As a ranking it carries no information (all scores equal), so wherever a table needs a ranking —
// agreement, faithfulness, erasure — the baseline row is the mean over a few seeded random orders of the candidate
// tokens: the chance level (ranking its equal scores by position would measure "left to right" instead).

import { mulberry32 } from '../random';

export const BASELINE_ID = 'uniform';

/** Random orders averaged for a baseline row that costs model passes (faithfulness, erasure). */
export const BASELINE_SAMPLES = 5;
/** Random orders averaged for the baseline's agreement (no model passes, so many: the chance level ± ~0.02). */
export const AGREEMENT_BASELINE_SAMPLES = 100;

/** Scores that rank the candidates in a random order (seeded); 0 elsewhere. [seq] */
export function randomOrderScores(candidates: readonly boolean[], seed: number): number[] {
  const rand = mulberry32(seed);
  return candidates.map((c) => (c ? 1 + rand() : 0));
}

/** The score vectors a ranking table uses for a method: its own, or `samples` random orders for the baseline. */
export function rankingSamples(
  id: string,
  scores: readonly number[],
  candidates: readonly boolean[],
  samples = BASELINE_SAMPLES,
): number[][] {
  if (id !== BASELINE_ID) return [[...scores]];
  return Array.from({ length: Math.max(1, samples) }, (_, i) => randomOrderScores(candidates, 1 + i));
}
