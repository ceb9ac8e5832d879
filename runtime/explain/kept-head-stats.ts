// The head statistics of a run kept for long inputs, from the summaries its layers' graphs computed (no map: issue
// 15's "head statistics ... come from the summaries"): per head the mean row entropy, the share of attention to
// special tokens, the previous-token score and the mean attended distance — the columns headTable (compare.ts)
// computes from dense maps, equal to them to float32 rounding. Punctuation share and the divergence from uniform
// attention are not in the summaries (NaN: not shown). Each layer's uniform-attention row (head −1) is in closed
// form, so that no n × n array is built at 8,192 tokens either.
import type { KeptLayerOverview } from '../inspector/worker-protocol';
import type { AttentionKind, Token } from '../types';
import type { HeadRow } from './result';

const mean = (a: Float32Array) => {
  let s = 0;
  for (const x of a) s += x;
  return a.length ? s / a.length : NaN;
};

/** The uniform-attention row of a self-attention layer over n tokens (each query spreads over its visible keys). */
export function uniformHeadRow(layer: number, n: number, causal: boolean, specials: readonly boolean[]): HeadRow {
  let entropy = 0;
  let special = 0;
  let previous = 0;
  let distance = 0;
  const specialCount = specials.filter(Boolean).length;
  let specialsSeen = 0;
  for (let i = 0; i < n; i++) {
    if (specials[i]) specialsSeen++;
    const keys = causal ? i + 1 : n; // keys visible to query i
    entropy += Math.log(keys);
    special += (causal ? specialsSeen : specialCount) / keys;
    if (i >= 1) previous += 1 / keys;
    // Σ_j |i − j| over the visible keys, / keys.
    distance += causal ? i / 2 : (i * (i + 1)) / 2 / n + ((n - 1 - i) * (n - i)) / 2 / n;
  }
  return {
    layer,
    head: -1,
    entropy: entropy / n,
    specialShare: special / n,
    punctuationShare: NaN,
    previousToken: n > 1 ? previous / (n - 1) : NaN,
    meanDistance: distance / n,
    jsdUniform: 0,
  };
}

/** Per layer that has arrived: every head's statistics from its summaries, then the layer's uniform row. */
export function keptHeadTable(
  overviews: readonly (KeptLayerOverview | undefined)[],
  kinds: readonly AttentionKind[],
  tokens: readonly Pick<Token, 'special'>[],
): HeadRow[] {
  const specials = tokens.map((t) => t.special);
  const rows: HeadRow[] = [];
  for (const o of overviews) {
    if (!o) continue;
    const causal = kinds[o.layer] === 'causal';
    o.heads.forEach((h, head) =>
      rows.push({
        layer: o.layer,
        head,
        entropy: mean(h.entropy),
        specialShare: mean(h.specialMass),
        punctuationShare: NaN,
        previousToken: o.length > 1 ? h.previousToken : NaN,
        // The summaries keep Σ p·(i − j), signed: |i − j| only where no key follows the query.
        meanDistance: causal ? h.meanDistance : NaN,
        jsdUniform: NaN,
      }),
    );
    rows.push(uniformHeadRow(o.layer, o.length, causal, specials));
  }
  return rows;
}
