// NFD / NFKD / NFC / NFKC with the alignment HF tokenizers gives them (its unicode-normalization-alignments crate):
// every character is decomposed — the first character of a decomposition replaces the original one, the others are
// inserted after it — runs of combining marks are stably sorted by canonical combining class (carrying those
// flags along), and for NFC/NFKC a mark composed into its starter removes one character there. The output is then
// aligned positionally, as HF's NormalizedString::transform does, so "e\u0301" → "é" covers only the "e" and a
// reordered mark takes the place of the mark it moved over. The characters themselves come from the engine's own
// String.prototype.normalize; the combining classes the algorithm compares are found by asking it how it reorders.
import type { NormalizedText } from './normalized-text';

export type NormalForm = 'NFD' | 'NFKD' | 'NFC' | 'NFKC';

/** [character, change]: 0 replaces the next character, +1 is inserted, -N also removes the N after it. */
type Change = [string, number];

const starterCache = new Map<string, boolean>();
const composeCache = new Map<string, string | null>();

/** True when the (fully decomposed) character has canonical combining class 0. */
function isStarter(c: string): boolean {
  const code = c.codePointAt(0) ?? 0;
  if (code < 0x300) return true;
  let s = starterCache.get(c);
  if (s === undefined) {
    // A non-starter below class 230 moves before U+0301 (230); one above class 1 lets U+0334 (1) move before it.
    const moves = (x: string): boolean => x.normalize('NFD') !== x;
    s = !moves(`b\u0301${c}`) && !moves(`b${c}\u0334`);
    starterCache.set(c, s);
  }
  return s;
}

/** Sign of ccc(a) - ccc(b) for two non-starters, from the canonical reordering. */
function compareClass(a: string, b: string): number {
  if (a === b) return 0;
  if (`b${a}${b}`.normalize('NFD') !== `b${a}${b}`) return 1;
  if (`b${b}${a}`.normalize('NFD') !== `b${b}${a}`) return -1;
  return 0;
}

/** The primary composite of a starter (or composite) and the next character, or null. */
function compose(k: string, c: string): string | null {
  const key = k + c;
  let r = composeCache.get(key);
  if (r === undefined) {
    const n = key.normalize('NFC');
    r = n !== key && Array.from(n).length === 1 ? n : null;
    if (composeCache.size > 50_000) composeCache.clear();
    composeCache.set(key, r);
  }
  return r;
}

function decompose(chars: string[], compat: boolean): Change[] {
  const out: Change[] = [];
  let pending = 0; // start of the current run of non-starters
  const sortPending = (): void => {
    if (out.length - pending > 1) {
      const run = out.slice(pending).sort((x, y) => compareClass(x[0], y[0]));
      out.splice(pending, run.length, ...run);
    }
  };
  for (const ch of chars) {
    const d = ch.charCodeAt(0) < 0x80 ? ch : ch.normalize(compat ? 'NFKD' : 'NFD');
    let first = true;
    for (const c of d) {
      if (isStarter(c)) {
        sortPending();
        out.push([c, first ? 0 : 1]);
        pending = out.length;
      } else out.push([c, first ? 0 : 1]);
      first = false;
    }
  }
  sortPending();
  return out;
}

/** The crate's Recompositions state machine. */
function recompose(dec: Change[]): Change[] {
  const out: Change[] = [];
  let composee: Change | null = null;
  let last: string | null = null; // the last character held back after the composee
  let buffer: Change[] = [];
  for (const [ch, change] of dec) {
    const starter = isStarter(ch);
    if (!composee) {
      if (starter) composee = [ch, change];
      else out.push([ch, change]);
      continue;
    }
    if (last !== null && (starter || compareClass(last, ch) >= 0)) {
      // Blocked from the composee.
      if (starter) {
        out.push(composee, ...buffer);
        buffer = [];
        composee = [ch, change];
        last = null;
      } else {
        buffer.push([ch, change]);
        last = ch;
      }
      continue;
    }
    const r = compose(composee[0], ch);
    if (r !== null) {
      composee = [r, composee[1] + change - 1];
      continue;
    }
    if (last === null && starter) {
      out.push(composee);
      composee = [ch, change];
      continue;
    }
    buffer.push([ch, change]);
    last = ch;
  }
  if (composee) out.push(composee);
  out.push(...buffer);
  return out;
}

/** Normalizes aligned text as HF tokenizers' NFD/NFKD/NFC/NFKC normalizers do, alignment included. */
export function normalizeAligned(t: NormalizedText, form: NormalForm): NormalizedText {
  let plain = true;
  for (const c of t.chars) {
    if (c.charCodeAt(0) >= 0x80) {
      plain = false;
      break;
    }
  }
  if (plain) return t;
  const dec = decompose(t.chars, form === 'NFKD' || form === 'NFKC');
  return t.transform(form === 'NFC' || form === 'NFKC' ? recompose(dec) : dec);
}
