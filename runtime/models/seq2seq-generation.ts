// The decoding settings of an encoder–decoder model's generation_config.json that beam search
// (runtime/generate/seq2seq-beam.ts) and greedy search follow as transformers' generate() does: length_penalty,
// early_stopping, the logits processors it builds from repetition_penalty, no_repeat_ngram_size, bad_words_ids
// (single tokens), min_length, min_new_tokens, forced_bos_token_id, forced_eos_token_id, suppress_tokens and
// begin_suppress_tokens. A setting that would change the chosen tokens and is not implemented here
// stops a beam search with a line naming the field (never a silently different translation). Node-free: the folder
// reader (seq2seq-read.ts) passes the parsed JSON.
import { LensError } from '../errors';

export interface Seq2SeqGeneration {
  /** Beam scores are divided by (generated length) ** lengthPenalty (transformers' default 1). */
  lengthPenalty: number;
  /** transformers' early_stopping: false (the heuristic), true (stop when num_beams hypotheses are done), 'never'. */
  earlyStopping: boolean | 'never';
  /** Tokens never generated (bad_words_ids entries of one token; Marian's <pad>). */
  badTokenIds: number[];
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
    suppressTokens: [],
    beginSuppressTokens: [],
    unsupported: [],
  };
  const lp = field('length_penalty');
  if (typeof lp === 'number' && Number.isFinite(lp)) g.lengthPenalty = lp;
  const es = field('early_stopping');
  if (es === true || es === false || es === 'never') g.earlyStopping = es;
  const bad = field('bad_words_ids');
  if (Array.isArray(bad))
    for (const w of bad) {
      if (Array.isArray(w) && w.length === 1 && isId(w[0])) g.badTokenIds.push(w[0]);
      else if (Array.isArray(w) && w.length > 1) g.unsupported.push('bad_words_ids (sequences of several tokens)');
    }
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
    ['encoder_repetition_penalty', (v) => typeof v === 'number' && v !== 1],
    ['encoder_no_repeat_ngram_size', (v) => typeof v === 'number' && v > 0],
    ['num_beam_groups', (v) => typeof v === 'number' && v > 1],
    ['diversity_penalty', (v) => typeof v === 'number' && v !== 0],
    ['exponential_decay_length_penalty', set],
    ['forced_decoder_ids', (v) => Array.isArray(v) && v.length > 0],
    ['sequence_bias', set],
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
