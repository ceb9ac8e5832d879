// Normalizers of tokenizer.json (BertNormalizer, Lowercase, StripAccents, NFD/NFKD/NFC/NFKC, Prepend, Replace,
// Strip, Sequence), each a function on aligned text so that offsets still point into the original text.
import { fromTokenizerFile, matchSpans } from './tokenizer-regex';
import { NormalizedText } from './normalized-text';
import { asObject, badTokenizer, unsupported } from './errors';
import { quoted } from '../errors';
import { onigurumaToJs, UntranslatableRegex } from './oniguruma-to-js';
import { PrecompiledCharsMap } from './precompiled-charsmap';
import { normalizeAligned } from './unicode-normalization';
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
    if (strip) t = stripMarks(normalizeAligned(t, 'NFD'));
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

function stripMarks(t: NormalizedText): NormalizedText {
  return t.mapChars((ch) => (isNonspacingMark(ch) ? '' : ch));
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
    const spans = matchSpans(pattern, s);
    for (let i = 0; i < spans.length; i += 2) {
      const a = map[spans[i]];
      const b = map[spans[i + 1]];
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

/**
 * HF tokenizers' `Precompiled` normalizer (the sentencepiece charsmap of T5, mT5, XLM-R, mBART tokenizer.json files),
 * as it runs, not as sentencepiece does: grapheme by grapheme, a grapheme shorter than 6 UTF-8 bytes is replaced by
 * the rule of the shortest key that is a prefix of it, else each of its characters by its own rule.
 */
function precompiled(map: PrecompiledCharsMap): Normalizer {
  const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  const enc = new TextEncoder();
  /** HF's replace(): new characters replace old ones one for one; extra ones are inserted, missing ones removed. */
  const replaceWith = (out: [string, number][], oldPart: string, newPart: string): void => {
    const added = Array.from(newPart);
    const diff = added.length - Array.from(oldPart).length;
    for (const c of added) out.push([c, 0]);
    if (diff > 0) for (let k = out.length - diff; k < out.length; k++) out[k][1] = 1;
    else if (diff < 0 && out.length > 0) out[out.length - 1][1] += diff;
  };
  return (t) => {
    const out: [string, number][] = [];
    let modified = false;
    for (const { segment } of segmenter.segment(t.toString())) {
      const bytes = enc.encode(segment);
      if (bytes.length < 6) {
        const norm = map.first(bytes);
        if (norm !== undefined) {
          modified = true;
          replaceWith(out, segment, norm);
          continue;
        }
      }
      for (const ch of segment) {
        const norm = map.first(enc.encode(ch));
        if (norm === undefined) out.push([ch, 0]);
        else {
          modified = true;
          replaceWith(out, ch, norm);
        }
      }
    }
    return modified ? t.transform(out) : t;
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
 * Unicode-aware JS regular expression with the same matches; a Regex runs with a time limit (tokenizer-regex.ts), named
 * as the `role`'s (normalizer, pre-tokenizer, decoder) in `source`. */
export function patternToRegExp(pattern: unknown, source: string, role: string): RegExp {
  const p = asObject(pattern);
  if (p && typeof p.String === 'string') return new RegExp(escapeRegExp(p.String), 'gu');
  if (p && typeof p.Regex === 'string') {
    let re: RegExp;
    try {
      re = new RegExp(onigurumaToJs(p.Regex), 'gu');
    } catch (e) {
      const why = e instanceof UntranslatableRegex ? e.message : 'is not a valid regular expression';
      throw badTokenizer(source, `the regular expression ${quoted(p.Regex)} ${why}`);
    }
    return fromTokenizerFile(re, `${source}: the ${role}'s regular expression ${quoted(p.Regex)}`);
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
      return (t) => normalizeAligned(t, 'NFD');
    case 'NFKD':
      return (t) => normalizeAligned(t, 'NFKD');
    case 'NFC':
      return (t) => normalizeAligned(t, 'NFC');
    case 'NFKC':
      return (t) => normalizeAligned(t, 'NFKC');
    case 'Prepend': {
      const s = typeof o.prepend === 'string' ? o.prepend : '▁';
      return (t) => t.prepend(s);
    }
    case 'Replace':
      return replace(patternToRegExp(o.pattern, source, 'normalizer'), typeof o.content === 'string' ? o.content : '');
    case 'Strip':
      return strip(bool(o.strip_left, true), bool(o.strip_right, true));
    case 'Precompiled': {
      const b64 = o.precompiled_charsmap;
      if (typeof b64 !== 'string' || b64 === '') {
        throw badTokenizer(source, 'the Precompiled normalizer has no precompiled_charsmap');
      }
      return precompiled(PrecompiledCharsMap.fromBase64(b64, source));
    }
    case 'Sequence': {
      if (!Array.isArray(o.normalizers)) throw badTokenizer(source, 'a Sequence normalizer has no "normalizers" list');
      const parts = o.normalizers.map((n) => normalizerFromJson(n, source)).filter((n): n is Normalizer => !!n);
      return (t) => parts.reduce((acc, n) => n(acc), t);
    }
    default:
      throw unsupported(source, 'normalizer', o.type);
  }
}
