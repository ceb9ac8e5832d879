// Builds a Tokenizer from a parsed tokenizer.json (HF `tokenizers` format): model (WordPiece, BPE or Unigram), normalizer,
// pre-tokenizer, added tokens, post-processor and decoder. Anything malformed or unsupported is a BAD_TOKENIZER
// error that names the file and the problem.
import type { SpecialTokenIds, Tokenizer } from './tokenizer';
import { AddedTokenMatcher, type AddedToken } from './added-tokens';
import { Bpe } from './bpe';
import { decoderFromJson } from './decoders';
import { asObject, badTokenizer, unsupported } from './errors';
import { quoted } from '../errors';
import type { Model } from './model';
import { NormalizedText } from './normalized-text';
import { normalizerFromJson, type Normalizer } from './normalizers';
import { PipelineTokenizer } from './pipeline';
import { Unigram } from './unigram';
import { postProcessorFromJson, type PostProcessor } from './post-processors';
import { hasByteLevel, preTokenizerFromJson, type PreTokenizer } from './pre-tokenizers';
import { WordPiece } from './wordpiece';

/** Special-token names from tokenizer_config.json / special_tokens_map.json (token strings). */
export type SpecialTokenNames = Partial<Record<keyof SpecialTokenIds, string>>;

/** A JSON object of token → id as a Map; `notObject` says what is wrong when it is not an object. */
export function vocabOf(
  v: unknown,
  source: string,
  notObject = 'the model has no "vocab" object',
): Map<string, number> {
  const o = asObject(v);
  if (!o) throw badTokenizer(source, notObject);
  const map = new Map<string, number>();
  for (const [k, id] of Object.entries(o)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw badTokenizer(source, `the vocabulary entry ${quoted(k)} has no valid id`);
    }
    map.set(k, id);
  }
  if (map.size === 0) throw badTokenizer(source, 'the vocabulary is empty');
  return map;
}

function mergesOf(v: unknown, source: string): [string, string][] {
  if (!Array.isArray(v)) throw badTokenizer(source, 'the BPE model has no "merges" list');
  return v.map((m, i): [string, string] => {
    if (typeof m === 'string') {
      const sp = m.indexOf(' ', 1);
      if (sp > 0) return [m.slice(0, sp), m.slice(sp + 1)];
    } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
      return [m[0], m[1]];
    }
    throw badTokenizer(source, `merge ${i + 1} (${quoted(m)}) is not a pair of tokens`);
  });
}

/** A Unigram "vocab": [piece, score] pairs, the id being the position. */
function unigramVocabOf(v: unknown, source: string): [string, number][] {
  if (!Array.isArray(v)) throw badTokenizer(source, 'the Unigram model has no "vocab" list');
  return v.map((e, i): [string, number] => {
    if (
      Array.isArray(e) &&
      e.length === 2 &&
      typeof e[0] === 'string' &&
      typeof e[1] === 'number' &&
      Number.isFinite(e[1])
    ) {
      return [e[0], e[1]];
    }
    throw badTokenizer(source, `Unigram vocabulary entry ${i} is not a [piece, score] pair`);
  });
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

export function modelFromJson(json: unknown, source: string): Model {
  const m = asObject(json);
  if (!m) throw badTokenizer(source, 'there is no "model" object');
  switch (m.type) {
    case 'WordPiece':
      return new WordPiece({
        vocab: vocabOf(m.vocab, source),
        unkToken: str(m.unk_token) ?? '[UNK]',
        continuingSubwordPrefix: typeof m.continuing_subword_prefix === 'string' ? m.continuing_subword_prefix : '##',
        maxInputCharsPerWord: typeof m.max_input_chars_per_word === 'number' ? m.max_input_chars_per_word : 100,
      });
    case 'BPE': {
      const vocab = vocabOf(m.vocab, source);
      const merges = mergesOf(m.merges, source);
      try {
        return new Bpe({
          vocab,
          merges,
          unkToken: str(m.unk_token),
          continuingSubwordPrefix: str(m.continuing_subword_prefix),
          endOfWordSuffix: str(m.end_of_word_suffix),
          fuseUnk: m.fuse_unk === true,
          byteFallback: m.byte_fallback === true,
          ignoreMerges: m.ignore_merges === true,
        });
      } catch (e) {
        throw badTokenizer(source, (e as Error).message);
      }
    }
    case 'Unigram':
      return new Unigram({
        vocab: unigramVocabOf(m.vocab, source),
        unkId: typeof m.unk_id === 'number' ? m.unk_id : null,
        byteFallback: m.byte_fallback === true,
        source,
      });
    case undefined:
      throw badTokenizer(source, 'the model has no "type"');
    default:
      throw unsupported(source, 'model', m.type);
  }
}

function addedTokensOf(v: unknown, source: string): AddedToken[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw badTokenizer(source, '"added_tokens" is not a list');
  return v.map((t, i) => {
    const o = asObject(t);
    if (!o || typeof o.id !== 'number' || typeof o.content !== 'string') {
      throw badTokenizer(source, `added token ${i + 1} has no id or content`);
    }
    return {
      id: o.id,
      content: o.content,
      singleWord: o.single_word === true,
      lstrip: o.lstrip === true,
      rstrip: o.rstrip === true,
      normalized: o.normalized === true,
      special: o.special === true,
    };
  });
}

const GUESSES: Record<keyof SpecialTokenIds, string[]> = {
  pad: ['[PAD]', '<pad>', '<|pad|>'],
  unk: ['[UNK]', '<unk>'],
  cls: ['[CLS]', '<cls>'],
  sep: ['[SEP]', '<sep>'],
  mask: ['[MASK]', '<mask>'],
  bos: ['<s>', '<|begin_of_text|>', '<|endoftext|>', '<|startoftext|>'],
  eos: ['</s>', '<|end_of_text|>', '<|endoftext|>', '<|im_end|>'],
};

function specialIds(
  lookup: (t: string) => number | undefined,
  unkId: number | undefined,
  names: SpecialTokenNames,
  template: PostProcessor | null,
): SpecialTokenIds {
  const out: SpecialTokenIds = {};
  for (const key of Object.keys(GUESSES) as (keyof SpecialTokenIds)[]) {
    const named = names[key];
    const id = named !== undefined ? lookup(named) : GUESSES[key].map(lookup).find((x) => x !== undefined);
    if (id !== undefined) out[key] = id;
  }
  if (out.unk === undefined && unkId !== undefined) out.unk = unkId;
  if (template) {
    // The template's own first/last tokens are the authoritative CLS/SEP (or BOS/EOS) of this model.
    const wrapped = template([], true);
    if (wrapped.length > 0 && out.cls === undefined && out.bos === undefined) out.cls = wrapped[0].id;
  }
  return out;
}

/** Builds a tokenizer from the parsed contents of tokenizer.json. */
export function tokenizerFromJson(json: unknown, source = 'tokenizer.json', names: SpecialTokenNames = {}): Tokenizer {
  const o = asObject(json);
  if (!o) throw badTokenizer(source, 'the file is not a JSON object');
  const model = modelFromJson(o.model, source);
  const normalizer: Normalizer | null = normalizerFromJson(o.normalizer, source);
  const preTokenizer: PreTokenizer | null = preTokenizerFromJson(o.pre_tokenizer, source);
  const postProcessor = postProcessorFromJson(o.post_processor, source);
  const decoder = decoderFromJson(o.decoder, source);
  const addedTokens = addedTokensOf(o.added_tokens, source);
  const mType = asObject(o.model)?.type;
  const kind =
    mType === 'WordPiece'
      ? 'wordpiece'
      : mType === 'Unigram'
        ? 'unigram'
        : hasByteLevel(o.pre_tokenizer)
          ? 'bpe-bytelevel'
          : 'bpe-sentencepiece';
  return buildTokenizer({ kind, model, normalizer, preTokenizer, postProcessor, decoder, addedTokens, names });
}

export interface TokenizerParts {
  kind: string;
  model: Model;
  normalizer: Normalizer | null;
  preTokenizer: PreTokenizer | null;
  postProcessor: PostProcessor | null;
  decoder: ReturnType<typeof decoderFromJson>;
  addedTokens: AddedToken[];
  names: SpecialTokenNames;
}

export function buildTokenizer(p: TokenizerParts): Tokenizer {
  const raw = p.addedTokens.filter((t) => !t.normalized || !p.normalizer);
  const norm = p.normalizer ? p.addedTokens.filter((t) => t.normalized) : [];
  const look = (t: AddedToken): string =>
    p.normalizer ? p.normalizer(NormalizedText.fromOriginal(t.content)).toString() : t.content;
  const added = new Map(p.addedTokens.map((t) => [t.content, t.id]));
  const lookup = (t: string): number | undefined => added.get(t) ?? p.model.vocab.get(t);
  return new PipelineTokenizer({
    kind: p.kind,
    model: p.model,
    normalizer: p.normalizer,
    preTokenizer: p.preTokenizer,
    postProcessor: p.postProcessor,
    decoder: p.decoder,
    addedTokens: p.addedTokens,
    rawMatcher: new AddedTokenMatcher(raw.map((token) => ({ token, look: token.content }))),
    normalizedMatcher: new AddedTokenMatcher(norm.map((token) => ({ token, look: look(token) }))),
    special: specialIds(lookup, p.model.unkId, p.names, p.postProcessor),
  });
}
