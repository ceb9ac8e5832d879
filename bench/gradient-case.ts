// The input the gradient benches share (bench/gradients.ts, bench/ig-ab.ts), so that their figures are of the same
// case: one story, tokenized by the model's own tokenizer and cut to `tokens`, and the target issue 18's figures use —
// log p of token 13 at the last position for a causal LM, the cosine of the mean-pooled last hidden state with a
// fixed reference for an encoder.
import { readModel, type ModelSource } from '../runtime/models/read-model';
import type { GradientTarget } from '../runtime/grad/gradients';
import { loadTokenizer } from '../runtime/tokenizers';

export const STORY =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw ' +
  'a big, red ball. She wanted to play with it, but it was too high. Lily asked her mom to help her. Her mom said ' +
  'yes and they played together all day long until the sun went down behind the hills.';

/** The bench target of a model: log p(token 13) at the last of `S` positions, or the pooled state's cosine. */
export function benchTarget(kind: 'causal' | 'encoder', S: number, hidden: number): GradientTarget {
  return kind === 'encoder'
    ? { measure: 'cosine', reference: Array.from({ length: hidden }, (_, i) => Math.sin(i + 1)) }
    : { measure: 'log-prob', readout: S - 1, token: 13 };
}

/** The model in `dir`, the story's first `tokens` ids, and the target of `kind`. */
export async function gradientCase(
  dir: string,
  tokens: number,
  kind: 'causal' | 'encoder',
): Promise<{ source: ModelSource; ids: number[]; target: GradientTarget }> {
  const source = await readModel(dir);
  const tokenizer = await loadTokenizer(dir);
  const ids = tokenizer
    .encode(STORY)
    .map((t) => t.id)
    .slice(0, tokens);
  return { source, ids, target: benchTarget(kind, ids.length, source.config.hidden) };
}
