// The target of an explanation on an encoder–decoder (marian, bart, mbart, t5): a scalar of the teacher-forced decoder over
// the target tokens y (the model's greedy translation, or the user's target text), with the source as what is
// explained. Decoder row i reads [start] + y[:-1] at i and predicts y_i.
//   target                  Σ_i log p(y_i | source, y_<i)            the whole target's log-probability
//   target:POS              log p(y_POS | source, y_<POS)            1 ≤ POS ≤ |y|
//   contrast:A|B@target:POS log p(A | …) − log p(B | …) at row POS − 1 (contrast:A|B@POS reads the same here)
// A and B are read with the target tokenizer. Other targets name the wrong kind of model and say what to use.
import { LensError } from '../errors';
import type { Tokenizer } from '../tokenizers/tokenizer';
import type { ModelFacts, Token } from '../types';
import type { TargetMeasure } from '../analysis/targets';
import { contrastTokenId } from './target';
import { formatTargetSpec, targetMeasure, type TargetSpec } from './target-spec';

export const SEQ2SEQ_TARGETS = 'target, target:POS or contrast:A|B@target:POS';

/** study only: one explanation per target token (target:1 … target:T of each row's target), not a target spec. */
export const EACH_TARGET_TOKEN = 'target:each';

export interface Seq2SeqTargetPlan {
  spec: string;
  kind: 'target' | 'contrast';
  measure: TargetMeasure;
  /** Flat (decoder row, token) pairs whose log-probabilities make the target. */
  picks: number[];
  combine: 'sum' | 'difference';
  /** Per target row: its weight in the attention methods' pooled row (one row, or every row alike). */
  rows: number[];
  /** The explained target row (0-based), or null for the whole target. */
  row: number | null;
  /** The explained token (target:POS, contrast's A). */
  token?: number;
  /** contrast: B. */
  contrast?: number;
}

const use = (spec: string, name: string, why: string) =>
  new LensError(
    'BAD_INPUT',
    `The target "${spec}" ${why}; ${name} is an encoder–decoder model: use ${SEQ2SEQ_TARGETS}.`,
  );

/** Plans a parsed target over the target tokens `labels` of an encoder–decoder. */
export function planSeq2SeqTarget(
  parsed: TargetSpec,
  labels: readonly Token[],
  facts: ModelFacts,
  tokenizer: Tokenizer | undefined,
): Seq2SeqTargetPlan {
  const spec = formatTargetSpec(parsed);
  const T = labels.length;
  const past = (pos: number, what: string) =>
    new LensError(
      'BAD_INPUT',
      `${what} is past the ${T} target token${T === 1 ? '' : 's'} (POS 1..${T}: ${labels.map((t) => JSON.stringify(t.text)).join(' ')}).`,
    );
  switch (parsed.kind) {
    case 'target': {
      if (parsed.position === undefined)
        return {
          spec,
          kind: 'target',
          measure: targetMeasure(parsed),
          picks: labels.flatMap((t, i) => [i, t.id]),
          combine: 'sum',
          rows: labels.map(() => 1),
          row: null,
        };
      const p = parsed.position;
      if (p > T) throw past(p, spec);
      return {
        spec,
        kind: 'target',
        measure: targetMeasure(parsed),
        picks: [p - 1, labels[p - 1].id],
        combine: 'sum',
        rows: labels.map((_, i) => (i === p - 1 ? 1 : 0)),
        row: p - 1,
        token: labels[p - 1].id,
      };
    }
    case 'contrast': {
      if (parsed.generated !== undefined)
        throw use(spec, facts.name, 'names a generated token of a decoder-only model');
      const p = parsed.target ?? parsed.position;
      if (p === undefined)
        throw new LensError(
          'BAD_INPUT',
          `The target "${spec}" needs the target position on an encoder–decoder model: contrast:${parsed.a}|${parsed.b}@target:POS (POS 1..${T}).`,
        );
      if (p > T) throw past(p, spec);
      const side = tokenizer?.target ?? tokenizer;
      const a = contrastTokenId(side, facts, parsed.a, spec);
      const b = contrastTokenId(side, facts, parsed.b, spec);
      if (a === b)
        throw new LensError(
          'BAD_INPUT',
          `In "${spec}" A and B are the same token (id ${a}); contrast two different tokens.`,
        );
      return {
        spec: formatTargetSpec({ kind: 'contrast', a: parsed.a, b: parsed.b, target: p }),
        kind: 'contrast',
        measure: targetMeasure(parsed),
        picks: [p - 1, a, p - 1, b],
        combine: 'difference',
        rows: labels.map((_, i) => (i === p - 1 ? 1 : 0)),
        row: p - 1,
        token: a,
        contrast: b,
      };
    }
    case 'next':
    case 'token':
    case 'generated':
      throw use(spec, facts.name, 'is a next-token prediction of a decoder-only model');
    case 'mask':
      throw use(spec, facts.name, 'is a masked-LM prediction');
    case 'similarity':
      throw use(spec, facts.name, 'compares pooled embeddings of an encoder');
  }
}

/** One line: what is measured, of which tokens. */
export function seq2seqTargetLabel(
  plan: Seq2SeqTargetPlan,
  labels: readonly Token[],
  text: (id: number) => string,
): string {
  const tok = (id: number) => JSON.stringify(text(id));
  if (plan.kind === 'target' && plan.row === null)
    return `log p(target | source) = Σ log p(y_i | source, y_<i) over the ${labels.length} target tokens`;
  const where = `at target position ${plan.row! + 1} | source, target tokens before`;
  if (plan.kind === 'target') return `log p(${tok(plan.token!)} ${where})`;
  return `log p(${tok(plan.token!)} ${where}) − log p(${tok(plan.contrast!)} ${where})`;
}
