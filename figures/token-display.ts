// How a token reads in the panel and in figures: vocabulary pieces carry markers (byte-level BPE's Ġ for a space and
// Ċ for a newline, sentencepiece's ▁, WordPiece's ##) and pieces that are parts of one character (a byte of an emoji,
// a Korean jamo of a decomposed syllable) mean nothing alone. A label shows whitespace as visible glyphs (␣ ⏎ ⇥) and,
// where the piece does not spell the source text it covers, the source characters themselves (from the token's
// offsets); the raw piece stays available for tooltips. Pure; DOM-free.

/** The glyphs that stand for whitespace in a label. */
export const SPACE_GLYPH = '␣';
export const NEWLINE_GLYPH = '⏎';
export const TAB_GLYPH = '⇥';

/** Whitespace made visible: spaces ␣, newlines ⏎ (\r\n as one), tabs ⇥. */
export function visibleWhitespace(s: string): string {
  return s
    .replace(/\r\n|\r|\n/g, NEWLINE_GLYPH)
    .replace(/\t/g, TAB_GLYPH)
    .replace(/[ \u00a0]/g, SPACE_GLYPH);
}

/** GPT-2's byte ↔ printable-character table (bytes_to_unicode): printable Latin-1 bytes stand for themselves, the
 *  other 68 bytes for U+0100 onwards in byte order. */
const BYTE_OF_CHAR: Map<number, number> = (() => {
  const m = new Map<number, number>();
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (keep(b)) m.set(b, b);
    else m.set(256 + n++, b);
  }
  return m;
})();

/** A byte-level BPE piece as the UTF-8 bytes it stands for, or null when it is not one. */
function byteLevelBytes(piece: string): number[] | null {
  const out: number[] = [];
  for (const ch of piece) {
    const b = BYTE_OF_CHAR.get(ch.codePointAt(0)!);
    if (b === undefined) return null;
    out.push(b);
  }
  return out;
}

/** UTF-8 bytes as text, or null when they are not complete, valid UTF-8 (a piece that is part of a character). */
function utf8(bytes: number[]): string | null {
  let s = '';
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    const n = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (!n || i + n > bytes.length) return null;
    let cp = n === 1 ? b : b & (0xff >> (n + 1));
    for (let k = 1; k < n; k++) {
      const c = bytes[i + k];
      if ((c & 0xc0) !== 0x80) return null;
      cp = (cp << 6) | (c & 0x3f);
    }
    s += String.fromCodePoint(cp);
    i += n;
  }
  return s;
}

/** The texts a piece may stand for, each with the marker it keeps in a label ('##' for a WordPiece continuation). */
function readings(piece: string): { text: string; prefix: string }[] {
  const out: { text: string; prefix: string }[] = [];
  if (piece.startsWith('##') && piece.length > 2) out.push({ text: piece.slice(2), prefix: '##' });
  const bytes = byteLevelBytes(piece);
  if (bytes) {
    const t = utf8(bytes);
    if (t !== null) out.push({ text: t, prefix: '' });
  }
  // Sentencepiece: ▁ for a space, <0xHH> byte fallback.
  const spm = piece.replace(/▁/g, ' ');
  const fallback = /^(<0x[0-9A-Fa-f]{2}>)+$/.test(spm)
    ? utf8(spm.match(/<0x([0-9A-Fa-f]{2})>/g)!.map((h) => parseInt(h.slice(3, 5), 16)))
    : spm;
  if (fallback !== null) out.push({ text: fallback, prefix: '' });
  return out;
}

const same = (a: string, b: string) => a.normalize('NFC').toLowerCase() === b.normalize('NFC').toLowerCase();

/** A piece without its source: markers turned into glyphs (Ġ/▁ → ␣, Ċ → ⏎, ĉ → ⇥ for a byte-level piece that
 *  spells whole characters). Special tokens ([CLS], <s>) are unchanged. */
export function pieceLabel(piece: string): string {
  const bytes = byteLevelBytes(piece);
  if (bytes && /[\u0100-\u0143]/.test(piece)) {
    const t = utf8(bytes);
    if (t !== null) return visibleWhitespace(t);
  }
  return piece.includes('▁') ? visibleWhitespace(piece.replace(/▁/g, ' ')) : piece;
}

export interface TokenLike {
  readonly text: string;
  readonly start?: number | null;
  readonly end?: number | null;
  readonly special?: boolean;
}

/** The label of a token: the piece with whitespace glyphs where it spells the source text it covers (case and Unicode
 *  normalisation aside: an uncased model's "hello" stays "hello"); a piece that is part of a character shows the
 *  source characters it covers; any other piece, special tokens and tokens without offsets: pieceLabel. */
export function tokenLabel(token: TokenLike, source?: string): string {
  const { text, start, end } = token;
  if (/^(\[UNK\]|<unk>)$/.test(text)) return text;
  if (token.special || source === undefined || start == null || end == null || end <= start || end > source.length)
    return pieceLabel(text);
  const covered = source.slice(start, end);
  const read = readings(text);
  for (const r of read) if (same(r.text, covered)) return r.prefix + visibleWhitespace(r.text);
  // Offsets that leave out the piece's leading space (sentencepiece): the piece.
  for (const r of read) {
    const trimmed = r.text.replace(/^\s+/, '');
    if (trimmed && same(trimmed, covered)) return r.prefix + visibleWhitespace(r.text);
  }
  return partOfCharacter(text, covered) ? visibleWhitespace(covered) : pieceLabel(text);
}

/** True for a piece that is part of a character of what it covers: bytes that are not whole UTF-8 characters
 *  (byte-level BPE, sentencepiece's <0xHH> fallback), or a piece of the character's canonical decomposition (a
 *  Korean jamo of a syllable, as BERT's NFD normaliser leaves them). */
function partOfCharacter(piece: string, covered: string): boolean {
  const bytes = byteLevelBytes(piece);
  if (bytes && utf8(bytes) === null) return true;
  const fallback = piece.match(/<0x([0-9A-Fa-f]{2})>/g);
  if (
    fallback &&
    /^(<0x[0-9A-Fa-f]{2}>)+$/.test(piece) &&
    utf8(fallback.map((h) => parseInt(h.slice(3, 5), 16))) === null
  )
    return true;
  const bare = piece.replace(/^##/, '').replace(/▁/g, '').normalize('NFD');
  const whole = covered.normalize('NFD');
  return bare.length > 0 && bare !== whole && whole.includes(bare) && [...covered].length <= 2;
}

/** Tokens with their labels (`label`) beside the raw pieces (`text`), for RunMaps and the views. */
export function labelTokens<T extends TokenLike>(tokens: readonly T[], source?: string): (T & { label: string })[] {
  return tokens.map((t) => ({ ...t, label: tokenLabel(t, source) }));
}
