// Words, not only subwords: a reader thinks of "unbelievable", not of "un", "##believ", "##able". This module
// groups a run's tokens into words and aggregates each method's token scores per word (the sum, or the max), for
// the explain result's `words` option, the CLI's --words and the Explain view. Pure.
//
// A token starts a new word when it is special (or follows one), when the text has a gap before it (whitespace
// between the previous token's end and its start), when its own characters start with whitespace, when its
// vocabulary string starts with a word marker (Ġ, ▁) or, in a WordPiece vocabulary, does not start with the
// continuation mark ##, or when it or the
// token before it is punctuation only (punctuation is a word of its own, as the pre-tokenizers of BERT and GPT-2 cut
// it). Without the text, the vocabulary strings decide alone. Whatever those rules say, a token that begins inside
// the previous token's span (the bytes of one character, as byte-level BPE splits an emoji or a CJK character) or
// inside a character cluster begun before it (an emoji with its skin tone, variation selector or joined emoji, a
// letter with a combining mark) continues the word: a reader sees one character.
import type { Token } from '../types';
import type { ExplainResult } from './result';

export type WordAggregation = 'sum' | 'max';
export const WORD_AGGREGATIONS: readonly WordAggregation[] = ['sum', 'max'];

export interface Word {
  /** The word as it reads: its characters in the text, else its tokens' strings without the markers. */
  text: string;
  /** Indices of its tokens, in order. */
  tokens: number[];
  /** True when every token of the word is special. */
  special: boolean;
}

export interface WordScores {
  aggregation: WordAggregation;
  words: Word[];
  /** [words]: true when any token of the word is a candidate. */
  candidates: boolean[];
  /** Per method that gave scores: one score per word. */
  methods: { id: string; scores: number[] }[];
}

const PUNCTUATION = /^[\p{P}\p{S}]+$/u;
const MARKER = /^[ĠĊ▁]/;

/** The characters a token reads as: its span of the text, else its vocabulary string without word markers. */
function tokenChars(t: Token, text: string | undefined): string {
  if (text !== undefined && t.start !== null && t.end !== null) return text.slice(t.start, t.end);
  return t.text.replace(/^##/, '').replace(MARKER, ' ');
}

/** Offsets in `text` where a user-perceived character (a grapheme cluster) begins, and its end. */
function clusterStarts(text: string): Set<number> {
  const starts = new Set<number>([text.length]);
  for (const g of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)) starts.add(g.index);
  return starts;
}

/** The tokens grouped into words (see the header for the rule). */
export function wordGroups(tokens: readonly Token[], text?: string): Word[] {
  const words: Word[] = [];
  const clusters = text === undefined ? undefined : clusterStarts(text);
  // WordPiece marks continuations (##), not starts: there every other token starts a word.
  const wordPiece = tokens.some((t) => t.text.startsWith('##'));
  let prev: Token | undefined;
  for (const [i, t] of tokens.entries()) {
    const chars = tokenChars(t, text);
    const core = chars.trim();
    const prevCore = prev ? tokenChars(prev, text).trim() : '';
    const gap =
      prev !== undefined &&
      text !== undefined &&
      prev.end !== null &&
      t.start !== null &&
      /\s/.test(text.slice(prev.end, t.start));
    // inside the previous token's character or character cluster
    const inside =
      prev !== undefined &&
      clusters !== undefined &&
      prev.end !== null &&
      t.start !== null &&
      (t.start < prev.end || !clusters.has(t.start));
    const starts =
      prev === undefined ||
      t.special ||
      prev.special ||
      (!inside &&
        (gap ||
          /^\s/.test(chars) ||
          MARKER.test(t.text) ||
          (wordPiece && !t.text.startsWith('##')) ||
          (core !== '' && PUNCTUATION.test(core)) ||
          (prevCore !== '' && PUNCTUATION.test(prevCore))));
    if (starts) words.push({ text: '', tokens: [i], special: t.special });
    else {
      const w = words[words.length - 1];
      w.tokens.push(i);
      w.special = w.special && t.special;
    }
    prev = t;
  }
  for (const w of words) {
    const first = tokens[w.tokens[0]];
    const last = tokens[w.tokens[w.tokens.length - 1]];
    w.text =
      text !== undefined && first.start !== null && last.end !== null
        ? text.slice(first.start, last.end).trim()
        : w.tokens
            .map((i) => tokenChars(tokens[i], undefined))
            .join('')
            .trim() || first.text;
  }
  return words;
}

/** One score per word: the sum or the max of its tokens' scores. [words] */
export function aggregateWords(scores: readonly number[], words: readonly Word[], how: WordAggregation): number[] {
  return words.map((w) => {
    const xs = w.tokens.map((i) => scores[i]);
    return how === 'sum' ? xs.reduce((s, x) => s + x, 0) : Math.max(...xs);
  });
}

/** Every scored method's word scores. */
export function wordScores(
  tokens: readonly Token[],
  candidates: readonly boolean[],
  methods: readonly { id: string; scores: readonly number[] }[],
  how: WordAggregation,
  text?: string,
): WordScores {
  const words = wordGroups(tokens, text);
  return {
    aggregation: how,
    words,
    candidates: words.map((w) => w.tokens.some((i) => candidates[i])),
    methods: methods
      .filter((m) => m.scores.length === tokens.length)
      .map((m) => ({ id: m.id, scores: aggregateWords(m.scores, words, how) })),
  };
}

/** The result as the token strip draws it per word: each word a token (its text, its span, special when all its
 * tokens are), its candidates and every method's word scores (a method without scores keeps none). */
export function wordLevelResult(r: ExplainResult, how: WordAggregation, text?: string): ExplainResult {
  const ws = wordScores(r.tokens, r.candidates, r.methods, how, text);
  const tokens: Token[] = ws.words.map((w) => {
    const first = r.tokens[w.tokens[0]];
    const last = r.tokens[w.tokens[w.tokens.length - 1]];
    return { id: first.id, text: w.text, start: first.start, end: last.end, special: w.special };
  });
  return {
    ...r,
    tokens,
    candidates: ws.candidates,
    methods: r.methods.map((m) => ({ ...m, scores: ws.methods.find((x) => x.id === m.id)?.scores ?? [] })),
    words: ws,
  };
}
