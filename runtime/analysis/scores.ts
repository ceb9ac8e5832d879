// Per-head statistics of one layer beyond entropy (head-stats.ts), for small-multiple views and sorting heads by
// behaviour: how much a head attends to special tokens ([CLS], [SEP], BOS — "attention sinks") and to punctuation,
// how much it looks at the previous token, and how far back or ahead it looks on average (Clark et al. 2019).
// All are means over query rows of one head's [query, key] matrix.
import type { LayerAttention, Token } from '../types';

export interface HeadScores {
  head: number;
  /** Mean over queries of Σ_{j special} A[i, j]: share of attention to special tokens, in [0, 1]. */
  specialShare: number;
  /** Mean over queries of Σ_{j punctuation} A[i, j], in [0, 1]. */
  punctuationShare: number;
  /** Mean over queries i ≥ 1 of A[i, i − 1]; NaN for fewer than 2 queries or cross-attention. */
  previousToken: number;
  /** Mean over queries of Σ_j A[i, j]·|i − j|, in tokens; NaN for cross-attention. */
  meanDistance: number;
}

export interface TokenFlags {
  /** [key]: true for special tokens (CLS, SEP, BOS, ...). */
  special: readonly boolean[];
  /** [key]: true for punctuation tokens. */
  punctuation: readonly boolean[];
}

/** Subword markers stripped before judging a token: GPT-2 'Ġ' (space) and 'Ċ' (newline), sentencepiece '▁', '##'. */
const MARKERS = /^(?:##|[Ġ▁Ċ])+/u;
const PUNCTUATION = /^[\p{P}\p{S}]+$/u;

/** True when a token's text, without subword markers, is non-empty and only punctuation or symbols. */
export function isPunctuation(text: string): boolean {
  const bare = text.replace(MARKERS, '');
  return bare.length > 0 && PUNCTUATION.test(bare);
}

/** Flags for every token of an input: special from the tokenizer, punctuation from the token text. */
export function tokenFlags(tokens: readonly Token[]): TokenFlags {
  return {
    special: tokens.map((t) => t.special),
    punctuation: tokens.map((t) => !t.special && isPunctuation(t.text)),
  };
}

/** The scores of every head of one layer; data is [heads, query, key]. */
export function headScores(layer: LayerAttention, flags: TokenFlags): HeadScores[] {
  const { heads, queryLength: nq, keyLength: nk, data } = layer;
  if (data.length !== heads * nq * nk) {
    throw new RangeError(`attention data has ${data.length} values; expected ${heads}×${nq}×${nk}`);
  }
  if (flags.special.length !== nk || flags.punctuation.length !== nk) {
    throw new RangeError(
      `token flags have ${flags.special.length}/${flags.punctuation.length} entries; expected ${nk}`,
    );
  }
  const aligned = layer.kind !== 'cross';
  // With a cached prefix (fewer queries than keys) query i sits at key position i + offset.
  const offset = aligned ? nk - nq : 0;
  const out: HeadScores[] = [];
  for (let h = 0; h < heads; h++) {
    let special = 0;
    let punctuation = 0;
    let previous = 0;
    let previousRows = 0;
    let distance = 0;
    for (let q = 0; q < nq; q++) {
      const row = (h * nq + q) * nk; // offset of [h, q, 0]
      const pos = q + offset;
      for (let k = 0; k < nk; k++) {
        const a = data[row + k];
        if (flags.special[k]) special += a;
        if (flags.punctuation[k]) punctuation += a;
        distance += a * Math.abs(pos - k);
      }
      if (pos >= 1 && pos - 1 < nk) {
        previous += data[row + pos - 1];
        previousRows++;
      }
    }
    out.push({
      head: h,
      specialShare: nq > 0 ? special / nq : NaN,
      punctuationShare: nq > 0 ? punctuation / nq : NaN,
      previousToken: aligned && previousRows > 0 ? previous / previousRows : NaN,
      meanDistance: aligned && nq > 0 ? distance / nq : NaN,
    });
  }
  return out;
}
