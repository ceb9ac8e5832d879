// Entry point of the tokenizers: loadTokenizer(dir) reads a model folder's tokenizer.json, or falls back to
// vocab.txt (WordPiece), source.spm + target.spm + vocab.json (Marian, sentencepiece model files) or vocab.json +
// merges.txt (GPT-2 byte-level BPE). Written here rather than taken from a
// library because none gives exact offsets through normalization, byte-level mapping and byte fallback in
// UTF-16 code units (transformers.js's tokenizers return no offsets); HF `tokenizers` is the test reference.
import * as path from 'node:path';
import { LensError, quoted } from '../errors';
import { readSideFile } from '../files/side-file';
import type { Tokenizer, TokenizerLanguages } from './tokenizer';
import { asObject, badTokenizer } from './errors';
import { byteLevelBpeFromFiles, wordPieceFromVocabTxt } from './fallback';
import { tokenizerFromJson as fromJson, type SpecialTokenNames } from './from-json';
import { marianTokenizer } from './marian';
import { addedIds, mbartCodes, mbartKind, mbartTargetLanguage, mbartTemplate, type MbartKind } from './mbart-languages';
import { PipelineTokenizer } from './pipeline';
import { postProcessorFromJson } from './post-processors';
import { chatTemplateOfConfig, templateSpecialTokens, type ChatTemplate } from './chat-template';
import { threadRegexRunner } from './regex-thread';
import { setRegexRunner } from './tokenizer-regex';

// Tokenizer files read in Node run their own regular expressions on a helper thread, within a time limit.
setRegexRunner(threadRegexRunner);

export type { EncodeOptions, SpecialTokenIds, Tokenizer } from './tokenizer';
export { sentencePieceTokenizer } from './sentencepiece';

/** Builds a tokenizer from the parsed contents of a tokenizer.json. */
export function tokenizerFromJson(json: unknown): Tokenizer {
  return fromJson(json, 'tokenizer.json');
}

async function readText(file: string): Promise<string | undefined> {
  return (await readBytes(file))?.toString('utf8');
}

/** A tokenizer file's bytes, or undefined when it does not exist. */
async function readBytes(file: string): Promise<Buffer | undefined> {
  try {
    return await readSideFile(file, 'BAD_TOKENIZER');
  } catch (e) {
    if (e instanceof LensError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LensError('BAD_TOKENIZER', `${file}: cannot be read (${(e as Error).message}).`);
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badTokenizer(file, `not valid JSON (${(e as Error).message})`);
  }
}

/** Special-token names declared in tokenizer_config.json / special_tokens_map.json. */
function specialNames(...configs: Record<string, unknown>[]): SpecialTokenNames {
  const names: SpecialTokenNames = {};
  const keys = ['pad', 'unk', 'cls', 'sep', 'mask', 'bos', 'eos'] as const;
  for (const c of configs) {
    for (const k of keys) {
      const v = c[`${k}_token`];
      const s = typeof v === 'string' ? v : asObject(v)?.content;
      if (typeof s === 'string' && names[k] === undefined) names[k] = s;
    }
  }
  return names;
}

async function optionalConfig(dir: string, name: string): Promise<Record<string, unknown>> {
  const file = path.join(dir, name);
  const text = await readText(file);
  if (text === undefined) return {};
  const o = asObject(parseJson(text, file));
  if (!o) throw badTokenizer(file, 'not a JSON object');
  return o;
}

/** Loads the tokenizer of a model folder, with its chat template when it has one. */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const config = await optionalConfig(dir, 'tokenizer_config.json');
  const map = await optionalConfig(dir, 'special_tokens_map.json');
  const names = specialNames(config, map);
  const tokenizer = await loadTokenizerOnly(dir, config, names);
  const chat = await folderChatTemplate(dir, config, names);
  if (chat) tokenizer.chatTemplate = chat;
  return tokenizer;
}

/**
 * A folder's chat template: chat_template.jinja (where transformers 5 saves it), else tokenizer_config.json's
 * chat_template; with the special tokens' strings it may use.
 */
async function folderChatTemplate(
  dir: string,
  config: Record<string, unknown>,
  names: SpecialTokenNames,
): Promise<ChatTemplate | undefined> {
  const specialTokens = templateSpecialTokens(names);
  const jinja = await readText(path.join(dir, 'chat_template.jinja'));
  if (jinja !== undefined) return { source: jinja, origin: 'chat_template.jinja', specialTokens };
  const file = path.join(dir, 'tokenizer_config.json');
  const source = chatTemplateOfConfig(config.chat_template, file);
  return source === undefined ? undefined : { source, origin: 'tokenizer_config.json', specialTokens };
}

/**
 * An mBART tokenizer with its languages (`languages`: itself reading text as any of its codes) and, where
 * tokenizer_config.json's tgt_lang differs from src_lang, its target side (`target`: the labels of teacher forcing).
 */
function withLanguages(
  tokenizer: Tokenizer,
  parsed: unknown,
  config: Record<string, unknown>,
  kind: MbartKind,
  source: string,
): Tokenizer {
  if (!(tokenizer instanceof PipelineTokenizer)) return tokenizer;
  const added = addedIds(parsed);
  const codes = mbartCodes(added);
  const made = new Map<string, Tokenizer>();
  const as = (code: string, what: string): Tokenizer => {
    let t = made.get(code);
    if (!t) {
      t = tokenizer.withPostProcessor(
        postProcessorFromJson(mbartTemplate(added, config, kind, code, source, what), source),
      );
      made.set(code, t);
    }
    return t;
  };
  const languages: TokenizerLanguages = {
    kind,
    codes,
    withLanguage(code: string): Tokenizer {
      if (!codes.has(code)) {
        const all = [...codes.keys()];
        throw new LensError(
          'BAD_INPUT',
          `${quoted(code)} is not one of this model's ${all.length} language codes (${all.slice(0, 8).join(', ')}${all.length > 8 ? ', …' : ''}); give one of them, as in tokenizer_config.json.`,
        );
      }
      return as(code, 'the language');
    },
  };
  const tgt = mbartTargetLanguage(config);
  const target = tgt === undefined ? undefined : as(tgt, "tokenizer_config.json's tgt_lang");
  return Object.assign(tokenizer, { languages, ...(target ? { target } : {}) });
}

async function loadTokenizerOnly(
  dir: string,
  config: Record<string, unknown>,
  names: SpecialTokenNames,
): Promise<Tokenizer> {
  const jsonFile = path.join(dir, 'tokenizer.json');
  const json = await readText(jsonFile);
  if (json !== undefined) {
    const parsed = parseJson(json, jsonFile);
    const tokenizer = fromJson(parsed, jsonFile, names);
    // mBART: the target language's code on the target side (labels), as transformers' MBart tokenizers put it.
    const kind = mbartKind(config);
    return kind ? withLanguages(tokenizer, parsed, config, kind, jsonFile) : tokenizer;
  }

  const vocabTxtFile = path.join(dir, 'vocab.txt');
  const vocabTxt = await readText(vocabTxtFile);
  if (vocabTxt !== undefined) return wordPieceFromVocabTxt(vocabTxt, config, names, vocabTxtFile);

  const vocabJsonFile = path.join(dir, 'vocab.json');
  const sourceSpmFile = path.join(dir, 'source.spm');
  const sourceSpm = await readBytes(sourceSpmFile);
  if (sourceSpm !== undefined) return loadMarian(dir, sourceSpm, config, names);

  const mergesFile = path.join(dir, 'merges.txt');
  const vocabJson = await readText(vocabJsonFile);
  const merges = await readText(mergesFile);
  if (vocabJson !== undefined && merges !== undefined) {
    return byteLevelBpeFromFiles(parseJson(vocabJson, vocabJsonFile), merges, config, names);
  }
  throw new LensError(
    'NO_TOKENIZER',
    `No tokenizer in ${dir}: looked for tokenizer.json, vocab.txt, source.spm + target.spm + vocab.json, and vocab.json + merges.txt. Add the model's tokenizer files.`,
  );
}

/** A Marian folder: source.spm, target.spm, vocab.json (and target_vocab.json with separate vocabularies). */
async function loadMarian(
  dir: string,
  sourceSpm: Uint8Array,
  config: Record<string, unknown>,
  names: SpecialTokenNames,
): Promise<Tokenizer> {
  const need = async (name: string): Promise<Uint8Array> => {
    const file = path.join(dir, name);
    const bytes = await readBytes(file);
    if (bytes === undefined) {
      throw new LensError(
        'NO_TOKENIZER',
        `${dir} has source.spm but no ${name}: a Marian tokenizer needs source.spm, target.spm and vocab.json. Add the model's tokenizer files.`,
      );
    }
    return bytes;
  };
  const json = async (name: string) => {
    const file = path.join(dir, name);
    return { json: parseJson(new TextDecoder().decode(await need(name)), file), name: file };
  };
  const targetSpm = await need('target.spm');
  const vocab = await json('vocab.json');
  const targetVocab = config.separate_vocabs === true ? await json('target_vocab.json') : undefined;
  return marianTokenizer({
    sourceSpm: { bytes: sourceSpm, name: path.join(dir, 'source.spm') },
    targetSpm: { bytes: targetSpm, name: path.join(dir, 'target.spm') },
    vocab,
    targetVocab,
    config,
    names,
  });
}
