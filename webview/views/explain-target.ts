// What the Explain view offers for a model, DOM-free so that unit tests can check it: which targets fit the model
// (the log-probability or the probability of the next token for causal LMs, the probability at a [MASK] for masked
// LMs, the cosine
// similarity with a reference text for any model — the only choice for encoders without a head; for encoder–decoders
// a target token's log-probability, the whole target's, or a contrast at a target position), the target spec of
// a choice (runtime/explain/target-spec.ts), and which methods the model allows.
import { EXPLAIN_METHODS } from '../../protocol/messages';
import type { ModelFactsLike, TokenInfo } from '../types';
import { attnLrpUncovered } from '../../runtime/grad/attnlrp-coverage';

export type ModelKind = 'causal-lm' | 'masked-lm' | 'encoder' | 'seq2seq';
export type TargetKind =
  | 'next'
  | 'next-prob'
  | 'next-token'
  | 'next-token-prob'
  | 'contrast'
  | 'mask-at'
  | 'mask'
  | 'similarity'
  | 'target-token'
  | 'target-all'
  | 'target-contrast';

export function modelKind(facts: Pick<ModelFactsLike, 'attentionKinds' | 'hasLmHead' | 'encoderDecoder'>): ModelKind {
  if (facts.encoderDecoder) return 'seq2seq';
  if (!facts.hasLmHead) return 'encoder';
  return facts.attentionKinds.some((k) => k === 'causal') ? 'causal-lm' : 'masked-lm';
}

const LABELS: Record<TargetKind, string> = {
  next: 'Next token (the most likely): log-probability (unbounded)',
  'next-prob': 'Next token (the most likely): probability (0–1)',
  'next-token': 'Next token is…: log-probability (unbounded)',
  'next-token-prob': 'Next token is…: probability (0–1)',
  contrast: 'Next token A rather than B: log p(A) − log p(B)',
  'mask-at': 'Token at a position, masked: probability',
  mask: 'The first [MASK] of the text: probability',
  similarity: 'Similarity to a reference text: cosine',
  'target-token': 'A target token: log-probability (unbounded)',
  'target-all': 'The whole target: log-probability (the sum over its tokens)',
  'target-contrast': 'Target token A rather than B: log p(A) − log p(B)',
};

/** The targets that fit a model, the default first. */
export function targetOptions(kind: ModelKind): { kind: TargetKind; label: string }[] {
  const kinds: TargetKind[] =
    kind === 'causal-lm'
      ? ['next', 'next-prob', 'next-token', 'next-token-prob', 'contrast', 'similarity']
      : kind === 'masked-lm'
        ? ['mask-at', 'mask', 'similarity']
        : kind === 'seq2seq'
          ? ['target-token', 'target-all', 'target-contrast']
          : ['similarity'];
  return kinds.map((k) => ({ kind: k, label: LABELS[k] }));
}

/** Positions a mask@POS target may take: the tokens that are not special, on a masked LM (the one kind whose targets
 * take a position); none on the others, whose Explain lists no position (a causal run of 8,192 tokens listed them
 * all at its start, each option rendered by the dropdown: ~100 ms). */
export function maskPositions(kind: ModelKind, tokens: readonly TokenInfo[]): number[] {
  return targetOptions(kind).some((o) => o.kind === 'mask-at') ? tokens.flatMap((t, i) => (t.special ? [] : [i])) : [];
}

export interface TargetFields {
  /** next-token, contrast (A): the token (a vocabulary string, text that is one token, or #ID for contrast). */
  token: string;
  /** contrast: the token B it is contrasted with. */
  contrast?: string;
  /** mask-at: the position. */
  position: number;
  /** target-token, target-contrast: the target position, 1-based. */
  targetPosition?: number;
  /** similarity: the reference text. */
  reference: string;
}

export const NEED_REFERENCE =
  'Type a reference text: a similarity target explains the cosine similarity of this input’s embedding with the reference’s.';

/** The target spec of a choice, or what the user must add first. */
export function targetSpec(kind: TargetKind, f: TargetFields): { spec: string } | { error: string } {
  switch (kind) {
    case 'next':
      return { spec: 'next' };
    case 'next-prob':
      return { spec: 'prob:next' };
    case 'next-token':
    case 'next-token-prob':
      return f.token === ''
        ? { error: 'Type the next token to explain.' }
        : { spec: `${kind === 'next-token-prob' ? 'prob:' : ''}next:${f.token}` };
    case 'contrast': {
      const b = f.contrast ?? '';
      if (f.token === '' || b === '') return { error: 'Type both tokens: A (explained) and B (contrasted with).' };
      if (f.token.includes('|') || b.includes('|')) return { error: 'A token with "|" must be given as #ID.' };
      if (f.token === b) return { error: 'A and B are the same token; contrast two different tokens.' };
      return { spec: `contrast:${f.token}|${b}` };
    }
    case 'mask-at':
      return Number.isInteger(f.position) && f.position >= 0
        ? { spec: `mask@${f.position}` }
        : { error: 'Choose the position to mask.' };
    case 'mask':
      return { spec: 'mask' };
    case 'similarity':
      return f.reference.trim() === '' ? { error: NEED_REFERENCE } : { spec: `similarity:${f.reference}` };
    case 'target-all':
      return { spec: 'target' };
    case 'target-token':
    case 'target-contrast': {
      const p = f.targetPosition;
      if (p === undefined || !Number.isInteger(p) || p < 1) return { error: 'Choose the target token to explain.' };
      if (kind === 'target-token') return { spec: `target:${p}` };
      const c = targetSpec('contrast', f);
      return 'error' in c ? c : { spec: `${c.spec}@target:${p}` };
    }
  }
}

/** Why a method cannot run on this model (the view disables it), or undefined. */
export function methodUnavailable(
  facts: Pick<ModelFactsLike, 'family' | 'encoderDecoder'> & Partial<Pick<ModelFactsLike, 'modelType'>>,
  id: string,
): string | undefined {
  const method = EXPLAIN_METHODS.find((m) => m.id === id);
  if (!method) return 'Unknown method.';
  if (facts.encoderDecoder && !method.seq2seq)
    return method.kind === 'mixing'
      ? 'Multiplies one stack’s layer matrices; on an encoder–decoder use ALTI (ALTI+, through encoder and decoder) or value zeroing (one decoder layer’s cross-attention).'
      : 'Reads one self-attention stack; an encoder–decoder is explained over its source by cross-attention, rollout, perturbations, gradients and context mixing.';
  if (!facts.encoderDecoder && method.seq2seq === 'only') return 'For encoder–decoder models (source tokens).';
  if ((method.kind === 'norm' || method.kind === 'mixing') && facts.family === 'onnx')
    return 'Needs the value vectors, which an imported ONNX export does not expose.';
  if (method.kind === 'gradient' && facts.family === 'onnx')
    return 'Needs a model whose graphs Attention Lens builds; an imported ONNX export cannot be differentiated.';
  if (id === 'attnlrp' && facts.modelType !== undefined) return attnLrpUncovered(facts.modelType);
  return undefined;
}

/** The methods ticked at first: raw attention, rollout, leave-one-out and norm (what the model allows of them); on
 * encoder–decoders raw cross-attention, their rollout and leave-one-out. */
export function defaultMethods(facts: Pick<ModelFactsLike, 'family' | 'encoderDecoder'>): string[] {
  const ids = facts.encoderDecoder
    ? ['cross-attention', 'cross-rollout', 'loo']
    : ['raw-attention', 'rollout', 'loo', 'norm'];
  return ids.filter((id) => !methodUnavailable(facts, id));
}

/** Encoder–decoders: the target positions (1-based) a target:POS target may take, with their tokens. */
export function targetPositions(targetTokens: readonly TokenInfo[]): { position: number; token: TokenInfo }[] {
  return targetTokens.map((token, i) => ({ position: i + 1, token }));
}
