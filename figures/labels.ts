// How figures write tokens and numbers: labels cut to a readable length, head choices in words, numbers in a fixed
// number of decimals with a true minus sign, and the shortest decimal that reads back as the same float32 (exact
// values in SVG attributes and data files). DOM-free.

/** Labels longer than this many characters are cut with an ellipsis. */
export const MAX_LABEL_CHARS = 16;

export function shortLabel(text: string, max = MAX_LABEL_CHARS): string {
  const chars = [...text];
  return chars.length > max ? chars.slice(0, max - 1).join('') + '…' : text;
}

/** `text` cut with an ellipsis to fit `width` px as `measure` measures it. */
export function fitText(text: string, width: number, size: number, measure: (t: string, s: number) => number): string {
  if (measure(text, size) <= width) return text;
  const chars = [...text];
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(chars.slice(0, mid).join('') + '…', size) <= width) lo = mid;
    else hi = mid - 1;
  }
  return chars.slice(0, lo).join('') + '…';
}

export type HeadChoiceText = number | 'mean' | 'max';

export function headText(head: HeadChoiceText): string {
  return typeof head === 'number' ? `head ${head}` : `${head} of heads`;
}

/** "0.42", "−0.13", "—" for NaN: table cells and legends. */
export function formatValue(v: number, digits = 2): string {
  if (!Number.isFinite(v)) return '—';
  const s = v.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s.replace('-', '−');
}

/** A number or NaN for null/undefined (non-finite numbers cross the webview channel as null). */
export function num(v: unknown): number {
  return typeof v === 'number' ? v : NaN;
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
/** 10^k for k in [-45, 38] (float32's range), as doubles. */
const POW10_ANY = Array.from({ length: 84 }, (_, i) => (i >= 45 ? 10 ** (i - 45) : 1 / 10 ** (45 - i)));

/** The shortest decimal (6 to 9 significant digits) that reads back as the same float32, in the notation of
 *  String(number): 0.1 rather than 0.10000000149011612, 1.5e-7 below 1e-6. Integer arithmetic on the digits (several
 *  times faster than toPrecision, which matters for gigabyte CSV/JSON exports); toPrecision for the rare rest. */
export function f32String(x: number): string {
  const f = Math.fround(x);
  if (f === 0) return '0';
  if (!Number.isFinite(f)) return String(f);
  if (f < 0) return '-' + f32String(-f);
  let e = Math.floor(Math.log10(f));
  if (e < -45 || e > 38) return String(f);
  if (POW10_ANY[e + 45] > f) e--;
  else if (e < 38 && POW10_ANY[e + 46] <= f) e++;
  for (let d = 6; d <= 9; d++) {
    const s = d - 1 - e;
    if (s > 22 || s < -22) break;
    // m = the d significant digits of f, rounded; valid if they read back as f.
    let m = s >= 0 ? Math.round(f * POW10[s]) : Math.round(f / POW10[-s]);
    if (Math.fround(s >= 0 ? m / POW10[s] : m * POW10[-s]) !== f) continue;
    let exp = e;
    if (m >= POW10[d]) {
      m /= 10;
      exp++;
    }
    while (m % 10 === 0) m /= 10;
    const digits = String(m);
    const n = digits.length;
    if (exp >= 21 || exp < -6)
      return digits[0] + (n > 1 ? '.' + digits.slice(1) : '') + 'e' + (exp > 0 ? '+' : '') + exp;
    if (exp < 0) return '0.' + '0'.repeat(-exp - 1) + digits;
    return exp + 1 >= n ? digits + '0'.repeat(exp + 1 - n) : digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  }
  for (let d = 1; d < 9; d++) {
    const v = Number(f.toPrecision(d));
    if (Math.fround(v) === f) return String(v);
  }
  return String(Number(f.toPrecision(9)));
}

/** About `digits` significant digits for reading, with a true minus sign: 0.0014958222 → "0.001496", 0.0525135 →
 *  "0.05251", 12.3456 → "12.35", 1234567 → "1.235e6", 3.2e-7 → "3.2e−7", NaN → "—". Trailing zeros are dropped
 *  (0.5 → "0.5"). The panel's tooltips, tables and readouts; exports keep exact values (f32String). */
export function formatSig(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  const sign = v < 0 ? '−' : '';
  const e = Math.floor(Math.log10(a));
  if (e < -4 || e >= digits + 2) {
    const [m, x] = a.toExponential(digits - 1).split('e');
    const mant = m.includes('.') ? m.replace(/\.?0+$/, '') : m;
    return `${sign}${mant}e${Number(x) < 0 ? '−' : ''}${Math.abs(Number(x))}`;
  }
  // Rounded to `digits` significant digits, written in plain decimals (never the float's long tail).
  const decimals = Math.max(0, digits - 1 - e);
  let s = a.toFixed(decimals);
  // Rounding may carry into a new digit (0.99995 → "1.0000"): one digit fewer after the point then.
  if (Number(s) >= 10 ** (e + 1) && decimals > 0) s = a.toFixed(decimals - 1);
  if (s.includes('.')) s = s.replace(/\.?0+$/, '');
  return sign + s;
}

/** Every how many tokens a label is drawn so that labels are at least `pitch` px apart with `cell` px per token:
 *  1 when every label fits, never 0 (a long input keeps every n-th label rather than none). */
export function labelStep(cell: number, pitch: number): number {
  if (!(cell > 0)) return 1;
  return Math.max(1, Math.ceil(pitch / cell - 1e-9));
}
