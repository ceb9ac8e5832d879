// Pre-tokenizers of tokenizer.json (BertPreTokenizer, ByteLevel, Metaspace, Whitespace, WhitespaceSplit, Split,
// Punctuation, Digits, Sequence): they cut aligned text into words, and ByteLevel maps each word's characters to
// GPT-2's byte characters, every byte keeping the span of the character it came from.
import { charMatches, NormalizedText, regexMatches, splitAt, type SplitBehavior } from './normalized-text';
import { asObject, badTokenizer, unsupported } from './errors';
import { patternToRegExp } from './normalizers';
import { BYTE_TO_CHAR, isBertPunctuation, isWhitespace, utf8Bytes } from './unicode';

export type PreTokenizer = (words: NormalizedText[]) => NormalizedText[];

/** GPT-2's split regex, with \s as the Unicode White_Space property (what Oniguruma, used by HF, means by \s). */
export const GPT2_PATTERN =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

const each =
  (fn: (w: NormalizedText) => NormalizedText[]): PreTokenizer =>
  (words) =>
    words.flatMap(fn);

/** BERT: split on whitespace (dropped), then isolate every punctuation character. */
export const bertPreTokenizer: PreTokenizer = each((w) =>
  splitAt(w, charMatches(w, isWhitespace), 'Removed').flatMap((p) =>
    splitAt(p, charMatches(p, isBertPunctuation), 'Isolated'),
  ),
);

export const whitespaceSplit: PreTokenizer = each((w) => splitAt(w, charMatches(w, isWhitespace), 'Removed'));

/** Maps a word's characters to byte characters (GPT-2's bytes_to_unicode); each byte keeps its character's span. */
export function toByteChars(w: NormalizedText): NormalizedText {
  const chars: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < w.length; i++) {
    for (const b of utf8Bytes(w.chars[i])) {
      chars.push(BYTE_TO_CHAR[b]);
      starts.push(w.starts[i]);
      ends.push(w.ends[i]);
    }
  }
  return new NormalizedText(chars, starts, ends);
}

export function byteLevel(addPrefixSpace: boolean, useRegex: boolean): PreTokenizer {
  return each((w) => {
    const t = addPrefixSpace && w.chars[0] !== ' ' ? w.prepend(' ') : w;
    const pieces = useRegex ? splitAt(t, regexMatches(t, GPT2_PATTERN), 'Isolated') : [t];
    return pieces.map(toByteChars);
  });
}

export type PrependScheme = 'always' | 'first' | 'never';

export function metaspace(replacement: string, scheme: PrependScheme, split: boolean): PreTokenizer {
  return each((w) => {
    let t = w.mapChars((ch) => (ch === ' ' ? replacement : ch));
    const needs = t.length > 0 && t.chars[0] !== replacement;
    if (needs && (scheme === 'always' || (scheme === 'first' && t.starts[0] === 0))) t = t.prepend(replacement);
    return split
      ? splitAt(
          t,
          charMatches(t, (ch) => ch === replacement),
          'MergedWithNext',
        )
      : [t];
  });
}

function behaviorOf(v: unknown, source: string): SplitBehavior {
  const ok = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];
  if (typeof v === 'string' && ok.includes(v)) return v as SplitBehavior;
  throw badTokenizer(source, `unknown split behavior "${String(v)}"`);
}

function splitPattern(re: RegExp, behavior: SplitBehavior, invert: boolean): PreTokenizer {
  return each((w) => {
    const m = regexMatches(w, re);
    if (!invert) return splitAt(w, m, behavior);
    // Inverted: the spans between matches are the delimiters.
    const gaps: [number, number][] = [];
    let last = 0;
    for (const [s, e] of m) {
      if (s > last) gaps.push([last, s]);
      last = e;
    }
    if (last < w.length) gaps.push([last, w.length]);
    return splitAt(w, gaps, behavior);
  });
}

const WORD = /\p{L}|\p{N}|\p{M}|\p{Pc}/u;

/** Builds the pre-tokenizer of a tokenizer.json "pre_tokenizer" entry (null → the whole text is one word). */
export function preTokenizerFromJson(json: unknown, source: string): PreTokenizer | null {
  if (json === null || json === undefined) return null;
  const o = asObject(json);
  if (!o) throw badTokenizer(source, '"pre_tokenizer" is not an object');
  switch (o.type) {
    case 'BertPreTokenizer':
      return bertPreTokenizer;
    case 'WhitespaceSplit':
      return whitespaceSplit;
    case 'Whitespace':
      return each((w) =>
        splitAt(w, charMatches(w, isWhitespace), 'Removed').flatMap((p) =>
          splitAt(
            p,
            charMatches(p, (ch) => WORD.test(ch)),
            'Contiguous',
          ),
        ),
      );
    case 'ByteLevel':
      return byteLevel(o.add_prefix_space === true, o.use_regex !== false);
    case 'Metaspace': {
      const rep = typeof o.replacement === 'string' ? o.replacement : '▁';
      let scheme: PrependScheme = 'always';
      if (o.prepend_scheme === 'first' || o.prepend_scheme === 'never' || o.prepend_scheme === 'always') {
        scheme = o.prepend_scheme;
      } else if (o.add_prefix_space === false) scheme = 'never';
      return metaspace(rep, scheme, o.split !== false);
    }
    case 'Split':
      return splitPattern(
        patternToRegExp(o.pattern, source, 'pre-tokenizer'),
        behaviorOf(o.behavior, source),
        o.invert === true,
      );
    case 'Punctuation':
      return each((w) => splitAt(w, charMatches(w, isBertPunctuation), behaviorOf(o.behavior ?? 'Isolated', source)));
    case 'Digits': {
      const individual = o.individual_digits === true;
      return each((w) =>
        splitAt(
          w,
          charMatches(w, (ch) => /^\p{N}$/u.test(ch)),
          individual ? 'Isolated' : 'Contiguous',
        ),
      );
    }
    case 'Sequence': {
      if (!Array.isArray(o.pretokenizers))
        throw badTokenizer(source, 'a Sequence pre-tokenizer has no "pretokenizers"');
      const parts = o.pretokenizers.map((p) => preTokenizerFromJson(p, source)).filter((p): p is PreTokenizer => !!p);
      return (words) => parts.reduce((acc, p) => p(acc), words);
    }
    default:
      throw unsupported(source, 'pre-tokenizer', o.type);
  }
}

/** True when the pre-tokenizer description contains a ByteLevel step. */
export function hasByteLevel(json: unknown): boolean {
  const o = asObject(json);
  if (!o) return false;
  if (o.type === 'ByteLevel') return true;
  return Array.isArray(o.pretokenizers) && o.pretokenizers.some(hasByteLevel);
}
