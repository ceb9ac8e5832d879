// The target of an explanation as the user writes it (CLI --target, settings, saved studies), parsed into a checked
// value. One scalar per run:
//   next               causal LM: log p(the model's most likely next token | the whole input)
//   next:TOKEN         causal LM: log p(TOKEN next | the whole input)       TOKEN: a vocabulary string or one token of text
//   token:POS:ID       causal LM: log p(token ID at position POS | tokens 0..POS−1), 1 ≤ POS ≤ length
//   generated:N        causal LM, on a generation's prompt + output: the N-th generated token (1 = the first), i.e.
//                      token:POS:ID at its position and id (resolveGenerated)
//   mask               masked LM: p(the most likely token at the first [MASK] of the text)
//   mask:TOKEN         masked LM: p(TOKEN at the first [MASK])
//   mask@POS           masked LM: replace token POS with [MASK]; p(the original token there)
//   similarity:TEXT    any model: cosine(mean-pooled last hidden state of the input, the same of TEXT)
//   contrast:A|B       causal LM: log p(A next | input) − log p(B next | input), a contrastive target (Inseq's
//                      contrast_prob_diff in log space). A and B: a vocabulary string, one token of text, or #ID
//   contrast:A|B@POS   the same for the prediction at position POS (from tokens 0..POS−1), 1 ≤ POS ≤ length
//   contrast:A|B@generated:N
//                      the same at the N-th generated token's position (resolveGenerated)
//   target             encoder–decoder: log p(the whole target | source), teacher-forced: Σ_i log p(y_i | source, y_<i),
//                      the target being the model's greedy translation or the given target text (--target-text)
//   target:POS         encoder–decoder: log p(target token POS | source, target tokens before it), 1 ≤ POS ≤ its length
//   contrast:A|B@target:POS
//                      encoder–decoder: log p(A) − log p(B) at target position POS (after the given target tokens
//                      1..POS−1); on an encoder–decoder, contrast:A|B@POS means the same (there is no other position)
//   prob:next, prob:next:TOKEN, prob:token:POS:ID
//                      causal LM: the probability (0–1) instead of the log-probability (unbounded below, so
//                      comprehensiveness and sufficiency measured on it are unbounded too)
import { LensError } from '../errors';
import type { TargetMeasure } from '../analysis/targets';

export type TargetSpec =
  | { kind: 'next'; token?: string; prob?: boolean }
  | { kind: 'token'; position: number; id: number; prob?: boolean }
  | { kind: 'generated'; index: number; prob?: boolean }
  | { kind: 'mask'; token?: string; position?: number }
  | { kind: 'similarity'; reference: string }
  /** Encoder–decoders: the whole target (no position) or target token `position` (1-based). */
  | { kind: 'target'; position?: number }
  /** A, B: token text, or #ID. position: 1-based like token:POS (absent: the next token); generated: the N-th
   * generated token's position, resolved to position by resolveGenerated. */
  | { kind: 'contrast'; a: string; b: string; position?: number; generated?: number; target?: number };

/** What a target measures, from its spec alone: the planners (target.ts, seq2seq-target.ts) give their plans this
 *  measure, and a study checks with it, before the model loads, that its examples measure one thing. */
export function targetMeasure(t: TargetSpec): TargetMeasure {
  switch (t.kind) {
    case 'next':
    case 'token':
    case 'generated':
      return t.prob ? 'prob' : 'log-prob';
    case 'mask':
      return 'prob';
    case 'similarity':
      return 'cosine';
    case 'contrast':
      return 'log-odds';
    case 'target':
      return 'log-prob';
  }
}

export const TARGET_SPEC_HELP =
  'next | next:TOKEN | token:POS:ID | generated:N (prob: before any of them for the probability) | contrast:A|B[@POS|@generated:N|@target:POS] (A, B: token text or #ID) | mask | mask:TOKEN | mask@POS | similarity:REFERENCE TEXT | target | target:POS (encoder–decoders)';

const bad = (spec: string, why: string) =>
  new LensError('BAD_INPUT', `Bad target "${spec}": ${why}. Targets: ${TARGET_SPEC_HELP}.`);

function integer(spec: string, text: string, what: string, min: number): number {
  if (!/^\d+$/.test(text)) throw bad(spec, `${what} "${text}" is not a whole number`);
  const n = Number(text);
  if (n < min) throw bad(spec, `${what} must be at least ${min}`);
  // Past 2^53 the number is no longer the one written (99999999999999999999 reads as 100000000000000000000).
  if (!Number.isSafeInteger(n)) throw bad(spec, `${what} ${text} is too large`);
  return n;
}

/** Parses a target spec; a one-line LensError BAD_INPUT says what is wrong. */
export function parseTargetSpec(spec: string): TargetSpec {
  return parseSpec(spec, spec);
}

/** parseTargetSpec of `spec`, a part of `whole` (after prob:), which messages quote as the user wrote it. */
function parseSpec(spec: string, whole: string): TargetSpec {
  if (spec.trim().startsWith('prob:')) {
    const rest = spec.trim().slice(5);
    if (rest.trim() === '')
      throw bad(whole, 'give the target after "prob:" (next, next:TOKEN, token:POS:ID or generated:N)');
    const inner = parseSpec(rest, whole);
    if (inner.kind !== 'next' && inner.kind !== 'token' && inner.kind !== 'generated')
      throw bad(whole, 'prob: goes before next, token or generated targets (mask targets are probabilities already)');
    if (inner.prob) throw bad(whole, 'prob: is given twice');
    return { ...inner, prob: true };
  }
  const s = spec.trim();
  if (s === 'next') return { kind: 'next' };
  if (s === 'target') return { kind: 'target' };
  if (s.startsWith('target:')) return { kind: 'target', position: integer(whole, s.slice(7), 'POS', 1) };
  if (s === 'mask') return { kind: 'mask' };
  if (spec.startsWith('next:')) {
    const token = spec.slice(5);
    if (token.length === 0) throw bad(whole, 'give the token after "next:"');
    return { kind: 'next', token };
  }
  if (spec.startsWith('mask:')) {
    const token = spec.slice(5);
    if (token.length === 0) throw bad(whole, 'give the token after "mask:"');
    return { kind: 'mask', token };
  }
  if (s.startsWith('mask@')) return { kind: 'mask', position: integer(whole, s.slice(5), 'the position', 0) };
  if (s.startsWith('token:')) {
    const parts = s.slice(6).split(':');
    if (parts.length !== 2) throw bad(whole, 'write token:POS:ID (position, then token id)');
    return { kind: 'token', position: integer(whole, parts[0], 'POS', 1), id: integer(whole, parts[1], 'ID', 0) };
  }
  if (s.startsWith('generated:')) return { kind: 'generated', index: integer(whole, s.slice(10), 'N', 1) };
  if (spec.startsWith('contrast:')) return parseContrast(spec, whole);
  if (spec.startsWith('similarity:')) {
    const reference = spec.slice(11);
    if (reference.trim().length === 0) throw bad(whole, 'give the reference text after "similarity:"');
    return { kind: 'similarity', reference };
  }
  throw bad(whole, 'unknown kind');
}

/** What follows B's last '@' when it reads as a position that is not one: a number that is not whole (-1, 1.5,
 * 1e309), or nothing at all after a single '@' ("b@"; "hel@@", a BPE continuation token, stays a token). */
const NOT_A_POSITION = /^(\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*|)$/i;

/** contrast:A|B, contrast:A|B@POS, contrast:A|B@generated:N. #ID (# and digits only) is a token id; any other text
 * (##ing included) is a token's text. A token text may hold '@' (only a trailing @POS or
 * @generated:N is read as the position) but not '|' (write #ID for such a token); a trailing @ followed by a number
 * that is not a position, or by nothing, is refused as a position (write #ID for a token written that way). */
function parseContrast(spec: string, whole: string): TargetSpec {
  let body = spec.slice('contrast:'.length);
  const at = /@(generated:|target:)?([^@|]*)$/.exec(body);
  let position: number | undefined;
  let generated: number | undefined;
  let target: number | undefined;
  if (at && (at[1] !== undefined || /^\d+$/.test(at[2]))) {
    body = body.slice(0, at.index);
    if (at[1] === 'generated:') generated = integer(whole, at[2], 'N', 1);
    else if (at[1] === 'target:') target = integer(whole, at[2], 'POS', 1);
    else position = integer(whole, at[2], 'POS', 1);
  } else if (at && NOT_A_POSITION.test(at[2])) {
    // Only after B, with text before the '@' (B = "@" is a token), and not "@@" (a BPE continuation).
    const bar = body.lastIndexOf('|');
    const before = body.slice(bar + 1, at.index);
    if (bar >= 0 && before !== '' && !(at[2] === '' && before.endsWith('@')))
      throw bad(
        whole,
        `"@${at[2]}" is not a position: write @POS (a whole number from 1), @generated:N or @target:POS after B, or #ID for a token written with "@"`,
      );
  }
  const parts = body.split('|');
  if (parts.length !== 2)
    throw bad(
      whole,
      parts.length < 2
        ? 'write contrast:A|B (the token explained, then the token it is contrasted with)'
        : 'write exactly one "|" between A and B (write #ID for a token that contains "|")',
    );
  const [a, b] = parts;
  if (a.length === 0 || b.length === 0) throw bad(whole, 'give both tokens, A before "|" and B after it');
  if (a === b) throw bad(whole, 'A and B are the same token');
  return {
    kind: 'contrast',
    a,
    b,
    ...(position !== undefined ? { position } : {}),
    ...(generated !== undefined ? { generated } : {}),
    ...(target !== undefined ? { target } : {}),
  };
}

/** The spec string of a parsed target (parseTargetSpec(formatTargetSpec(t)) equals t). */
export function formatTargetSpec(t: TargetSpec): string {
  switch (t.kind) {
    case 'next':
      return `${t.prob ? 'prob:' : ''}${t.token === undefined ? 'next' : `next:${t.token}`}`;
    case 'token':
      return `${t.prob ? 'prob:' : ''}token:${t.position}:${t.id}`;
    case 'generated':
      return `${t.prob ? 'prob:' : ''}generated:${t.index}`;
    case 'mask':
      return t.position !== undefined ? `mask@${t.position}` : t.token !== undefined ? `mask:${t.token}` : 'mask';
    case 'similarity':
      return `similarity:${t.reference}`;
    case 'target':
      return t.position === undefined ? 'target' : `target:${t.position}`;
    case 'contrast':
      return `contrast:${t.a}|${t.b}${t.generated !== undefined ? `@generated:${t.generated}` : t.target !== undefined ? `@target:${t.target}` : t.position !== undefined ? `@${t.position}` : ''}`;
  }
}

/** A target with generated:N resolved to a position (token:POS:ID, or contrast:A|B@POS). */
export type PlannedTarget =
  | Exclude<TargetSpec, { kind: 'generated' } | { kind: 'contrast' }>
  | Omit<Extract<TargetSpec, { kind: 'contrast' }>, 'generated'>;

/** generated:N as token:POS:ID on a generation's ids (prompt + output): POS = promptLength + N − 1. Other targets
 * are returned as they are. */
export function resolveGenerated(
  t: TargetSpec,
  ids: readonly number[],
  promptLength: number | undefined,
  given?: string,
): PlannedTarget {
  if (t.kind === 'contrast' && t.generated !== undefined) {
    const { generated, ...rest } = t;
    const resolved = resolveGenerated({ kind: 'generated', index: generated }, ids, promptLength, formatTargetSpec(t));
    return { ...rest, position: (resolved as { position: number }).position };
  }
  if (t.kind !== 'generated') return t;
  const spec = given ?? formatTargetSpec(t);
  if (promptLength === undefined)
    throw new LensError(
      'BAD_INPUT',
      `The target "${spec}" names a generated token; it applies after a generation (attention-lens explain --generate N, or the panel's Continue), or use token:POS:ID.`,
    );
  const generated = ids.length - promptLength;
  if (t.index > generated)
    throw new LensError(
      'BAD_INPUT',
      `${spec} is past the ${generated} generated token${generated === 1 ? '' : 's'} (1..${generated}).`,
    );
  const position = promptLength + t.index - 1;
  return { kind: 'token', position, id: ids[position], ...(t.prob ? { prob: true } : {}) };
}
