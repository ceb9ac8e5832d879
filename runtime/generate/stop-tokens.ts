// The tokens that end a generation, read from the tokenizer: its EOS and the end-of-turn tokens chat models use, so
// that a chat prompt's continuation stops at the end of the model's turn. Pure (no Node), for the CLI, the workers'
// callers and the extension alike.
import type { Tokenizer } from '../tokenizers/tokenizer';

/** End-of-turn / end-of-text pieces of the chat families this runtime loads. */
export const END_OF_TURN_PIECES = ['<|im_end|>', '<|endoftext|>', '<|eot_id|>', '<end_of_turn>', '<|end|>', '</s>'];

/** The ids that end a generation: the tokenizer's EOS, the end-of-turn tokens chat models use, and the model's own
 * (`model`: generation_config.json's eos_token_id, else config.json's — ModelFacts.stopTokenIds), as transformers'
 * generate() stops at every id of that list. */
export function stopTokenIds(
  tokenizer: Pick<Tokenizer, 'special' | 'tokenToId'>,
  model: readonly number[] = [],
): Set<number> {
  const ids = new Set<number>(model);
  if (tokenizer.special.eos !== undefined) ids.add(tokenizer.special.eos);
  for (const t of END_OF_TURN_PIECES) {
    const id = tokenizer.tokenToId(t);
    if (id !== undefined) ids.add(id);
  }
  return ids;
}
