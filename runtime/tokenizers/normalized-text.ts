// Text being normalized, one code point per entry, each entry remembering the [start, end) range it came from in
// the ORIGINAL text in UTF-16 code units. Every normalizer and pre-tokenizer keeps this alignment up to date, so a
// token's offsets are simply the start of its first character and the end of its last (as in HF `tokenizers`).
import { matchSpans } from './tokenizer-regex';

export class NormalizedText {
  constructor(
    /** One code point per entry. */
    readonly chars: string[],
    /** Original start (UTF-16) of each entry. */
    readonly starts: number[],
    /** Original end (UTF-16) of each entry. */
    readonly ends: number[],
  ) {}

  /** The original text[from, to) as a normalized string aligned to itself. */
  static fromOriginal(text: string, from = 0, to = text.length): NormalizedText {
    const chars: string[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    let i = from;
    while (i < to) {
      const c = text.charCodeAt(i);
      const n = c >= 0xd800 && c <= 0xdbff && i + 1 < to && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
      chars.push(text.slice(i, i + n));
      starts.push(i);
      ends.push(i + n);
      i += n;
    }
    return new NormalizedText(chars, starts, ends);
  }

  get length(): number {
    return this.chars.length;
  }

  toString(): string {
    return this.chars.join('');
  }

  slice(from: number, to: number): NormalizedText {
    return new NormalizedText(this.chars.slice(from, to), this.starts.slice(from, to), this.ends.slice(from, to));
  }

  /**
   * Replaces every character by zero or more characters (code points); the new ones all take the alignment of
   * the one they replace (what HF's transform does for a change of 0 followed by insertions).
   */
  mapChars(fn: (ch: string) => string): NormalizedText {
    const chars: string[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    for (let i = 0; i < this.chars.length; i++) {
      const ch = this.chars[i];
      const out = fn(ch);
      if (out === ch) {
        chars.push(ch);
        starts.push(this.starts[i]);
        ends.push(this.ends[i]);
        continue;
      }
      for (const o of out) {
        chars.push(o);
        starts.push(this.starts[i]);
        ends.push(this.ends[i]);
      }
    }
    return new NormalizedText(chars, starts, ends);
  }

  /**
   * HF NormalizedString::transform over the whole text: every output character comes with a change — 0 replaces the
   * next character (and takes its alignment), -N replaces it and drops the N after it (alignment of the first only),
   * +1 is inserted (alignment of the character before it). `initialOffset` characters are dropped at the start.
   */
  transform(changes: [string, number][], initialOffset = 0): NormalizedText {
    const chars: string[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    const n = this.chars.length;
    const first = n > 0 ? this.starts[0] : 0;
    let next = initialOffset;
    for (const [c, change] of changes) {
      let at: number;
      if (change > 0) at = next - 1;
      else {
        at = next;
        next += 1 + (change < 0 ? -change : 0);
      }
      const k = Math.min(at, n - 1);
      chars.push(c);
      starts.push(k < 0 ? first : this.starts[k]);
      ends.push(k < 0 ? first : this.ends[k]);
    }
    return new NormalizedText(chars, starts, ends);
  }

  /** Prepends characters aligned with the first character (HF's prepend); nothing on empty text. */
  prepend(s: string): NormalizedText {
    if (this.chars.length === 0) return this;
    const add = Array.from(s);
    return new NormalizedText(
      [...add, ...this.chars],
      [...add.map(() => this.starts[0]), ...this.starts],
      [...add.map(() => this.ends[0]), ...this.ends],
    );
  }

  /** Maps UTF-16 indices of toString() to character indices (length + 1 entries). */
  utf16ToCharIndex(): Int32Array {
    let total = 0;
    for (const c of this.chars) total += c.length;
    const map = new Int32Array(total + 1);
    let u = 0;
    for (let i = 0; i < this.chars.length; i++) {
      for (let k = 0; k < this.chars[i].length; k++) map[u++] = i;
    }
    map[total] = this.chars.length;
    return map;
  }
}

/** How a split keeps the matched delimiters (HF SplitDelimiterBehavior). */
export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

/** Splits at matches given as [start, end) character ranges (sorted, non-overlapping). Empty pieces are dropped. */
export function splitAt(text: NormalizedText, matches: [number, number][], behavior: SplitBehavior): NormalizedText[] {
  // Every span of the text, flagged as match or not.
  const spans: [number, number, boolean][] = [];
  let last = 0;
  for (const [s, e] of matches) {
    if (s > last) spans.push([last, s, false]);
    if (e > s) spans.push([s, e, true]);
    last = e;
  }
  if (last < text.length) spans.push([last, text.length, false]);

  const pieces: [number, number][] = [];
  let pendingStart = -1; // MergedWithNext: start of a match waiting for the next span
  for (let i = 0; i < spans.length; i++) {
    const [s, e, isMatch] = spans[i];
    switch (behavior) {
      case 'Removed':
        if (!isMatch) pieces.push([s, e]);
        break;
      case 'Isolated':
        pieces.push([s, e]);
        break;
      case 'MergedWithPrevious':
        if (isMatch && pieces.length > 0 && pieces[pieces.length - 1][1] === s && !spans[i - 1][2]) {
          pieces[pieces.length - 1][1] = e;
        } else pieces.push([s, e]);
        break;
      case 'MergedWithNext':
        if (isMatch) {
          if (pendingStart >= 0) pieces.push([pendingStart, s]);
          pendingStart = s;
        } else if (pendingStart >= 0) {
          pieces.push([pendingStart, e]);
          pendingStart = -1;
        } else pieces.push([s, e]);
        break;
      case 'Contiguous':
        if (isMatch && i > 0 && spans[i - 1][2] && pieces.length > 0) pieces[pieces.length - 1][1] = e;
        else pieces.push([s, e]);
        break;
    }
  }
  if (pendingStart >= 0) pieces.push([pendingStart, text.length]);
  return pieces.filter(([s, e]) => e > s).map(([s, e]) => text.slice(s, e));
}

/** Every character matching the predicate is a one-character match. */
export function charMatches(text: NormalizedText, pred: (ch: string) => boolean): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < text.chars.length; i++) if (pred(text.chars[i])) out.push([i, i + 1]);
  return out;
}

/** Matches of a global regular expression, as character ranges (empty matches skipped). */
export function regexMatches(text: NormalizedText, re: RegExp): [number, number][] {
  const s = text.toString();
  const map = text.utf16ToCharIndex();
  const out: [number, number][] = [];
  const spans = matchSpans(re, s);
  for (let i = 0; i < spans.length; i += 2) if (spans[i + 1] > spans[i]) out.push([map[spans[i]], map[spans[i + 1]]]);
  return out;
}
