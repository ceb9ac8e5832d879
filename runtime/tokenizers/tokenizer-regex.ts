// A tokenizer.json's own regular expressions (its normalizers', pre-tokenizers' and decoders' Regex patterns) run in
// JavaScript's backtracking engine, where a pattern such as (a+)+$ takes time exponential in the text: 34 letters
// and a "!" hang the tokenizer for hours, and a running regular expression lets no Ctrl-C, SIGTERM handler or VS Code
// command in. So every match of such a pattern goes through matchSpans, which hands it to the runner that the Node
// loader installs (regex-thread.ts: a helper thread and a time limit). Linear-time engines are no way out: RE2 has no
// lookahead (GPT-2's \s+(?!\S)), and V8's takes no `u` flag. Literal {"String": ...} patterns and the ByteLevel
// pre-tokenizer's built-in GPT-2 pattern run here, on the calling thread.

/** Where a tokenizer file's patterns run. */
export interface RegexRunner {
  /** Called when a pattern is read, before any text is. */
  warm(): void;
  /** [start, end) UTF-16 spans of every match of `re` in `text`; `what` names the pattern in a message. */
  spans(re: RegExp, text: string, what: string): Int32Array;
}
let runner: RegexRunner | undefined;

/** Sets where the patterns of tokenizer files run from now on. */
export function setRegexRunner(r: RegexRunner): void {
  runner = r;
}

/** The patterns that come from a tokenizer file, with what names them in a message (file: where in it). */
const fromFiles = new WeakMap<RegExp, string>();

/** Marks `re` (a global, Unicode-aware RegExp from a tokenizer file) to run through the runner; `what` names it. */
export function fromTokenizerFile(re: RegExp, what: string): RegExp {
  fromFiles.set(re, what);
  runner?.warm();
  return re;
}

/** [start, end) UTF-16 spans of every match of the global `re` in `text`, in order (empty matches included, as
 * String.prototype.matchAll gives them). */
export function matchSpans(re: RegExp, text: string): Int32Array {
  const what = fromFiles.get(re);
  return what !== undefined && runner ? runner.spans(re, text, what) : matchSpansHere(re, text);
}

/** matchSpans on the calling thread, whatever the pattern. */
export function matchSpansHere(re: RegExp, text: string): Int32Array {
  const spans: number[] = [];
  re.lastIndex = 0;
  for (const m of text.matchAll(re)) spans.push(m.index, m.index + m[0].length);
  return Int32Array.from(spans);
}
