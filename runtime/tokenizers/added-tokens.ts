// Added tokens ([CLS], <|endoftext|>, <s>...) found in the text itself: the text is cut on them before
// normalization (tokens marked normalized are looked for in the normalized text instead), leftmost-longest,
// honouring lstrip / rstrip / single_word as HF's AddedVocabulary does.
import type { NormalizedText } from './normalized-text';
import { isWhitespace } from './unicode';

export interface AddedToken {
  id: number;
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** A piece of text: either a found added token or text still to tokenize, as a [start, end) character range. */
export interface Piece {
  start: number;
  end: number;
  token?: AddedToken;
}

const WORD_CHAR = /^[\p{L}\p{N}\p{M}\p{Pc}]$/u;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export class AddedTokenMatcher {
  private readonly re: RegExp | null;
  private readonly byContent = new Map<string, AddedToken>();

  /** `contents` maps each token to the string to look for (its content, normalized when it is normalized). */
  constructor(tokens: { token: AddedToken; look: string }[]) {
    const usable = tokens.filter((t) => t.look.length > 0);
    for (const t of usable) if (!this.byContent.has(t.look)) this.byContent.set(t.look, t.token);
    const alts = [...this.byContent.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.re = alts.length > 0 ? new RegExp(alts.join('|'), 'gu') : null;
  }

  get empty(): boolean {
    return this.re === null;
  }

  /** Cuts aligned text into pieces; character indices refer to `text.chars`. */
  split(text: NormalizedText): Piece[] {
    const n = text.length;
    if (!this.re || n === 0) return n === 0 ? [] : [{ start: 0, end: n }];
    const s = text.toString();
    const map = text.utf16ToCharIndex();
    const found: Piece[] = [];
    let floor = 0;
    for (const m of s.matchAll(this.re)) {
      const token = this.byContent.get(m[0]);
      if (!token) continue;
      let a = map[m.index ?? 0];
      let b = map[(m.index ?? 0) + m[0].length];
      if (a < floor) continue;
      if (token.singleWord) {
        const before = a > 0 ? text.chars[a - 1] : '';
        const after = b < n ? text.chars[b] : '';
        if ((before && WORD_CHAR.test(before)) || (after && WORD_CHAR.test(after))) continue;
      }
      if (token.lstrip) while (a > floor && isWhitespace(text.chars[a - 1])) a--;
      if (token.rstrip) while (b < n && isWhitespace(text.chars[b])) b++;
      found.push({ start: a, end: b, token });
      floor = b;
    }
    const out: Piece[] = [];
    let last = 0;
    for (const f of found) {
      if (f.start > last) out.push({ start: last, end: f.start });
      out.push(f);
      last = f.end;
    }
    if (last < n) out.push({ start: last, end: n });
    return out;
  }
}
