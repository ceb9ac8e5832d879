// Character classes and byte tables the tokenizers share, defined exactly as Hugging Face `tokenizers` (Rust)
// defines them, so that our splits and offsets agree with the Python library used as the test reference.

const WHITE_SPACE = /^\p{White_Space}$/u;
// Hugging Face's BertNormalizer drops Cc, Cf and Co (and lone surrogates, which reach it as U+FFFD) but keeps
// unassigned code points (Cn): a word holding one becomes [UNK] there, as it must here.
const CONTROL = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;
const PUNCTUATION = /^\p{P}$/u;
const NONSPACING_MARK = /^\p{Mn}$/u;

/** Rust's char::is_whitespace (the Unicode White_Space property; unlike JS \s it has U+0085 and lacks U+FEFF). */
export function isWhitespace(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if (c === 32 || (c >= 9 && c <= 13)) return true;
  if (c < 128) return false;
  return WHITE_SPACE.test(ch);
}

/** BERT's control test: categories Cc, Cf, Co (and Cs) except tab, newline and carriage return; not Cn. */
export function isBertControl(ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false;
  return CONTROL.test(ch);
}

/** BERT's punctuation: every ASCII punctuation character (including $+<=>^`|~) and Unicode category P. */
export function isBertPunctuation(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  if (c < 128) return false;
  return PUNCTUATION.test(ch);
}

/** The CJK Unified Ideograph blocks BERT isolates as single words (not Hiragana, Katakana or Hangul). */
export function isChineseChar(ch: string): boolean {
  const c = ch.codePointAt(0) ?? 0;
  return (
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0x20000 && c <= 0x2a6df) ||
    (c >= 0x2a700 && c <= 0x2b73f) ||
    (c >= 0x2b740 && c <= 0x2b81f) ||
    (c >= 0x2b920 && c <= 0x2ceaf) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0x2f800 && c <= 0x2fa1f)
  );
}

export function isNonspacingMark(ch: string): boolean {
  return ch.charCodeAt(0) >= 0x300 && NONSPACING_MARK.test(ch);
}

/** The UTF-8 bytes of one code point (a lone surrogate encodes as U+FFFD, as TextEncoder does). */
export function utf8Bytes(ch: string): number[] {
  let c = ch.codePointAt(0) ?? 0;
  if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
  if (c < 0x80) return [c];
  if (c < 0x800) return [0xc0 | (c >> 6), 0x80 | (c & 63)];
  if (c < 0x10000) return [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)];
  return [0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)];
}

/** GPT-2's byte → printable character map (bytes_to_unicode), and its inverse. */
export const BYTE_TO_CHAR: string[] = (() => {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const table: string[] = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = keep.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
  }
  return table;
})();

export const CHAR_TO_BYTE: Map<string, number> = new Map(BYTE_TO_CHAR.map((ch, b) => [ch, b]));

/** Decodes UTF-8 bytes, replacing invalid sequences with U+FFFD. */
export function decodeUtf8(bytes: number[]): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(new Uint8Array(bytes));
}
