// Tokenizers for model folders without tokenizer.json: vocab.txt is BERT WordPiece (BERT normalizer with
// do_lower_case from tokenizer_config.json, [CLS] … [SEP]); vocab.json + merges.txt is GPT-2 byte-level BPE.
// Both are built from the same parts tokenizer.json uses, so they behave identically.
import type { Tokenizer } from './tokenizer';
import type { AddedToken } from './added-tokens';
import { Bpe } from './bpe';
import { decoderFromJson } from './decoders';
import { asObject, badTokenizer } from './errors';
import { quoted } from '../errors';
import { buildTokenizer, type SpecialTokenNames } from './from-json';
import { bertNormalizer } from './normalizers';
import { postProcessorFromJson } from './post-processors';
import { bertPreTokenizer, byteLevel } from './pre-tokenizers';
import { WordPiece } from './wordpiece';

function addedToken(id: number, content: string, normalized: boolean): AddedToken {
  return { id, content, singleWord: false, lstrip: false, rstrip: false, normalized, special: true };
}

/** vocab.txt (one token a line, id = line number) → BERT WordPiece tokenizer. */
export function wordPieceFromVocabTxt(
  text: string,
  config: Record<string, unknown>,
  names: SpecialTokenNames,
  source = 'vocab.txt',
): Tokenizer {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const vocab = new Map<string, number>();
  lines.forEach((line, i) => vocab.set(line.endsWith('\r') ? line.slice(0, -1) : line, i));
  if (vocab.size === 0) throw badTokenizer(source, 'the vocabulary is empty');
  const unk = names.unk ?? '[UNK]';
  const cls = names.cls ?? '[CLS]';
  const sep = names.sep ?? '[SEP]';
  if (!vocab.has(unk)) throw badTokenizer(source, `the vocabulary has no unknown token ${unk}`);
  if (!vocab.has(cls) || !vocab.has(sep)) throw badTokenizer(source, `the vocabulary lacks ${cls} or ${sep}`);
  const lower = typeof config.do_lower_case === 'boolean' ? config.do_lower_case : true;
  const specials = [names.pad ?? '[PAD]', unk, cls, sep, names.mask ?? '[MASK]'];
  const addedTokens = specials
    .filter((s, i) => vocab.has(s) && specials.indexOf(s) === i)
    .map((s) => addedToken(vocab.get(s) as number, s, false))
    .sort((a, b) => a.id - b.id);
  return buildTokenizer({
    kind: 'wordpiece',
    model: new WordPiece({ vocab, unkToken: unk, continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 }),
    normalizer: bertNormalizer({
      cleanText: true,
      handleChineseChars: config.tokenize_chinese_chars !== false,
      stripAccents: typeof config.strip_accents === 'boolean' ? config.strip_accents : null,
      lowercase: lower,
    }),
    preTokenizer: bertPreTokenizer,
    postProcessor: postProcessorFromJson(
      { type: 'BertProcessing', cls: [cls, vocab.get(cls)], sep: [sep, vocab.get(sep)] },
      source,
    ),
    decoder: decoderFromJson({ type: 'WordPiece', prefix: '##', cleanup: true }, source),
    addedTokens,
    names,
  });
}

/** vocab.json + merges.txt → GPT-2 byte-level BPE tokenizer. */
export function byteLevelBpeFromFiles(
  vocabJson: unknown,
  mergesTxt: string,
  config: Record<string, unknown>,
  names: SpecialTokenNames,
): Tokenizer {
  const v = asObject(vocabJson);
  if (!v) throw badTokenizer('vocab.json', 'the file is not a JSON object of token → id');
  const vocab = new Map<string, number>();
  for (const [k, id] of Object.entries(v)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw badTokenizer('vocab.json', `the entry ${quoted(k)} has no valid id`);
    }
    vocab.set(k, id);
  }
  const merges: [string, string][] = [];
  mergesTxt.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if ((i === 0 && line.startsWith('#version')) || line.length === 0) return;
    const parts = line.split(' ');
    if (parts.length !== 2) throw badTokenizer('merges.txt', `line ${i + 1} is not two tokens separated by a space`);
    merges.push([parts[0], parts[1]]);
  });
  let model: Bpe;
  try {
    model = new Bpe({
      vocab,
      merges,
      unkToken: null,
      continuingSubwordPrefix: null,
      endOfWordSuffix: null,
      fuseUnk: false,
      byteFallback: false,
      ignoreMerges: false,
    });
  } catch (e) {
    throw badTokenizer('merges.txt', (e as Error).message);
  }
  const addedTokens: AddedToken[] = [];
  const decl = asObject(config.added_tokens_decoder);
  if (decl) {
    for (const [id, t] of Object.entries(decl)) {
      const o = asObject(t);
      if (o && typeof o.content === 'string') {
        addedTokens.push({
          ...addedToken(Number(id), o.content, o.normalized === true),
          lstrip: o.lstrip === true,
          rstrip: o.rstrip === true,
          singleWord: o.single_word === true,
          special: o.special !== false,
        });
      }
    }
  } else if (vocab.has('<|endoftext|>')) {
    addedTokens.push(addedToken(vocab.get('<|endoftext|>') as number, '<|endoftext|>', true));
  }
  return buildTokenizer({
    kind: 'bpe-bytelevel',
    model,
    normalizer: null,
    preTokenizer: byteLevel(config.add_prefix_space === true, true),
    postProcessor: postProcessorFromJson({ type: 'ByteLevel', trim_offsets: false }, 'vocab.json'),
    decoder: decoderFromJson({ type: 'ByteLevel' }, 'vocab.json'),
    addedTokens,
    names,
  });
}
