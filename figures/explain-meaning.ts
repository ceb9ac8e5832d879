// What the Explain view's numbers mean and what unit they are in, in words for the panel and the export alike: the
// target's measure (log-probability in nats, probability, cosine similarity), what each method's score is (which
// layer and heads the attention methods read — the panel asks for the defaults of runtime/explain: the last layer,
// the mean of heads; rollout from layer 0), and the faithfulness plots' y axis. Pure.
import type { ExplainResult, MethodScores } from '../runtime/explain/result';

/** The target's unit: "log-probability (nats)", "probability (0–1)", "cosine similarity (−1–1)". */
export function measureUnit(result: ExplainResult): string {
  switch (result.target.measure) {
    case 'log-prob':
      return 'log-probability (nats)';
    case 'prob':
      return 'probability (0–1)';
    case 'cosine':
      return 'cosine similarity (−1–1)';
    case 'log-odds':
      return 'log-probability difference log p(A) − log p(B) (nats)';
    default:
      return 'target value';
  }
}

/** The target's unit in a few words, for an axis ("log-prob, nats"). */
export function measureShort(result: ExplainResult): string {
  switch (result.target.measure) {
    case 'log-prob':
      return 'log-prob, nats';
    case 'prob':
      return 'probability';
    case 'cosine':
      return 'cosine';
    case 'log-odds':
      return 'log p(A) − log p(B), nats';
    default:
      return 'target';
  }
}

/** One line: what a method's score of a token is, and its unit. */
export function methodMeaning(m: Pick<MethodScores, 'id' | 'label'>, result: ExplainResult): string {
  const last = result.model.layers - 1;
  const unit = measureUnit(result);
  const removal =
    result.perturbation === 'remove'
      ? 'removed'
      : result.perturbation === 'hide'
        ? 'hidden from attention'
        : 'replaced by the mask token';
  switch (m.id) {
    case 'raw-attention':
      return `attention weight (0–1) from the target position to each token: layer ${last} (the last), mean of the ${result.model.heads} heads`;
    case 'rollout':
      return `attention rollout (0–1): attention with the residual path multiplied through layers 0–${last}, mean of heads`;
    case 'flow':
      return `attention flow (0–1, sums to 1): max-flow through layers 0–${last}, mean of heads`;
    case 'loo':
      return `leave-one-out: drop of the target's ${unit} when the token is ${removal}`;
    case 'occlusion':
      return `occlusion: drop of the target's ${unit} when a window of tokens around the token is ${removal}`;
    case 'norm':
      return `‖αf(x)‖: norm of each token's attention-weighted value vector, layer ${last}, mean of heads (hidden-state units)`;
    case 'norm-rollout':
      return `norm rollout (0–1): the norm-based attention multiplied through layers 0–${last}`;
    case 'alti':
      return `ALTI (0–1, sums to 1): each token's share of the attention blocks' outputs by L1 distance (residual and LayerNorm included), rolled out through layers 0–${last}`;
    case 'value-zeroing':
      return `value zeroing (0–1, sums to 1): how far the target's layer-${last} output turns (cosine distance) when the token's value vectors are zeroed`;
    case 'value-zeroing-rollout':
      return `value zeroing rolled out through layers 0–${last} (0–1, sums to 1)`;
    case 'uniform':
      return 'the baseline: every candidate token the same weight (1/n); it ranks nothing';
    default:
      return `${m.label}: score per token (higher: more important)`;
  }
}

/** The faithfulness plots' y-axis title: the drop of the target, in its unit. */
export function faithfulnessAxis(result: ExplainResult): string {
  return `drop of the target (${measureShort(result)})`;
}
