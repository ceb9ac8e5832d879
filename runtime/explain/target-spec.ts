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
//   prob:next, prob:next:TOKEN, prob:token:POS:ID
//                      causal LM: the probability (0–1) instead of the log-probability (unbounded below, so
//                      comprehensiveness and sufficiency measured on it are unbounded too)
import { LensError } from '../errors';

export type TargetSpec =
  | { kind: 'next'; token?: string; prob?: boolean }
  | { kind: 'token'; position: number; id: number; prob?: boolean }
  | { kind: 'generated'; index: number; prob?: boolean }
  | { kind: 'mask'; token?: string; position?: number }
  | { kind: 'similarity'; reference: string };

export const TARGET_SPEC_HELP =
  'next | next:TOKEN | token:POS:ID | generated:N (prob: before any of them for the probability) | mask | mask:TOKEN | mask@POS | similarity:REFERENCE TEXT';

const bad = (spec: string, why: string) =>
  new LensError('BAD_INPUT', `Bad target "${spec}": ${why}. Targets: ${TARGET_SPEC_HELP}.`);

function integer(spec: string, text: string, what: string, min: number): number {
  if (!/^\d+$/.test(text)) throw bad(spec, `${what} "${text}" is not a whole number`);
  const n = Number(text);
  if (n < min) throw bad(spec, `${what} must be at least ${min}`);
  return n;
}

/** Parses a target spec; a one-line LensError BAD_INPUT says what is wrong. */
export function parseTargetSpec(spec: string): TargetSpec {
  if (spec.trim().startsWith('prob:')) {
    const inner = parseTargetSpec(spec.trim().slice(5));
    if (inner.kind !== 'next' && inner.kind !== 'token' && inner.kind !== 'generated')
      throw bad(spec, 'prob: goes before next, token or generated targets (mask targets are probabilities already)');
    if (inner.prob) throw bad(spec, 'prob: is given twice');
    return { ...inner, prob: true };
  }
  const s = spec.trim();
  if (s === 'next') return { kind: 'next' };
  if (s === 'mask') return { kind: 'mask' };
  if (spec.startsWith('next:')) {
    const token = spec.slice(5);
    if (token.length === 0) throw bad(spec, 'give the token after "next:"');
    return { kind: 'next', token };
  }
  if (spec.startsWith('mask:')) {
    const token = spec.slice(5);
    if (token.length === 0) throw bad(spec, 'give the token after "mask:"');
    return { kind: 'mask', token };
  }
  if (s.startsWith('mask@')) return { kind: 'mask', position: integer(spec, s.slice(5), 'the position', 0) };
  if (s.startsWith('token:')) {
    const parts = s.slice(6).split(':');
    if (parts.length !== 2) throw bad(spec, 'write token:POS:ID (position, then token id)');
    return { kind: 'token', position: integer(spec, parts[0], 'POS', 1), id: integer(spec, parts[1], 'ID', 0) };
  }
  if (s.startsWith('generated:')) return { kind: 'generated', index: integer(spec, s.slice(10), 'N', 1) };
  if (spec.startsWith('similarity:')) {
    const reference = spec.slice(11);
    if (reference.trim().length === 0) throw bad(spec, 'give the reference text after "similarity:"');
    return { kind: 'similarity', reference };
  }
  throw bad(spec, 'unknown kind');
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
  }
}

/** generated:N as token:POS:ID on a generation's ids (prompt + output): POS = promptLength + N − 1. Other targets
 * are returned as they are. */
export function resolveGenerated(
  t: TargetSpec,
  ids: readonly number[],
  promptLength: number | undefined,
): Exclude<TargetSpec, { kind: 'generated' }> {
  if (t.kind !== 'generated') return t;
  const spec = formatTargetSpec(t);
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
