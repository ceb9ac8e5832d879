// The model-randomisation sanity check's numbers (Adebayo et al. 2018): each method's ranking of the candidate
// tokens on the trained model against its ranking on the same input with the top layers re-initialised
// (runtime/models/randomize-layers.ts), by Spearman ρ per example. A method whose ρ stays near 1 does not depend on
// what those layers learned; one that explains the model should fall towards 0. Pure.
import { spearmanRho } from '../analysis/agreement';
import type { ExplainResult } from './result';
import { atCandidates } from './compare';
import { spread, type Spread } from './summary';

export interface SanityCheck {
  /** Top layers re-initialised, and the seed. */
  layers: number;
  seed: number;
  /** Encoder–decoders: the top `layers` of both stacks were randomised. */
  stacks?: 'encoder+decoder';
  /** Per method: Spearman ρ of its scores on the trained and the randomised model, across examples. */
  methods: { id: string; spearman: Spread }[];
}

/** ρ per method over pairs of results of the same examples (original[i] and randomized[i]); baselines left out. */
export function sanityCheck(
  original: readonly ExplainResult[],
  randomized: readonly ExplainResult[],
  layers: number,
  seed: number,
): SanityCheck {
  if (original.length !== randomized.length)
    throw new RangeError(`${original.length} original results, ${randomized.length} randomised`);
  const ids = [...new Set(original.flatMap((r) => r.methods.filter((m) => m.kind !== 'baseline').map((m) => m.id)))];
  return {
    layers,
    seed,
    methods: ids.map((id) => ({
      id,
      spearman: spread(
        original.map((r, i) => {
          const a = r.methods.find((m) => m.id === id);
          const b = randomized[i].methods.find((m) => m.id === id);
          if (!a?.scores.length || !b?.scores.length || a.scores.length !== b.scores.length) return NaN;
          const c = r.candidates;
          return c.filter(Boolean).length >= 2
            ? spearmanRho(atCandidates(a.scores, c), atCandidates(b.scores, c))
            : NaN;
        }),
      ),
    })),
  };
}
