// The decoding settings of an encoder–decoder model's generation_config.json that beam search
// (runtime/generate/seq2seq-beam.ts) and greedy search follow as transformers' generate() does: length_penalty,
// early_stopping, the logits processors it builds from sequence_bias, encoder_repetition_penalty, repetition_penalty,
// no_repeat_ngram_size, encoder_no_repeat_ngram_size, bad_words_ids, min_length, min_new_tokens,
// forced_bos_token_id, forced_eos_token_id, exponential_decay_length_penalty, suppress_tokens and
// begin_suppress_tokens. A setting that would change the chosen tokens and is not implemented here (constrained or
// guided search, group beam search for greedy) stops the search with a line naming the field (never a silently
// different translation). Node-free: the folder reader (seq2seq-read.ts) passes the parsed JSON.
import { LensError } from '../errors';

export interface Seq2SeqGeneration {
  /** Beam scores are divided by (generated length) ** lengthPenalty (transformers' default 1). */
  lengthPenalty: number;
  /** transformers' early_stopping: false (the heuristic), true (stop when num_beams hypotheses are done), 'never'. */
  earlyStopping: boolean | 'never';
  /** Tokens never generated (bad_words_ids entries of one token; Marian's <pad>; eos alone is never banned). */
  badTokenIds: number[];
  /** bad_words_ids entries of several tokens: the last is banned after a hypothesis that ends with the others. */
  badSequences: number[][];
  /** sequence_bias: a bias added to the last token's score after a hypothesis that ends with the others (always,
   * for one token). */
  sequenceBias: { ids: number[]; bias: number }[];
  /** Scores of the source's tokens (the encoder's ids, eos included): negative ones ÷ this, others × this
   * (transformers' EncoderRepetitionPenaltyLogitsProcessor, which uses 1 / the setting; 1: off). */
  encoderRepetitionPenalty: number;
  /** No n-gram of this size of the source is generated (0: off). */
  encoderNoRepeatNgramSize: number;
  /** exponential_decay_length_penalty: past `start` generated tokens, eos's score grows by |score| · (factor^k − 1)
   * at the k-th token after it. */
  exponentialDecay?: { start: number; factor: number };
  /** The first generated token, when forced. */
  forcedBosTokenId?: number;
  /** The token forced at the last allowed position (the length limit). */
  forcedEosTokenId?: number;
  /** eos is banned while decoder start + generated tokens are fewer than this. */
  minLength: number;
  /** eos is banned while generated tokens (the decoder start not counted) are fewer than this. */
  minNewTokens: number;
  /** Scores of tokens already in the hypothesis (decoder start included): negative ones × this, others ÷ this
   * (transformers' RepetitionPenaltyLogitsProcessor; 1: off). */
  repetitionPenalty: number;
  /** Tokens never generated (suppress_tokens). */
  suppressTokens: number[];
  /** Tokens not generated first (begin_suppress_tokens: the first token after the decoder start, or after the
   * forced first token). */
  beginSuppressTokens: number[];
  /** No n-gram of this size occurs twice in a hypothesis (0: off). */
  noRepeatNgramSize: number;
  /** Fields set to something beam search here does not implement (each stops a beam search by name). */
  unsupported: string[];
}

export const DEFAULT_GENERATION: Seq2SeqGeneration = {
  lengthPenalty: 1,
  earlyStopping: false,
  badTokenIds: [],
  badSequences: [],
  sequenceBias: [],
  encoderRepetitionPenalty: 1,
  encoderNoRepeatNgramSize: 0,
  minLength: 0,
  minNewTokens: 0,
  repetitionPenalty: 1,
  suppressTokens: [],
  beginSuppressTokens: [],
  noRepeatNgramSize: 0,
  unsupported: [],
};

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** eos_token_id as a list (a generation_config may give one id or several). */
function eosList(v: unknown): number[] {
  return isId(v) ? [v] : Array.isArray(v) ? v.filter(isId) : [];
}

/** The settings of a parsed generation_config.json; without one (undefined), those config.json holds (older
 * checkpoints keep them there; transformers then builds its generation config from the model's). */
export function readGeneration(
  raw: Record<string, unknown> | undefined,
  fallback: Record<string, unknown> = {},
): Seq2SeqGeneration {
  const from = raw ?? fallback;
  const field = (name: string): unknown => from[name];
  const g: Seq2SeqGeneration = {
    ...DEFAULT_GENERATION,
    badTokenIds: [],
    badSequences: [],
    sequenceBias: [],
    suppressTokens: [],
    beginSuppressTokens: [],
    unsupported: [],
  };
  const lp = field('length_penalty');
  if (typeof lp === 'number' && Number.isFinite(lp)) g.lengthPenalty = lp;
  const es = field('early_stopping');
  if (es === true || es === false || es === 'never') g.earlyStopping = es;
  const bad = field('bad_words_ids');
  if (Array.isArray(bad) && bad.length > 0 && bad.every((w) => Array.isArray(w) && w.length > 0 && w.every(isId))) {
    // transformers' NoBadWordsLogitsProcessor drops an entry that is eos alone (generation still ends).
    const eosIds = eosList(field('eos_token_id') ?? fallback.eos_token_id); // generation_config's, else config.json's
    for (const w of bad as number[][])
      if (w.length === 1) {
        if (!eosIds.includes(w[0])) g.badTokenIds.push(w[0]);
      } else g.badSequences.push([...w]);
  } else if (bad !== undefined && bad !== null) g.unsupported.push('bad_words_ids (not a list of token-id lists)');
  const bias = field('sequence_bias');
  if (
    Array.isArray(bias) &&
    bias.length > 0 &&
    bias.every(
      (e) =>
        Array.isArray(e) &&
        e.length === 2 &&
        Array.isArray(e[0]) &&
        e[0].length > 0 &&
        (e[0] as unknown[]).every(isId) &&
        typeof e[1] === 'number' &&
        Number.isFinite(e[1]),
    )
  )
    for (const [ids, b] of bias as [number[], number][]) g.sequenceBias.push({ ids: [...ids], bias: b });
  else if (bias !== undefined && bias !== null)
    g.unsupported.push('sequence_bias (not a list of [token ids, bias] pairs)');
  const encPenalty = field('encoder_repetition_penalty');
  if (typeof encPenalty === 'number' && Number.isFinite(encPenalty) && encPenalty > 0)
    g.encoderRepetitionPenalty = encPenalty;
  else if (encPenalty !== undefined && encPenalty !== null)
    g.unsupported.push('encoder_repetition_penalty (not a positive number)');
  const encNgram = field('encoder_no_repeat_ngram_size');
  if (isId(encNgram)) g.encoderNoRepeatNgramSize = encNgram;
  const decay = field('exponential_decay_length_penalty');
  if (
    Array.isArray(decay) &&
    decay.length === 2 &&
    isId(decay[0]) &&
    typeof decay[1] === 'number' &&
    Number.isFinite(decay[1])
  )
    g.exponentialDecay = { start: decay[0], factor: decay[1] };
  else if (decay !== undefined && decay !== null)
    g.unsupported.push('exponential_decay_length_penalty (not [start index, decay factor])');
  const bos = field('forced_bos_token_id');
  if (isId(bos)) g.forcedBosTokenId = bos;
  const eos = field('forced_eos_token_id');
  if (isId(eos)) g.forcedEosTokenId = eos;
  const min = field('min_length');
  if (isId(min)) g.minLength = min;
  const ngram = field('no_repeat_ngram_size');
  if (isId(ngram)) g.noRepeatNgramSize = ngram;
  const minNew = field('min_new_tokens');
  if (isId(minNew)) g.minNewTokens = minNew;
  const penalty = field('repetition_penalty');
  if (typeof penalty === 'number' && Number.isFinite(penalty) && penalty > 0) g.repetitionPenalty = penalty;
  else if (penalty !== undefined && penalty !== null) g.unsupported.push('repetition_penalty (not a positive number)');
  const ids = (name: string, into: number[]) => {
    const v = field(name);
    if (Array.isArray(v) && v.every(isId)) into.push(...v);
    else if (v !== undefined && v !== null) g.unsupported.push(`${name} (not a list of token ids)`);
  };
  ids('suppress_tokens', g.suppressTokens);
  ids('begin_suppress_tokens', g.beginSuppressTokens);
  const set = (v: unknown) => v !== null && v !== undefined;
  const off: [string, (v: unknown) => boolean][] = [
    ['num_beam_groups', (v) => typeof v === 'number' && v > 1],
    ['diversity_penalty', (v) => typeof v === 'number' && v !== 0],
    ['forced_decoder_ids', (v) => Array.isArray(v) && v.length > 0],
    ['force_words_ids', (v) => Array.isArray(v) && v.length > 0],
    ['constraints', (v) => Array.isArray(v) && v.length > 0],
    ['guidance_scale', (v) => typeof v === 'number' && v !== 1],
    ['penalty_alpha', (v) => typeof v === 'number' && v > 0],
    ['dola_layers', set],
    ['watermarking_config', set],
  ];
  for (const [name, set] of off) if (set(field(name))) g.unsupported.push(name);
  return g;
}

/** Settings of beam search alone (group beam search): greedy search has nothing to do with them. */
const BEAM_ONLY = new Set(['num_beam_groups', 'diversity_penalty']);

/** Stops a greedy translation on a model whose generation_config sets a processor it does not implement (greedy
 * generate() would apply it: the translation would differ). */
export function checkGreedySettings(g: Seq2SeqGeneration, where: string): void {
  const off = g.unsupported.filter((name) => !BEAM_ONLY.has(name));
  if (off.length > 0)
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${where} sets ${off.join(', ')}, which translation here does not implement; give the target to score instead.`,
    );
}

/** Stops a beam search on a model whose generation_config sets what it does not implement. */
export function checkBeamSettings(g: Seq2SeqGeneration, where: string): void {
  if (g.unsupported.length > 0)
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${where} sets ${g.unsupported.join(', ')}, which beam search here does not implement; ` +
        (g.unsupported.every((name) => BEAM_ONLY.has(name))
          ? 'translate with beams 1 (greedy) or give the target.'
          : 'give the target to score instead.'),
    );
}
