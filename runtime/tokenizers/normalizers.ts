// Normalizers of tokenizer.json (BertNormalizer, Lowercase, StripAccents, NFD/NFKD/NFC/NFKC, Prepend, Replace,
// Strip, Sequence), each a function on aligned text so that offsets still point into the original text.
import { NormalizedText } from './normalized-text';
import { asObject, badTokenizer, unsupported } from './errors';
import { onigurumaToJs, UntranslatableRegex } from './oniguruma-to-js';
import { isBertControl, isChineseChar, isNonspacingMark, isWhitespace } from './unicode';

export type Normalizer = (text: NormalizedText) => NormalizedText;

export interface BertNormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  /** null: follows lowercase (as in HF). */
  stripAccents: boolean | null;
  lowercase: boolean;
}

const isBertWhitespace = (ch: string): boolean => isWhitespace(ch);

/** HF BertNormalizer: clean_text, handle_chinese_chars, strip_accents (NFD, drop Mn), lowercase, in that order. */
export function bertNormalizer(o: BertNormalizerOptions): Normalizer {
  const strip = o.stripAccents ?? o.lowercase;
  return (text) => {
    let t = text;
    if (o.cleanText) {
      t = t.mapChars((ch) => {
        if (ch === '\0' || ch === '\ufffd' || isBertControl(ch)) return '';
        return isBertWhitespace(ch) ? ' ' : ch;
      });
    }
    if (o.handleChineseChars) t = t.mapChars((ch) => (isChineseChar(ch) ? ` ${ch} ` : ch));
    if (strip) t = stripMarks(nfd(t, 'NFD'));
    if (o.lowercase) t = lowercase(t);
    return t;
  };
}

/** Per-character lowercasing (Rust char::to_lowercase: no context rules such as Greek final sigma). */
function lowercase(t: NormalizedText): NormalizedText {
  return t.mapChars((ch) => (ch.charCodeAt(0) < 128 ? ch.toLowerCase() : lowerChar(ch)));
}

function lowerChar(ch: string): string {
  // A lone character never triggers the final-sigma rule, so toLowerCase per character is context-free.
  return ch.toLowerCase();
}

function nfd(t: NormalizedText, form: 'NFD' | 'NFKD'): NormalizedText {
  return t.mapChars((ch) => (ch.charCodeAt(0) < 128 ? ch : ch.normalize(form)));
}

function stripMarks(t: NormalizedText): NormalizedText {
  return t.mapChars((ch) => (isNonspacingMark(ch) ? '' : ch));
}

/** NFC/NFKC: composes each base character with its following marks; the result spans the whole cluster. */
function composeClusters(t: NormalizedText, form: 'NFC' | 'NFKC'): NormalizedText {
  const chars: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const MARK = /^\p{M}$/u;
  let i = 0;
  while (i < t.length) {
    let j = i + 1;
    while (j < t.length && MARK.test(t.chars[j])) j++;
    const cluster = t.chars.slice(i, j).join('');
    const out = Array.from(cluster.normalize(form));
    if (j === i + 1 && out.length === 1 && out[0] === cluster) {
      chars.push(cluster);
      starts.push(t.starts[i]);
      ends.push(t.ends[i]);
    } else {
      for (const o of out) {
        chars.push(o);
        starts.push(t.starts[i]);
        ends.push(t.ends[j - 1]);
      }
    }
    i = j;
  }
  return new NormalizedText(chars, starts, ends);
}

/** Replaces every occurrence of a pattern; the new characters take the alignment of the last replaced one. */
function replace(pattern: RegExp, content: string): Normalizer {
  const add = Array.from(content);
  return (t) => {
    const s = t.toString();
    const map = t.utf16ToCharIndex();
    const chars: string[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    let last = 0;
    pattern.lastIndex = 0;
    for (const m of s.matchAll(pattern)) {
      const a = map[m.index ?? 0];
      const b = map[(m.index ?? 0) + m[0].length];
      if (b === a) continue;
      for (let k = last; k < a; k++) {
        chars.push(t.chars[k]);
        starts.push(t.starts[k]);
        ends.push(t.ends[k]);
      }
      for (const c of add) {
        chars.push(c);
        starts.push(t.starts[b - 1]);
        ends.push(t.ends[b - 1]);
      }
      last = b;
    }
    for (let k = last; k < t.length; k++) {
      chars.push(t.chars[k]);
      starts.push(t.starts[k]);
      ends.push(t.ends[k]);
    }
    return new NormalizedText(chars, starts, ends);
  };
}

function strip(left: boolean, right: boolean): Normalizer {
  return (t) => {
    let a = 0;
    let b = t.length;
    if (left) while (a < b && isWhitespace(t.chars[a])) a++;
    if (right) while (b > a && isWhitespace(t.chars[b - 1])) b--;
    return a === 0 && b === t.length ? t : t.slice(a, b);
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A tokenizer.json pattern ({String}, or {Regex} in Oniguruma syntax: oniguruma-to-js.ts) as a global,
 * Unicode-aware JS regular expression with the same matches. */
export function patternToRegExp(pattern: unknown, source: string): RegExp {
  const p = asObject(pattern);
  if (p && typeof p.String === 'string') return new RegExp(escapeRegExp(p.String), 'gu');
  if (p && typeof p.Regex === 'string') {
    try {
      return new RegExp(onigurumaToJs(p.Regex), 'gu');
    } catch (e) {
      const why = e instanceof UntranslatableRegex ? e.message : 'is not a valid regular expression';
      throw badTokenizer(source, `the regular expression ${JSON.stringify(p.Regex)} ${why}`);
    }
  }
  throw badTokenizer(source, 'a pattern is neither {"String": ...} nor {"Regex": ...}');
}

function bool(v: unknown, dflt: boolean): boolean {
  return typeof v === 'boolean' ? v : dflt;
}

/** Builds the normalizer of a tokenizer.json "normalizer" entry (null → identity). */
export function normalizerFromJson(json: unknown, source: string): Normalizer | null {
  if (json === null || json === undefined) return null;
  const o = asObject(json);
  if (!o) throw badTokenizer(source, '"normalizer" is not an object');
  switch (o.type) {
    case 'BertNormalizer':
      return bertNormalizer({
        cleanText: bool(o.clean_text, true),
        handleChineseChars: bool(o.handle_chinese_chars, true),
        stripAccents: typeof o.strip_accents === 'boolean' ? o.strip_accents : null,
        lowercase: bool(o.lowercase, true),
      });
    case 'Lowercase':
      return lowercase;
    case 'StripAccents':
      return stripMarks;
    case 'NFD':
      return (t) => nfd(t, 'NFD');
    case 'NFKD':
      return (t) => nfd(t, 'NFKD');
    case 'NFC':
      return (t) => composeClusters(t, 'NFC');
    case 'NFKC':
      return (t) => composeClusters(t, 'NFKC');
    case 'Prepend': {
      const s = typeof o.prepend === 'string' ? o.prepend : '▁';
      return (t) => t.prepend(s);
    }
    case 'Replace':
      return replace(patternToRegExp(o.pattern, source), typeof o.content === 'string' ? o.content : '');
    case 'Strip':
      return strip(bool(o.strip_left, true), bool(o.strip_right, true));
    case 'Sequence': {
      if (!Array.isArray(o.normalizers)) throw badTokenizer(source, 'a Sequence normalizer has no "normalizers" list');
      const parts = o.normalizers.map((n) => normalizerFromJson(n, source)).filter((n): n is Normalizer => !!n);
      return (t) => parts.reduce((acc, n) => n(acc), t);
    }
    default:
      throw unsupported(source, 'normalizer', o.type);
  }
}
