// tokenizer.json regular expressions are Oniguruma patterns (Hugging Face `tokenizers` compiles them with onig, Ruby
// syntax), and several constructs mean something else in a JS RegExp or are not accepted by Node 20 at all: the
// scoped case-insensitive group `(?i:'s|'t|...)` of the Llama 3 / Qwen / GPT-4o pre-tokenizers, possessive
// quantifiers and atomic groups (tiktoken-derived patterns), `\s` (Unicode White_Space in Oniguruma, a different
// set in JS), `\d` (any decimal digit), `\h`, `.` (everything but \n), `^`/`$` (line anchors in Ruby syntax). This
// module rewrites a pattern into JS source with the same matches (for the 'u' flag), and refuses with a reason the
// constructs whose Oniguruma meaning it does not reproduce (\w, \b, backreferences, POSIX brackets, other flags).
//
// Case-insensitive literals become classes of their simple case-fold variants (so `(?i:'s)` also matches "'ſ", as
// Oniguruma does); a literal that Oniguruma would also match through a multi-character fold ("ss" ~ ß) is refused.
// Atomic groups and possessive quantifiers become `(?=(?<aN>X))\k<aN>`: a JS lookahead does not backtrack.

/** Why a pattern cannot be translated (the caller turns it into a one-line tokenizer error). */
export class UntranslatableRegex extends Error {}

const WHITE = '\\p{White_Space}';
const NOT_WHITE = '\\P{White_Space}';
const HEX = '0-9a-fA-F';

let everyCodePoint: string | undefined;
let multiFolds: Map<string, string[]> | undefined;
const variantCache = new Map<string, string[]>();

/** Every code point below U+20000 (where all cased letters are), as one string: built once from UTF-16 units. */
function allCodePoints(): string {
  if (everyCodePoint === undefined) {
    const units = new Uint16Array(0xd800 + (0xffff - 0xdfff) + 2 * 0x10000);
    let n = 0;
    for (let cp = 0; cp < 0x10000; cp++) if (cp < 0xd800 || cp > 0xdfff) units[n++] = cp;
    for (let cp = 0x10000; cp < 0x20000; cp++) {
      units[n++] = 0xd800 + ((cp - 0x10000) >> 10);
      units[n++] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
    }
    everyCodePoint = new TextDecoder('utf-16le').decode(units.subarray(0, n));
  }
  return everyCodePoint;
}

/** Full case folds of more than one character (ß → "ss", ﬆ → "st") → the code points that fold to them. Only cased
 * characters have case mappings, so only those are looked at. */
function multiCharFolds(): Map<string, string[]> {
  if (!multiFolds) {
    multiFolds = new Map();
    for (const [ch] of allCodePoints().matchAll(/\p{Cased}/gu)) {
      const up = ch.toUpperCase();
      if (up.length === 1 || [...up].length === 1) continue;
      const fold = up.toLowerCase();
      const list = multiFolds.get(fold);
      if (list) list.push(ch);
      else multiFolds.set(fold, [ch]);
    }
  }
  return multiFolds;
}

/** Every code point a case-insensitive match of `ch` accepts: its simple case-fold class, found by JS's own /iu
 * (Unicode simple case folding, as Oniguruma for one character) over every code point. */
function caseVariants(ch: string): string[] {
  const hit = variantCache.get(ch);
  if (hit) return hit;
  if ([...ch.toUpperCase().toLowerCase()].length > 1)
    throw new UntranslatableRegex(
      `has the case-insensitive literal "${ch}", which Oniguruma also matches as several characters`,
    );
  const out = [...allCodePoints().matchAll(new RegExp(escapeChar(ch), 'giu'))].map((m) => m[0]);
  variantCache.set(ch, out);
  return out;
}

/** A code point as JS 'u'-mode source that matches exactly it, outside a class or (inClass) inside one. */
function escapeChar(ch: string, inClass = false): string {
  if (/^[\\^$.*+?()[\]{}|/]$/.test(ch) || (inClass && ch === '-')) return `\\${ch}`;
  const cp = ch.codePointAt(0)!;
  if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).padStart(2, '0')}`;
  return ch;
}

/** A property escape Oniguruma accepts (\p{L}, \p{Han}, \p{^L}) as JS source, or a refusal. */
function propertyEscape(negated: boolean, name: string): string {
  let neg = negated;
  let n = name;
  if (n.startsWith('^')) {
    neg = !neg;
    n = n.slice(1);
  }
  const p = neg ? 'P' : 'p';
  for (const candidate of [n, `Script=${n}`]) {
    try {
      new RegExp(`\\${p}{${candidate}}`, 'u');
      return `\\${p}{${candidate}}`;
    } catch {
      // try the next spelling
    }
  }
  throw new UntranslatableRegex(`uses the Unicode property \\${p}{${name}}, which JavaScript does not know`);
}

class Translator {
  private i = 0;
  private atomic = 0;
  private readonly cps: string[];

  constructor(private readonly src: string) {
    this.cps = Array.from(src);
  }

  run(): string {
    const out = this.alternation({ ci: false });
    if (this.i < this.cps.length) throw new UntranslatableRegex(`has an unbalanced ")" at character ${this.i + 1}`);
    return out;
  }

  private peek(k = 0): string | undefined {
    return this.cps[this.i + k];
  }

  private startsWith(s: string): boolean {
    return this.cps.slice(this.i, this.i + s.length).join('') === s;
  }

  /** Alternatives up to the closing ")" of the current group (not consumed) or the end. `(?i)` switches the flag
   * for the rest of the group, later alternatives included. */
  private alternation(flags: { ci: boolean }): string {
    const parts: string[] = [this.sequence(flags)];
    while (this.peek() === '|') {
      this.i++;
      parts.push(this.sequence(flags));
    }
    return parts.join('|');
  }

  private sequence(flags: { ci: boolean }): string {
    let out = '';
    let literalRun = '';
    const endRun = () => {
      if (flags.ci && literalRun.length > 1) this.checkMultiFold(literalRun);
      literalRun = '';
    };
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') break;
      if (this.startsWith('(?i)') || this.startsWith('(?-i)')) {
        endRun();
        flags.ci = this.startsWith('(?i)');
        this.i += flags.ci ? 4 : 5;
        continue;
      }
      const atom = this.atom(flags.ci);
      const quantified = this.quantifier(atom.text);
      if (atom.literal !== undefined && quantified === atom.text) literalRun += atom.literal;
      else endRun();
      out += quantified;
    }
    endRun();
    return out;
  }

  private checkMultiFold(run: string): void {
    const folded = run.toUpperCase().toLowerCase();
    for (const [fold, chars] of multiCharFolds())
      if (folded.includes(fold))
        throw new UntranslatableRegex(
          `has the case-insensitive text "${run}", which Oniguruma also matches as "${chars.join('", "')}"`,
        );
  }

  /** One atom: its JS source, and the literal character it stands for (for the multi-fold check). */
  private atom(ci: boolean): { text: string; literal?: string } {
    const c = this.cps[this.i];
    switch (c) {
      case '(':
        return { text: this.group(ci) };
      case '[':
        return { text: this.charClass(ci) };
      case '.':
        this.i++;
        return { text: '[^\\n]' };
      case '^':
        this.i++;
        return { text: '(?<![^\\n])' };
      case '$':
        this.i++;
        return { text: '(?![^\\n])' };
      case '\\':
        return this.escape(ci);
      case '*':
      case '+':
      case '?':
        throw new UntranslatableRegex(`has a quantifier "${c}" with nothing before it at character ${this.i + 1}`);
      default:
        this.i++;
        return { text: this.literal(c, ci), literal: c };
    }
  }

  private literal(ch: string, ci: boolean): string {
    if (!ci) return escapeChar(ch);
    const v = caseVariants(ch);
    return v.length === 1 ? escapeChar(ch) : `[${v.map((x) => escapeChar(x, true)).join('')}]`;
  }

  private group(ci: boolean): string {
    this.i++; // (
    let open: string;
    const flags = { ci };
    let atomic = false;
    if (this.peek() !== '?')
      open = '(?:'; // captures are not needed: a split uses whole matches
    else if (this.startsWith('?:')) {
      this.i += 2;
      open = '(?:';
    } else if (this.startsWith('?=') || this.startsWith('?!')) {
      open = `(${this.cps[this.i]}${this.cps[this.i + 1]}`;
      this.i += 2;
    } else if (this.startsWith('?<=') || this.startsWith('?<!')) {
      open = `(?<${this.cps[this.i + 2]}`;
      this.i += 3;
    } else if (this.startsWith('?>')) {
      this.i += 2;
      atomic = true;
      open = '';
    } else if (this.startsWith('?i:') || this.startsWith('?-i:')) {
      flags.ci = this.startsWith('?i:');
      this.i += flags.ci ? 3 : 4;
      open = '(?:';
    } else if (this.startsWith('?<') || this.startsWith("?'") || this.startsWith('?P<')) {
      const close = this.startsWith("?'") ? "'" : '>';
      const end = this.cps.indexOf(close, this.i + 2);
      if (end < 0) throw new UntranslatableRegex('has an unterminated group name');
      this.i = end + 1;
      open = '(?:';
    } else {
      const flag = /^\?[-a-zA-Z]*[:)]?/.exec(this.cps.slice(this.i, this.i + 8).join(''))?.[0] ?? '?';
      throw new UntranslatableRegex(`uses the group "(${flag}", which Attention Lens cannot translate`);
    }
    const body = this.alternation(flags);
    if (this.peek() !== ')') throw new UntranslatableRegex('has a group that is not closed');
    this.i++;
    return atomic ? this.atomicOf(body) : `${open}${body})`;
  }

  private atomicOf(body: string): string {
    const name = `a${this.atomic++}`;
    return `(?=(?<${name}>${body}))\\k<${name}>`;
  }

  /** Quantifiers after an atom: greedy, lazy (`?`) or possessive (`+`). */
  private quantifier(atom: string): string {
    const c = this.peek();
    let q: string;
    if (c === '*' || c === '+' || c === '?') {
      this.i++;
      q = c;
    } else if (c === '{') {
      const m = /^\{(\d*)(,?)(\d*)\}/.exec(this.cps.slice(this.i, this.i + 24).join(''));
      if (!m || (m[1] === '' && m[3] === '')) return atom;
      if (m[1] === '' && m[2] === '') return atom;
      this.i += m[0].length;
      q = `{${m[1] || '0'}${m[2]}${m[3]}}`;
      if (this.peek() === '+')
        throw new UntranslatableRegex('has an interval followed by "+" (a nested quantifier in Oniguruma)');
    } else return atom;
    if (this.peek() === '?') {
      this.i++;
      return this.quantifier(`${atom}${q}?`);
    }
    if (this.peek() === '+' && q.length === 1) {
      this.i++;
      return this.quantifier(this.atomicOf(`(?:${atom})${q}`));
    }
    const next = this.peek();
    if (next === '*' || next === '+' || next === '?' || next === '{') return this.quantifier(`(?:${atom}${q})`); // Oniguruma allows a quantified atom to be quantified again
    return `${atom}${q}`;
  }

  private escape(ci: boolean): { text: string; literal?: string } {
    const e = this.cps[this.i + 1];
    if (e === undefined) throw new UntranslatableRegex('ends with a lone backslash');
    this.i += 2;
    switch (e) {
      case 's':
        return { text: WHITE };
      case 'S':
        return { text: NOT_WHITE };
      case 'd':
        return { text: '\\p{Nd}' };
      case 'D':
        return { text: '\\P{Nd}' };
      case 'h':
        return { text: `[${HEX}]` };
      case 'H':
        return { text: `[^${HEX}]` };
      case 'A':
        return { text: '(?<![\\s\\S])' };
      case 'z':
        return { text: '(?![\\s\\S])' };
      case 'Z':
        return { text: '(?=\\n?(?![\\s\\S]))' };
      case 'R':
        return { text: '(?:\\r\\n|[\\n\\v\\f\\r\\x85\\u2028\\u2029])' };
      case 'p':
      case 'P':
        if (ci) throw new UntranslatableRegex(`uses \\${e}{...} inside a case-insensitive group`);
        return { text: propertyEscape(e === 'P', this.braced(`\\${e}`)) };
      case 'w':
      case 'W':
      case 'b':
      case 'B':
      case 'G':
      case 'K':
      case 'X':
      case 'k':
      case 'g':
        throw new UntranslatableRegex(
          `uses \\${e}, whose Oniguruma meaning Attention Lens does not reproduce in JavaScript`,
        );
      default: {
        if (/[1-9]/.test(e)) throw new UntranslatableRegex(`uses the backreference \\${e}`);
        const ch = this.escapedChar(e);
        return { text: this.literal(ch, ci), literal: ch };
      }
    }
  }

  /** The {...} argument after \p / \x. */
  private braced(what: string): string {
    if (this.peek() !== '{') throw new UntranslatableRegex(`has ${what} without {...}`);
    const end = this.cps.indexOf('}', this.i);
    if (end < 0) throw new UntranslatableRegex(`has an unterminated ${what}{`);
    const name = this.cps.slice(this.i + 1, end).join('');
    this.i = end + 1;
    return name;
  }

  /** The character an escape `\e` (already consumed) stands for: control escapes, hex, or the character itself. */
  private escapedChar(e: string): string {
    const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', f: '\f', v: '\v', a: '\x07', e: '\x1b' };
    if (simple[e]) return simple[e];
    if (e === 'x') {
      if (this.peek() === '{') return String.fromCodePoint(parseInt(this.braced('\\x'), 16));
      const hex = this.cps.slice(this.i, this.i + 2).join('');
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new UntranslatableRegex('has a malformed \\x escape');
      this.i += 2;
      return String.fromCharCode(parseInt(hex, 16));
    }
    if (e === 'u') {
      const hex = this.cps.slice(this.i, this.i + 4).join('');
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new UntranslatableRegex('has a malformed \\u escape');
      this.i += 4;
      return String.fromCharCode(parseInt(hex, 16));
    }
    if (e === '0') {
      const oct = /^[0-7]{0,2}/.exec(this.cps.slice(this.i, this.i + 2).join(''))![0];
      this.i += oct.length;
      return String.fromCharCode(parseInt(oct || '0', 8));
    }
    if (/[a-zA-Z]/.test(e)) throw new UntranslatableRegex(`uses the escape \\${e}`);
    return e;
  }

  /** A bracket expression: literals, ranges, escapes; nested brackets and && are refused. */
  private charClass(ci: boolean): string {
    this.i++; // [
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.i++;
    }
    const members: string[] = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new UntranslatableRegex('has a "[" that is not closed');
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      if (c === '[') throw new UntranslatableRegex('uses a nested bracket expression or a POSIX class like [:alpha:]');
      if (c === '&' && this.peek(1) === '&') throw new UntranslatableRegex('uses a class intersection (&&)');
      let item: { set: string } | { ch: string };
      if (c === '\\') {
        const e = this.peek(1);
        if (e === undefined) throw new UntranslatableRegex('ends with a lone backslash');
        this.i += 2;
        if (e === 's') item = { set: WHITE };
        else if (e === 'S') item = { set: NOT_WHITE };
        else if (e === 'd') item = { set: '\\p{Nd}' };
        else if (e === 'D') item = { set: '\\P{Nd}' };
        else if (e === 'h') item = { set: HEX };
        else if (e === 'p' || e === 'P') {
          if (ci) throw new UntranslatableRegex(`uses \\${e}{...} inside a case-insensitive group`);
          item = { set: propertyEscape(e === 'P', this.braced(`\\${e}`)) };
        } else if (/[wWbBHRAzZGKX]/.test(e) || /[1-9]/.test(e))
          throw new UntranslatableRegex(`uses \\${e} inside a bracket expression`);
        else item = { ch: this.escapedChar(e) };
      } else {
        this.i++;
        item = { ch: c };
      }
      if ('ch' in item && this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.i++;
        const hiRaw = this.peek()!;
        let hi: string;
        if (hiRaw === '\\') {
          const e = this.peek(1)!;
          this.i += 2;
          hi = this.escapedChar(e);
        } else {
          this.i++;
          hi = hiRaw;
        }
        members.push(this.range(item.ch, hi, ci));
        continue;
      }
      members.push('set' in item ? item.set : this.classChars(item.ch, ci));
    }
    return `[${negated ? '^' : ''}${members.join('')}]`;
  }

  private classChars(ch: string, ci: boolean): string {
    return (ci ? caseVariants(ch) : [ch]).map((x) => escapeChar(x, true)).join('');
  }

  private range(lo: string, hi: string, ci: boolean): string {
    const a = lo.codePointAt(0)!;
    const b = hi.codePointAt(0)!;
    if (b < a) throw new UntranslatableRegex(`has the empty range ${lo}-${hi}`);
    if (!ci) return `${escapeChar(lo, true)}-${escapeChar(hi, true)}`;
    if (b - a > 2000) throw new UntranslatableRegex(`has the range ${lo}-${hi} inside a case-insensitive group`);
    const out: string[] = [];
    for (let cp = a; cp <= b; cp++) out.push(this.classChars(String.fromCodePoint(cp), true));
    return out.join('');
  }
}

/** JS source (for the 'u' flag) that matches what the Oniguruma pattern `src` matches; throws UntranslatableRegex. */
export function onigurumaToJs(src: string): string {
  return new Translator(src).run();
}
