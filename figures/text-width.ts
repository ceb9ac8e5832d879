// Text widths without a DOM: the figures lay out label columns and captions before anything is drawn. Exports are
// drawn with DejaVu Sans (bundled) and, for characters it lacks, system fonts: ASCII uses DejaVu Sans's own advance
// widths, wide characters (CJK, Hangul, kana, fullwidth forms) one em, combining marks none, the rest DejaVu Sans's
// mean. The panel measures with its canvas instead (its theme's `measure`).
import { ASCII_ADVANCE, BUNDLED_RANGES, MEAN_ADVANCE } from './text-advance';

/** East Asian wide and fullwidth ranges (Unicode EastAsianWidth W/F, the common blocks). */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], // Hangul Jamo initials
  [0x2e80, 0x303e], // CJK radicals, Kangxi, CJK symbols and punctuation
  [0x3041, 0x33ff], // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, CJK compatibility
  [0x3400, 0x4dbf], // CJK Extension A
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xa960, 0xa97f], // Hangul Jamo Extended-A
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe30, 0xfe4f], // CJK compatibility forms
  [0xff00, 0xff60], // fullwidth forms
  [0xffe0, 0xffe6],
  [0x1f300, 0x1faff], // emoji
  [0x20000, 0x3fffd], // CJK Extensions B–H
];

function inRanges(cp: number, ranges: readonly (readonly [number, number])[]): boolean {
  for (const [lo, hi] of ranges) if (cp >= lo && cp <= hi) return true;
  return false;
}

/** The advance of one code point in ems. */
export function advance(cp: number): number {
  if (cp >= 0x20 && cp < 0x7f) return ASCII_ADVANCE[cp - 0x20];
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || cp === 0xfe0f) return 0;
  if (inRanges(cp, WIDE)) return 1;
  return MEAN_ADVANCE;
}

/** The estimated width of `text` at font size `size` (CSS px). */
export function estimateWidth(text: string, size: number): number {
  let w = 0;
  for (const ch of text) w += advance(ch.codePointAt(0)!);
  return w * size;
}

/** True when the bundled fallback font draws this code point (the rest needs a system font). */
export function bundledCovers(cp: number): boolean {
  return inRanges(cp, BUNDLED_RANGES);
}
