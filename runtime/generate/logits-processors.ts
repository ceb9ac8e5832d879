// transformers' logits processors for encoder–decoder translation, the ones generate() builds from a model's
// generation_config whatever the search: repetition_penalty, no repeated n-gram, bad_words_ids (single tokens),
// min_length, min_new_tokens, the forced first token (forced_bos_token_id: BART's <s>, mBART-50's target language),
// eos forced at the length limit (forced_eos_token_id), suppress_tokens and begin_suppress_tokens. Beam search
// (seq2seq-beam.ts) applies them to each hypothesis' log-probabilities; greedy translation (the family graphs'
// Seq2SeqRunner.translate and imported exports, inspector/import-seq2seq.ts) to the raw logits before taking the
// largest, as transformers' greedy search does — so a greedy translation is the one `generate(num_beams=1)` gives,
// not the model's unprocessed argmax.
import { LensError } from '../errors';
import type { Seq2SeqGeneration } from '../models/seq2seq-generation';

export interface ProcessorOptions {
  vocabSize: number;
  eosTokenId: number;
  /** Most generated tokens (transformers' max_length − 1: the decoder start counts there). */
  maxNew: number;
  generation: Seq2SeqGeneration;
}

/**
 * Sets the banned and forced entries of `scores` [V] (log-probabilities or raw logits) for the next token of a
 * hypothesis of `tokens` (decoder start included, transformers' cur_len = tokens.length), in place.
 */
export function applyProcessors(scores: Float64Array, tokens: readonly number[], o: ProcessorOptions): Float64Array {
  const V = o.vocabSize;
  const g = o.generation;
  const curLen = tokens.length;
  // In transformers' order: repetition penalty, no repeated n-gram, bad words, min length, min new tokens, forced
  // first and last token, suppressed tokens, tokens suppressed at the start. Scores are float32 there.
  if (g.repetitionPenalty !== 1) {
    const p = Math.fround(g.repetitionPenalty);
    for (const id of new Set(tokens))
      if (id < V) scores[id] = Math.fround(scores[id] < 0 ? scores[id] * p : scores[id] / p);
  }
  const n = g.noRepeatNgramSize;
  if (n > 0 && curLen + 1 >= n) {
    // Ban every token that would complete an n-gram already in the hypothesis.
    const prefix = tokens.slice(curLen - n + 1);
    for (let i = 0; i + n <= curLen; i++) {
      let same = true;
      for (let j = 0; j < n - 1 && same; j++) same = tokens[i + j] === prefix[j];
      if (same) scores[tokens[i + n - 1]] = -Infinity;
    }
  }
  for (const id of g.badTokenIds) if (id < V) scores[id] = -Infinity;
  if (curLen < g.minLength) scores[o.eosTokenId] = -Infinity;
  if (curLen - 1 < g.minNewTokens) scores[o.eosTokenId] = -Infinity; // the decoder start is the prompt
  const force = (id: number) => {
    scores.fill(-Infinity);
    scores[id] = 0;
  };
  if (g.forcedBosTokenId !== undefined && curLen === 1) force(g.forcedBosTokenId);
  if (g.forcedEosTokenId !== undefined && curLen === o.maxNew) force(g.forcedEosTokenId);
  for (const id of g.suppressTokens) if (id < V) scores[id] = -Infinity;
  // The first generated token, or the one after a forced first token.
  if (curLen === (g.forcedBosTokenId === undefined ? 1 : 2))
    for (const id of g.beginSuppressTokens) if (id < V) scores[id] = -Infinity;
  return scores;
}

/**
 * Greedy search's next token after `tokens` (decoder start included) from row `row` of `logits` [rows, V]: the
 * processors on the raw logits, then the first largest (torch.argmax's choice among equals).
 */
export function greedyToken(logits: Float32Array, row: number, tokens: readonly number[], o: ProcessorOptions): number {
  const V = o.vocabSize;
  const scores = applyProcessors(Float64Array.from(logits.subarray(row * V, (row + 1) * V)), tokens, o); // [V]
  let id = 0;
  for (let v = 1; v < V; v++) if (scores[v] > scores[id]) id = v;
  if (scores[id] === -Infinity)
    throw new LensError(
      'BAD_INPUT',
      "The model's generation_config.json bans every token at this step (bad_words_ids, suppress_tokens, min_length, no_repeat_ngram_size); translate with other settings or give the target.",
    );
  return id;
}
