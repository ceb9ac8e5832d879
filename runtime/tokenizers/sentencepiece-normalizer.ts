// sentencepiece's Normalizer (normalizer.cc), ported byte for byte: user-defined symbols are kept as they are, other
// text goes through the longest matching rule of the precompiled charsmap (nmt_nfkc, nfkc...), leading, trailing and
// repeated spaces are dropped (remove_extra_whitespaces), spaces become ▁ (escape_whitespaces) and a ▁ is prepended
// (add_dummy_prefix). Its output keeps sentencepiece's norm_to_orig alignment, in UTF-16 code units: a normalized
// character starts where the original text it came from starts, and ends where the next original text that produced
// other characters starts (so a token also covers the characters normalization deleted after it, as in sentencepiece).
// The one difference: a token that ends inside the expansion of one original character (the "f" of "ﬁ" → "fi")
// ends after that character, where sentencepiece would give it an empty or shortened span.
import { NormalizedText } from './normalized-text';
import type { PrecompiledCharsMap } from './precompiled-charsmap';
import { utf8Bytes } from './unicode';

export const SPACE_SYMBOL = '\u2581';

export interface SpmNormalizerOptions {
  charsMap: PrecompiledCharsMap | null;
  /** USER_DEFINED pieces: matched first (longest) and never normalized. */
  userDefined: string[];
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
  treatWhitespaceAsSuffix: boolean;
}

/** Longest-match lookup of byte strings (sentencepiece's PrefixMatcher over the user-defined symbols). */
export class BytePrefixMatcher {
  private readonly byFirst = new Map<number, Uint8Array[]>();

  constructor(symbols: string[]) {
    const enc = new TextEncoder();
    for (const s of symbols) {
      const b = enc.encode(s);
      if (b.length === 0) continue;
      const list = this.byFirst.get(b[0]) ?? [];
      list.push(b);
      this.byFirst.set(b[0], list);
    }
    for (const list of this.byFirst.values()) list.sort((a, b) => b.length - a.length);
  }

  get empty(): boolean {
    return this.byFirst.size === 0;
  }

  /** Length in bytes of the longest symbol at bytes[pos, end), or 0. */
  match(bytes: Uint8Array, pos: number, end: number): number {
    const list = this.byFirst.get(bytes[pos]);
    if (!list) return 0;
    for (const s of list) {
      if (pos + s.length > end) continue;
      let k = 1;
      while (k < s.length && bytes[pos + k] === s[k]) k++;
      if (k === s.length) return s.length;
    }
    return 0;
  }
}

/** The original text as UTF-8 bytes, with the original UTF-16 position of every byte. */
interface Utf8Text {
  bytes: Uint8Array;
  /** Char index (into the NormalizedText) of each byte. */
  charOf: Int32Array;
  /** First byte of each char. */
  byteOf: Int32Array;
}

function toUtf8(t: NormalizedText): Utf8Text {
  let total = 0;
  const perChar = t.chars.map((c) => utf8Bytes(c));
  for (const b of perChar) total += b.length;
  const bytes = new Uint8Array(total);
  const charOf = new Int32Array(total);
  const byteOf = new Int32Array(t.length);
  let p = 0;
  perChar.forEach((b, i) => {
    byteOf[i] = p;
    for (const x of b) {
      charOf[p] = i;
      bytes[p++] = x;
    }
  });
  return { bytes, charOf, byteOf };
}

/** Builds sentencepiece's normalizer; the result maps aligned original text to aligned normalized text. */
export function sentencePieceNormalizer(o: SpmNormalizerOptions): (text: NormalizedText) => NormalizedText {
  const userDefined = new BytePrefixMatcher(o.userDefined);
  const space = o.escapeWhitespaces ? SPACE_SYMBOL : ' ';
  const dec = new TextDecoder();

  return (text) => {
    if (text.length === 0) return text;
    const { bytes, charOf, byteOf } = toUtf8(text);
    const size = bytes.length;
    const textEnd = text.ends[text.length - 1];
    /** Original UTF-16 position of a byte position. */
    const orig = (p: number): number => (p >= size ? textEnd : text.starts[charOf[p]]);

    /** NormalizePrefix: [normalized string, bytes consumed]. */
    const prefix = (p: number): [string, number] => {
      const ud = userDefined.empty ? 0 : userDefined.match(bytes, p, size);
      if (ud > 0) return [dec.decode(bytes.subarray(p, p + ud)), ud];
      const m = o.charsMap?.longest(bytes, p, size);
      if (m) return [m.replacement, m.length];
      const ci = charOf[p];
      if (byteOf[ci] !== p) return ['\ufffd', 1];
      const ch = text.chars[ci];
      const cp = ch.codePointAt(0) ?? 0;
      return [cp >= 0xd800 && cp <= 0xdfff ? '\ufffd' : ch, utf8Bytes(ch).length];
    };

    let pos = 0;
    if (o.removeExtraWhitespaces) {
      while (pos < size) {
        const [s, n] = prefix(pos);
        if (s !== ' ') break;
        pos += n;
      }
    }
    if (pos >= size) return new NormalizedText([], [], []);

    const chars: string[] = [];
    const starts: number[] = [];
    const addSpace = (): void => {
      chars.push(space);
      starts.push(orig(pos));
    };
    if (!o.treatWhitespaceAsSuffix && o.addDummyPrefix) addSpace();

    let prevSpace = o.removeExtraWhitespaces;
    while (pos < size) {
      const [s, n] = prefix(pos);
      let sp = s;
      if (prevSpace) {
        let k = 0;
        while (k < sp.length && sp.charCodeAt(k) === 32) k++;
        sp = sp.slice(k);
      }
      if (sp.length > 0) {
        const at = orig(pos);
        for (const ch of sp) {
          chars.push(ch === ' ' && o.escapeWhitespaces ? SPACE_SYMBOL : ch);
          starts.push(at);
        }
        prevSpace = sp.charCodeAt(sp.length - 1) === 32;
      }
      pos += n;
      if (!o.removeExtraWhitespaces) prevSpace = false;
    }
    let final = orig(size);
    if (o.removeExtraWhitespaces) {
      while (chars.length > 0 && chars[chars.length - 1] === space) {
        final = starts[starts.length - 1];
        chars.pop();
        starts.pop();
      }
    }
    if (o.treatWhitespaceAsSuffix && o.addDummyPrefix) {
      chars.push(space);
      starts.push(final);
    }
    // A character ends where the next character coming from other original text starts.
    const ends = new Array<number>(chars.length);
    for (let i = chars.length - 1; i >= 0; i--) {
      ends[i] = i === chars.length - 1 ? final : starts[i + 1] !== starts[i] ? starts[i + 1] : ends[i + 1];
    }
    return new NormalizedText(chars, starts, ends);
  };
}
