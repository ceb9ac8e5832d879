// The target side of an encoder–decoder run on the calling thread: checks what the caller asked (a target to score,
// or a translation; neither fits a decoder-only or encoder-only model), tokenizes a target text as transformers'
// `text_target` does (the target tokenizer, its special tokens: Marian's </s>, BART's <s> … </s>, T5's </s>), and
// turns the worker's answer (ids, log-probabilities) into the run's RunTargetResult.
import { LensError } from '../errors';
import type { Tokenizer } from '../tokenizers/tokenizer';
import type { ModelFacts, Token } from '../types';
import type { RunOptions, RunTargetResult } from './api';
import { languagesOf, tokensOfIds } from './input';
import { DEFAULT_MAX_TARGET, MAX_BEAMS } from './seq2seq-constants';
import type { RunTarget } from './worker-protocol';

export interface PreparedTarget {
  request: RunTarget;
  /** The target's tokens when it was given. */
  given?: Token[];
}

/** What a run asks of the decoder, checked; undefined for a model that is not an encoder–decoder. */
export function prepareTarget(
  options: Pick<RunOptions, 'target' | 'translate' | 'beams' | 'onTargetStep' | 'targetLanguage'>,
  facts: ModelFacts,
  tokenizer: Tokenizer | undefined,
): PreparedTarget | undefined {
  const translate = options.translate !== undefined && options.translate !== false;
  const ed = facts.encoderDecoder;
  const beams = options.beams ?? 1;
  if (!Number.isInteger(beams) || beams < 1 || beams > MAX_BEAMS)
    throw new LensError('BAD_INPUT', `The beam size must be a whole number from 1 to ${MAX_BEAMS}, not ${beams}.`);
  if (!ed) {
    if (beams > 1)
      throw new LensError(
        'BAD_INPUT',
        `${facts.name} (${facts.modelType}) is not an encoder–decoder model, so it has no beam search; use a translation model such as marian, bart or t5, or leave the beams out.`,
      );
    if (options.target !== undefined)
      throw new LensError(
        'BAD_INPUT',
        `${facts.name} (${facts.modelType}) is not an encoder–decoder model, so it takes no target text; use a translation model such as marian, bart or t5, or leave the target out.`,
      );
    if (translate)
      throw new LensError(
        'BAD_INPUT',
        `${facts.name} (${facts.modelType}) is not an encoder–decoder model, so it cannot translate; use a translation model such as marian, bart or t5.`,
      );
    if (options.targetLanguage !== undefined) languagesOf(undefined, facts, 'target language');
    return undefined;
  }
  // mBART: the target language asked for, as the tokenizer with that code (a given text) and its id (a translation).
  const language =
    options.targetLanguage === undefined
      ? undefined
      : {
          tokenizer: languagesOf(tokenizer, facts, 'target language').withLanguage(options.targetLanguage),
          id: tokenizer!.languages!.codes.get(options.targetLanguage)!,
          kind: tokenizer!.languages!.kind,
        };
  if (language && !(language.id < facts.vocabSize))
    throw new LensError(
      'BAD_TOKENIZER',
      `The tokenizer gives id ${language.id} for ${options.targetLanguage}, outside ${facts.name}'s vocabulary of ${facts.vocabSize} ids: the tokenizer does not belong to this model.`,
    );
  if (options.target !== undefined && translate)
    throw new LensError('BAD_INPUT', 'Give either a target to score or translate, not both.');
  if (options.target !== undefined && beams > 1)
    throw new LensError(
      'BAD_INPUT',
      'Beams choose a translation; a given target is scored as it is. Leave the beams out, or translate instead.',
    );
  if (options.target === undefined) {
    const asked = typeof options.translate === 'object' ? options.translate.maxNew : undefined;
    const maxNew = asked ?? Math.min(facts.maxPositions, DEFAULT_MAX_TARGET);
    if (!Number.isInteger(maxNew) || maxNew < 1 || maxNew > facts.maxPositions)
      throw new LensError(
        'BAD_INPUT',
        `The most target tokens must be a whole number from 1 to ${facts.maxPositions}, not ${maxNew}.`,
      );
    return {
      request: {
        translate: maxNew,
        ...(beams > 1 ? { beams } : {}),
        ...(options.onTargetStep && beams === 1 ? { steps: true } : {}),
        // mBART-50 generates the code first (forced_bos_token_id); mBART's decoder starts with it.
        ...(language?.kind === 'mbart50' ? { forcedBos: language.id } : {}),
        ...(language?.kind === 'mbart' ? { decoderStart: language.id } : {}),
      },
    };
  }
  const side = language?.tokenizer ?? tokenizer?.target ?? tokenizer;
  let tokens: Token[];
  if (typeof options.target === 'string') {
    if (options.target.trim().length === 0)
      throw new LensError('EMPTY_TEXT', 'The target text is empty; give the translation to score.');
    if (!side)
      throw new LensError('NO_TOKENIZER', `${facts.name} was loaded without a tokenizer; give the target as ids.`);
    tokens = side.encode(options.target);
    const outside = tokens.find((t) => !(t.id >= 0 && t.id < facts.vocabSize));
    if (outside)
      throw new LensError(
        'BAD_TOKENIZER',
        `The target tokenizer gives id ${outside.id} for ${JSON.stringify(outside.text)}, outside ${facts.name}'s vocabulary of ${facts.vocabSize} ids.`,
      );
  } else tokens = tokensOfIds(options.target, facts, side);
  if (tokens.length > facts.maxPositions)
    throw new LensError(
      'TOO_LONG',
      `The target is ${tokens.length} tokens long; ${facts.name} takes at most ${facts.maxPositions}. Shorten it.`,
    );
  return { request: { labels: tokens.map((t) => t.id) }, given: tokens };
}

/** The run's target from the worker's ids and log-probabilities. */
export function targetResult(
  prepared: PreparedTarget,
  ids: number[],
  logprobs: number[],
  end: 'stop' | 'length' | undefined,
  model: { facts: ModelFacts; tokenizer: Tokenizer | undefined },
  beams?: number,
): RunTargetResult {
  const side = model.tokenizer?.target ?? model.tokenizer;
  const tokens = prepared.given ?? tokensOfIds(ids, model.facts, side);
  const ed = model.facts.encoderDecoder!;
  // Given labels start the decoder as transformers does (mBART: with the last label); a translation with its start.
  const first = prepared.given && ed.shiftsLastLabel && tokens.length > 0 ? [tokens[tokens.length - 1]] : undefined;
  const start = 'translate' in prepared.request ? prepared.request.decoderStart : undefined;
  const decoderInput = [
    ...(first ?? tokensOfIds([start ?? ed.decoderStartTokenId], model.facts, side)),
    ...tokens.slice(0, -1),
  ];
  return {
    tokens,
    decoderInput,
    logprobs,
    mode: prepared.given ? 'teacher-forced' : 'translated',
    ...(end ? { end } : {}),
    ...(beams !== undefined && beams > 1 ? { beams } : {}),
  };
}
