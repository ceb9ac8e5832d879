// transformers' logits processors for encoder–decoder translation, the ones generate() builds from a model's
// generation_config whatever the search: sequence_bias, encoder_repetition_penalty, repetition_penalty, no repeated
// n-gram (of the hypothesis and of the source), bad_words_ids, min_length, min_new_tokens, the forced first token
// (forced_bos_token_id: BART's <s>, mBART-50's target language), eos forced at the length limit
// (forced_eos_token_id), exponential_decay_length_penalty, suppress_tokens and begin_suppress_tokens. Beam search
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
  /** The source's ids as the encoder read them (eos included): what the encoder_* processors look at. */
  encoderIds: readonly number[];
}

/** True when `tokens` ends with `prefix`. */
function endsWith(tokens: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > tokens.length) return false;
  const at = tokens.length - prefix.length;
  for (let j = 0; j < prefix.length; j++) if (tokens[at + j] !== prefix[j]) return false;
  return true;
}

/** Bans every token that would complete an n-gram of `seen` (the hypothesis, or the source) after `tokens`. */
function banNgrams(scores: Float64Array, tokens: readonly number[], seen: readonly number[], n: number): void {
  if (tokens.length + 1 < n) return;
  const prefix = tokens.slice(tokens.length - n + 1); // the last n − 1 tokens ([] for n = 1)
  for (let i = 0; i + n <= seen.length; i++) {
    let same = true;
    for (let j = 0; j < n - 1 && same; j++) same = seen[i + j] === prefix[j];
    if (same && seen[i + n - 1] < scores.length) scores[seen[i + n - 1]] = -Infinity;
  }
}

/** transformers' repetition penalty over `ids` (each once): a negative score × p, any other ÷ p, in float32. */
function penalise(scores: Float64Array, ids: readonly number[], p: number): void {
  for (const id of new Set(ids))
    if (id < scores.length) scores[id] = Math.fround(scores[id] < 0 ? scores[id] * p : scores[id] / p);
}

/**
 * Sets the banned and forced entries of `scores` [V] (log-probabilities or raw logits) for the next token of a
 * hypothesis of `tokens` (decoder start included, transformers' cur_len = tokens.length), in place.
 */
export function applyProcessors(scores: Float64Array, tokens: readonly number[], o: ProcessorOptions): Float64Array {
  const V = o.vocabSize;
  const g = o.generation;
  const curLen = tokens.length;
  const f = Math.fround;
  // In transformers' order (generation/utils.py, _get_logits_processor), each in float32 as torch computes it.
  if (g.sequenceBias.length > 0) {
    const bias = new Float64Array(V);
    // One-token entries first, then the longer ones (transformers' order of additions).
    const entries = [
      ...g.sequenceBias.filter((e) => e.ids.length === 1),
      ...g.sequenceBias.filter((e) => e.ids.length > 1),
    ];
    for (const { ids, bias: b } of entries) {
      const last = ids[ids.length - 1];
      const outside = ids.find((id) => id >= V);
      if (outside !== undefined)
        throw new LensError(
          'UNSUPPORTED_MODEL',
          `The model's generation_config.json biases token ${outside} (sequence_bias), but its vocabulary has ${V} tokens; correct or remove sequence_bias.`,
        );
      if (endsWith(tokens, ids.slice(0, -1))) bias[last] = f(bias[last] + f(b));
    }
    for (let v = 0; v < V; v++) if (bias[v] !== 0) scores[v] = f(scores[v] + bias[v]);
  }
  // The source's penalty: transformers keeps 1 / the setting, so it favours the source's tokens above 1.
  if (g.encoderRepetitionPenalty !== 1) penalise(scores, o.encoderIds, f(1 / g.encoderRepetitionPenalty));
  if (g.repetitionPenalty !== 1) penalise(scores, tokens, f(g.repetitionPenalty));
  if (g.noRepeatNgramSize > 0) banNgrams(scores, tokens, tokens, g.noRepeatNgramSize);
  if (g.encoderNoRepeatNgramSize > 0) banNgrams(scores, tokens, o.encoderIds, g.encoderNoRepeatNgramSize);
  for (const id of g.badTokenIds) if (id < V) scores[id] = -Infinity;
  for (const w of g.badSequences)
    if (w[w.length - 1] < V && endsWith(tokens, w.slice(0, -1))) scores[w[w.length - 1]] = -Infinity;
  if (curLen < g.minLength) scores[o.eosTokenId] = -Infinity;
  if (curLen - 1 < g.minNewTokens) scores[o.eosTokenId] = -Infinity; // the decoder start is the prompt
  const force = (id: number) => {
    scores.fill(-Infinity);
    scores[id] = 0;
  };
  if (g.forcedBosTokenId !== undefined && curLen === 1) force(g.forcedBosTokenId);
  if (g.forcedEosTokenId !== undefined && curLen === o.maxNew) force(g.forcedEosTokenId);
  // Past `start` generated tokens (transformers' regulation start: start + the decoder start), eos gains
  // |its score| · (factor^k − 1) at the k-th token.
  const decay = g.exponentialDecay;
  if (decay && curLen > decay.start + 1 && Number.isFinite(scores[o.eosTokenId])) {
    const e = o.eosTokenId;
    scores[e] = f(scores[e] + f(Math.abs(scores[e]) * f(Math.pow(decay.factor, curLen - decay.start - 1) - 1)));
  }
  for (const id of g.suppressTokens) if (id < V) scores[id] = -Infinity;
  // The first generated token, or the one after a forced first token.
  if (curLen === (g.forcedBosTokenId === undefined ? 1 : 2))
    for (const id of g.beginSuppressTokens) if (id < V) scores[id] = -Infinity;
  return scores;
}

/** The end of the line that says the processors left no token to choose (greedy) or no hypothesis (beam search). */
export const BANNED_BY =
  '(bad_words_ids, suppress_tokens, min_length, no_repeat_ngram_size, encoder_no_repeat_ngram_size, sequence_bias); ' +
  'translate with other settings or give the target';

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
    throw new LensError('BAD_INPUT', `The model's generation_config.json bans every token at this step ${BANNED_BY}.`);
  return id;
}
