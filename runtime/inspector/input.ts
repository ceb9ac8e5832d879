// Turns what a caller asks to run (text or token ids) into the tokens the model sees: rejects empty input and ids
// outside the vocabulary, and enforces the model's length limit (TOO_LONG, or truncation that keeps the
// template's special tokens at both ends).
import type { ModelFacts, Token } from '../types';
import type { Tokenizer } from '../tokenizers/tokenizer';
import { LensError } from '../errors';
import { encodeChatPrompt } from '../tokenizers/chat-prompt';
import { MAX_INPUT_TOKENS } from './long-runs';

export interface PreparedInput {
  tokens: Token[];
  /** The token count before truncation, when the input was cut. */
  truncatedFrom?: number;
}

export interface LimitOptions {
  truncate?: boolean;
  maxTokens?: number;
}

/** Tokens for ids given directly: vocabulary strings where a tokenizer knows them, no offsets. */
export function tokensOfIds(ids: number[], facts: ModelFacts, tokenizer: Tokenizer | undefined): Token[] {
  if (ids.length === 0) throw new LensError('EMPTY_TEXT', 'There are no token ids to run; give at least one.');
  const specials = new Set(Object.values(tokenizer?.special ?? {}).filter((v): v is number => typeof v === 'number'));
  return ids.map((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id >= facts.vocabSize) {
      throw new LensError(
        'BAD_INPUT',
        `Token id ${id} (position ${i}) is outside ${facts.name}'s vocabulary of ${facts.vocabSize} ids.`,
      );
    }
    const special = tokenizer?.isSpecial ? tokenizer.isSpecial(id) : specials.has(id);
    return { id, text: tokenizer?.idToToken(id) ?? `#${id}`, start: null, end: null, special };
  });
}

/** The tokenizer reading a run's source text: the model's, or (mBART) the model's reading it as `language`. */
export function sourceTokenizer(
  tokenizer: Tokenizer | undefined,
  facts: ModelFacts,
  language: string | undefined,
): Tokenizer | undefined {
  if (language === undefined) return tokenizer;
  return languagesOf(tokenizer, facts, 'source language').withLanguage(language);
}

/** The language codes of an mBART tokenizer; BAD_INPUT naming `what` was asked of a model without them. */
export function languagesOf(
  tokenizer: Tokenizer | undefined,
  facts: ModelFacts,
  what: string,
): NonNullable<Tokenizer['languages']> {
  if (tokenizer?.languages) return tokenizer.languages;
  throw new LensError(
    'BAD_INPUT',
    `${facts.name} (${facts.modelType}) has no language codes, so it takes no ${what}: that is for mBART and mBART-50 ` +
      `models (an opus-mt model with several target languages takes a >>xxx<< token at the start of the source text).`,
  );
}

/** The tokens of a text: as it is, or (chat) as a user message in the model's chat template
 * (runtime/tokenizers/chat-prompt.ts). */
export function tokensOfText(text: string, tokenizer: Tokenizer | undefined, facts: ModelFacts, chat = false): Token[] {
  if (text.trim().length === 0)
    throw new LensError('EMPTY_TEXT', 'The text is empty; select or give some text to run.');
  if (!tokenizer) {
    throw new LensError(
      'NO_TOKENIZER',
      `${facts.name} was loaded without a tokenizer; run it on token ids instead of text.`,
    );
  }
  const tokens = chat ? encodeChatPrompt(tokenizer, text, facts.name) : tokenizer.encode(text);
  const outside = tokens.find((t) => !(t.id >= 0 && t.id < facts.vocabSize));
  if (outside)
    throw new LensError(
      'BAD_TOKENIZER',
      `The tokenizer (tokenizer.json or the vocabulary files) gives id ${outside.id} for ${JSON.stringify(outside.text)}, ` +
        `outside ${facts.name}'s vocabulary of ${facts.vocabSize} ids (config.json vocab_size): the tokenizer does not belong to this model.`,
    );
  if (tokens.every((t) => t.special)) {
    throw new LensError('EMPTY_TEXT', 'The text gives no tokens besides the special ones; give some words to run.');
  }
  return tokens;
}

/** Applies the length limit: min(model positions, maxTokens, MAX_INPUT_TOKENS). */
export function limitLength(tokens: Token[], facts: ModelFacts, options: LimitOptions): PreparedInput {
  const limit = Math.min(facts.maxPositions, options.maxTokens ?? Infinity, MAX_INPUT_TOKENS);
  if (!(limit >= 1)) throw new LensError('BAD_INPUT', `maxTokens must be at least 1 (got ${options.maxTokens}).`);
  if (tokens.length <= limit) return { tokens };
  if (!options.truncate) {
    const whose =
      limit === facts.maxPositions
        ? `${facts.name} takes at most`
        : limit === MAX_INPUT_TOKENS
          ? `${facts.name} allows ${facts.maxPositions} but Attention Lens runs at most`
          : 'the limit is';
    throw new LensError(
      'TOO_LONG',
      `The input is ${tokens.length} tokens long; ${whose} ${limit}. Select less text, or truncate it (CLI: --truncate) to the first ${limit} tokens.`,
    );
  }
  // Keep the template's trailing special tokens ([SEP], </s>) when there is room for some content too.
  let trailing = 0;
  while (trailing < tokens.length && tokens[tokens.length - 1 - trailing].special) trailing++;
  if (trailing >= limit) trailing = 0;
  const cut = [...tokens.slice(0, limit - trailing), ...tokens.slice(tokens.length - trailing)];
  return { tokens: cut, truncatedFrom: tokens.length };
}
