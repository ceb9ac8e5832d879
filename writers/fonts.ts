// The fonts PNG export draws text with. Always the bundled DejaVu Sans subset (writers/assets/, 200 KB: Latin with its
// extensions and Vietnamese, Greek, Cyrillic, punctuation, arrows, mathematical and technical symbols, control
// pictures ␣, box drawing, blocks ▁ and shapes □; copied to dist/fonts/ by the build), so Latin text looks the same
// on every machine. Characters it lacks (Hangul, Han, kana, Arabic, Devanagari, emoji...) are drawn with system
// fonts: the well-known files of each platform that exist here, read only when the text needs them and kept for the
// next export. A character no font has is drawn as a box.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { bundledCovers } from '../figures/text-width';

export const BUNDLED_FONT = 'DejaVuSans-subset.ttf';
export const BUNDLED_FAMILY = 'DejaVu Sans';

/** Where the bundled font is: beside the bundle (dist/fonts) or, from the sources, writers/assets. */
export function bundledFontPath(): string {
  const candidates = [join(__dirname, 'fonts', BUNDLED_FONT), join(__dirname, 'assets', BUNDLED_FONT)];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`The bundled font ${BUNDLED_FONT} is missing (looked in ${candidates.join(', ')}).`);
  return found;
}

type Script = 'hangul' | 'cjk' | 'other';

/** Which kind of system font a code point outside the bundled font needs. */
export function scriptOf(cp: number): Script {
  if ((cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0x3130 && cp <= 0x318f))
    return 'hangul';
  if (
    (cp >= 0x2e80 && cp <= 0x2fdf) ||
    (cp >= 0x3000 && cp <= 0x30ff) ||
    (cp >= 0x3190 && cp <= 0x9fff) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xff00 && cp <= 0xffef) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
    return 'cjk';
  return 'other';
}

const FONT_DIRS = [
  '/usr/share/fonts',
  '/usr/local/share/fonts',
  join(homedir(), '.local', 'share', 'fonts'),
  join(homedir(), '.fonts'),
  '/System/Library/Fonts',
  '/System/Library/Fonts/Supplemental',
  '/Library/Fonts',
  join(homedir(), 'Library', 'Fonts'),
  join(process.env.WINDIR ?? 'C:\\Windows', 'Fonts'),
];

/** Well-known font files, by the script they are for, in order of preference (paths below FONT_DIRS). */
const KNOWN: Record<Script, string[]> = {
  hangul: [
    'truetype/nanum/NanumGothic.ttf',
    'truetype/unfonts-core/UnDotum.ttf',
    'opentype/noto/NotoSansCJK-Regular.ttc',
    'noto-cjk/NotoSansCJK-Regular.ttc',
    'google-noto-cjk/NotoSansCJK-Regular.ttc',
    'truetype/droid/DroidSansFallbackFull.ttf',
    'AppleSDGothicNeo.ttc',
    'malgun.ttf',
  ],
  cjk: [
    'opentype/noto/NotoSansCJK-Regular.ttc',
    'noto-cjk/NotoSansCJK-Regular.ttc',
    'google-noto-cjk/NotoSansCJK-Regular.ttc',
    'truetype/wqy/wqy-microhei.ttc',
    'truetype/wqy/wqy-zenhei.ttc',
    'truetype/droid/DroidSansFallbackFull.ttf',
    'Hiragino Sans GB.ttc',
    'PingFang.ttc',
    'Arial Unicode.ttf',
    'msyh.ttc',
    'msgothic.ttc',
    'simsun.ttc',
  ],
  other: [
    'truetype/dejavu/DejaVuSans.ttf',
    'truetype/noto/NotoSans-Regular.ttf',
    'truetype/freefont/FreeSans.ttf',
    'Arial Unicode.ttf',
    'seguisym.ttf',
    'Nirmala.ttf',
    'arial.ttf',
  ],
};

/** At most this many bytes of system fonts are read for one export. */
const MAX_SYSTEM_BYTES = 64 << 20;

const cache = new Map<string, Uint8Array>();

function read(path: string): Uint8Array {
  let bytes = cache.get(path);
  if (!bytes) {
    bytes = new Uint8Array(readFileSync(path));
    cache.set(path, bytes);
  }
  return bytes;
}

/** The system font files that exist for a script, best first. */
export function systemFontFiles(script: Script): string[] {
  const out: string[] = [];
  for (const name of KNOWN[script])
    for (const dir of FONT_DIRS) {
      const p = join(dir, name);
      if (!out.includes(p) && existsSync(p)) out.push(p);
    }
  return out;
}

export interface FontChoice {
  /** The font files' bytes, the bundled one first. */
  buffers: Uint8Array[];
  /** Their paths (for the log and the tests). */
  files: string[];
}

/**
 * The fonts for drawing `text`: the bundled font, then for each script of its characters that the bundled font
 * lacks, the system fonts for it (up to 64 MB in all), then `extra` (fonts the caller adds: tests).
 */
export function fontsFor(text: string, extra: readonly Uint8Array[] = []): FontChoice {
  const files = [bundledFontPath()];
  const scripts = new Set<Script>();
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x20 && !bundledCovers(cp)) scripts.add(scriptOf(cp));
  }
  let bytes = 0;
  for (const s of ['hangul', 'cjk', 'other'] as const) {
    if (!scripts.has(s)) continue;
    for (const f of systemFontFiles(s)) {
      if (files.includes(f)) continue;
      const size = statSync(f).size;
      if (bytes + size > MAX_SYSTEM_BYTES) continue;
      bytes += size;
      files.push(f);
    }
  }
  return { buffers: [...files.map(read), ...extra], files };
}
