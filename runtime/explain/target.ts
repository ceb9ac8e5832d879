// Turns a parsed target spec into what the model passes need for one input: which ids the model sees (mask@POS
// writes [MASK]), where the target is read (readout), how a head row becomes the scalar (measure), which position
// must never be removed (the [MASK] being predicted), and, after the unperturbed pass, which token is explained
// (`next` and `mask` take the model's own most likely token). Errors say which target fits the model instead.
// A causal target is a log-probability unless its spec starts with prob: (then the probability itself).
import { LensError } from '../errors';
import { argmax, type TargetMeasure } from '../analysis/targets';
import type { ModelFacts, Token } from '../types';
import type { Tokenizer } from '../tokenizers/tokenizer';
import { formatTargetSpec, targetMeasure, type PlannedTarget } from './target-spec';

/** A target with generated:N already resolved to a position (resolveGenerated). */
export type PlannedSpec = PlannedTarget;

export interface TargetPlan {
  spec: string;
  parsed: PlannedSpec;
  measure: TargetMeasure;
  /** Ids the model sees (the input's, with [MASK] written at mask@POS). */
  ids: number[];
  /** Position whose logits are read; null for pooled targets (similarity). */
  readout: number | null;
  /** A position perturbations never remove (the [MASK] being predicted); null for none. */
  protect: number | null;
  /** The explained token when fixed by the spec; undefined: the model's argmax at the readout. */
  token?: number;
  /** contrast: the token B whose log-probability is subtracted. */
  contrast?: number;
  /** similarity: the reference text. */
  reference?: string;
}

const isCausal = (facts: ModelFacts) => facts.attentionKinds.some((k) => k === 'causal');

function needTokenizer(tokenizer: Tokenizer | undefined, what: string): Tokenizer {
  if (!tokenizer) throw new LensError('NO_TOKENIZER', `The target ${what} needs the model's tokenizer.`);
  return tokenizer;
}

/** The id of TOKEN: an exact vocabulary string, else the text when it encodes to exactly one token. */
export function tokenIdOf(tokenizer: Tokenizer, token: string): number {
  const exact = tokenizer.tokenToId(token);
  if (exact !== undefined) return exact;
  const pieces = tokenizer.encode(token, { addSpecialTokens: false });
  if (pieces.length !== 1) {
    const shown = pieces.map((t) => JSON.stringify(t.text)).join(' ');
    throw new LensError(
      'BAD_INPUT',
      `"${token}" is ${pieces.length} tokens (${shown || 'none'}), not one; give one vocabulary token, or token:POS:ID.`,
    );
  }
  return pieces[0].id;
}

function needCausal(facts: ModelFacts, spec: string): void {
  if (!isCausal(facts) || !facts.hasLmHead)
    throw new LensError(
      'BAD_INPUT',
      `The target "${spec}" needs a causal language model; ${facts.name} is ${facts.hasLmHead ? 'a masked LM: use mask or mask@POS' : 'an encoder without a head: use similarity:TEXT'}.`,
    );
}

/** The id of a contrast token: #ID, or a token's text (tokenIdOf); checked against the vocabulary. */
export function contrastTokenId(
  tokenizer: Tokenizer | undefined,
  facts: ModelFacts,
  token: string,
  spec: string,
): number {
  const given = /^#\d+$/.test(token);
  const id = given ? Number(token.slice(1)) : tokenIdOf(needTokenizer(tokenizer, spec), token);
  if (id >= facts.vocabSize)
    throw new LensError(
      'BAD_INPUT',
      // The id as the user wrote it: a number past 2^53 would print as another one.
      `Token id ${given ? token.slice(1) : id} in "${spec}" is outside the vocabulary of ${facts.vocabSize} (0..${facts.vocabSize - 1}).`,
    );
  return id;
}

/** A target of encoder–decoders (target, target:POS, contrast:A|B@target:POS) asked of another model. */
export function notSeq2Seq(facts: ModelFacts, spec: string): LensError {
  return new LensError(
    'BAD_INPUT',
    `The target "${spec}" scores a translation's target tokens; ${facts.name} (${facts.modelType}) is not an encoder–decoder model: use ${isCausal(facts) ? 'next, token:POS:ID or contrast:A|B' : facts.hasLmHead ? 'mask or mask@POS' : 'similarity:TEXT'}.`,
  );
}

/** Plans the target for the tokens of one input. */
export function planTarget(
  parsed: PlannedSpec,
  tokens: readonly Token[],
  facts: ModelFacts,
  tokenizer: Tokenizer | undefined,
): TargetPlan {
  const spec = formatTargetSpec(parsed);
  const ids = tokens.map((t) => t.id);
  const S = ids.length;
  const measure = targetMeasure(parsed);
  switch (parsed.kind) {
    case 'next': {
      needCausal(facts, spec);
      const plan: TargetPlan = { spec, parsed, measure, ids, readout: S - 1, protect: null };
      if (parsed.token !== undefined) plan.token = tokenIdOf(needTokenizer(tokenizer, spec), parsed.token);
      return plan;
    }
    case 'token': {
      needCausal(facts, spec);
      if (parsed.position > S)
        throw new LensError('BAD_INPUT', `token:${parsed.position}:… is past the ${S} tokens of the input (1..${S}).`);
      if (parsed.id >= facts.vocabSize)
        throw new LensError('BAD_INPUT', `Token id ${parsed.id} is outside the vocabulary of ${facts.vocabSize}.`);
      return { spec, parsed, measure, ids, readout: parsed.position - 1, protect: null, token: parsed.id };
    }
    case 'mask': {
      if (isCausal(facts) || !facts.hasLmHead)
        throw new LensError(
          'BAD_INPUT',
          `The target "${spec}" needs a masked language model with its head (e.g. BertForMaskedLM weights); ${facts.name} ${isCausal(facts) ? 'is causal: use next or token:POS:ID' : 'has no masked-LM head (no cls.predictions.* weights): use similarity:TEXT'}.`,
        );
      const maskId = needTokenizer(tokenizer, spec).special.mask;
      if (maskId === undefined) throw new LensError('BAD_INPUT', 'This tokenizer has no [MASK] token.');
      if (parsed.position !== undefined) {
        const p = parsed.position;
        if (p >= S) throw new LensError('BAD_INPUT', `mask@${p} is past the ${S} tokens of the input (0..${S - 1}).`);
        if (tokens[p].special) throw new LensError('BAD_INPUT', `mask@${p} is the special token ${tokens[p].text}.`);
        const masked = [...ids];
        masked[p] = maskId;
        return { spec, parsed, measure, ids: masked, readout: p, protect: p, token: ids[p] };
      }
      const at = ids.indexOf(maskId);
      if (at < 0)
        throw new LensError('BAD_INPUT', 'The text has no [MASK] token; write one in the text, or use mask@POS.');
      const plan: TargetPlan = { spec, parsed, measure, ids, readout: at, protect: at };
      if (parsed.token !== undefined) plan.token = tokenIdOf(tokenizer!, parsed.token);
      return plan;
    }
    case 'similarity':
      return { spec, parsed, measure, ids, readout: null, protect: null, reference: parsed.reference };
    case 'target':
      throw notSeq2Seq(facts, spec);
    case 'contrast': {
      if (parsed.target !== undefined) throw notSeq2Seq(facts, spec);
      needCausal(facts, spec);
      const p = parsed.position;
      if (p !== undefined && p > S)
        throw new LensError('BAD_INPUT', `${spec} is past the ${S} tokens of the input (POS 1..${S}).`);
      const token = contrastTokenId(tokenizer, facts, parsed.a, spec);
      const contrast = contrastTokenId(tokenizer, facts, parsed.b, spec);
      if (token === contrast)
        throw new LensError(
          'BAD_INPUT',
          `In "${spec}" A and B are the same token (id ${token}); contrast two different tokens.`,
        );
      const readout = p === undefined ? S - 1 : p - 1;
      return { spec, parsed, measure, ids, readout, protect: null, token, contrast };
    }
  }
}

/** The explained token: the spec's, or the argmax of the unperturbed logits row at the readout. */
export function targetToken(plan: TargetPlan, logits: Float32Array, width: number): number | undefined {
  if (plan.measure === 'cosine') return undefined;
  return plan.token ?? argmax(logits, 0, width);
}

/** A one-line description: what is measured, of which token, where. */
export function targetLabel(plan: TargetPlan, tokenText: (id: number) => string): string {
  const tok = (id: number) => JSON.stringify(tokenText(id));
  switch (plan.parsed.kind) {
    case 'next':
      return `${plan.parsed.prob ? 'p' : 'log p'}(${tok(plan.token!)} next | input)${plan.parsed.token === undefined ? ', the most likely next token' : ''}`;
    case 'token':
      return `${plan.parsed.prob ? 'p' : 'log p'}(${tok(plan.token!)} at position ${plan.parsed.position} | tokens before)`;
    case 'mask':
      return `p(${tok(plan.token!)} at [MASK], position ${plan.readout})${plan.parsed.token === undefined && plan.parsed.position === undefined ? ', the most likely token' : ''}`;
    case 'similarity':
      return `cos(mean-pooled embedding, embedding of ${JSON.stringify(plan.reference)})`;
    case 'target':
      return plan.spec; // encoder–decoders label their targets in seq2seq-target.ts
    case 'contrast': {
      const where =
        plan.parsed.position === undefined ? 'next | input' : `at position ${plan.parsed.position} | tokens before`;
      return `log p(${tok(plan.token!)} ${where}) − log p(${tok(plan.contrast!)} ${where})`;
    }
  }
}
