// The interface every tokenizer implements. Tokens carry [start, end) offsets into the ORIGINAL text in UTF-16
// code units (what VS Code positions use); tokens added by the post-processor template have null offsets.
import type { Token } from '../types';
import type { ChatTemplate } from './chat-template';
import type { MbartKind } from './mbart-languages';

export interface EncodeOptions {
  /** Apply the post-processor template (CLS/SEP, BOS...). Default true. */
  addSpecialTokens?: boolean;
}

export interface SpecialTokenIds {
  pad?: number;
  unk?: number;
  cls?: number;
  sep?: number;
  mask?: number;
  bos?: number;
  eos?: number;
}

/** The languages of an mBART tokenizer: its codes, and itself reading text as any of them. */
export interface TokenizerLanguages {
  kind: MbartKind;
  /** The codes (xx_XX) with their ids, in id order. */
  codes: ReadonlyMap<string, number>;
  /** This tokenizer reading text as language `code` (a source in that language or a target: transformers' templates
   * are the same); BAD_INPUT for a code it does not have. */
  withLanguage(code: string): Tokenizer;
}

export interface Tokenizer {
  /** 'wordpiece' | 'bpe-bytelevel' | 'bpe-sentencepiece' | 'unigram' (sentencepiece BPE and Unigram include Marian). */
  readonly kind: string;
  readonly vocabSize: number;
  readonly special: SpecialTokenIds;
  encode(text: string, options?: EncodeOptions): Token[];
  /** The vocabulary string of an id, or undefined. */
  idToToken(id: number): string | undefined;
  /** Whether an id is a special token (one of `special`, or an added token marked special: a language code, a chat
   * marker); for ids given without text. Absent: only `special`'s ids are. */
  isSpecial?(id: number): boolean;
  tokenToId(token: string): number | undefined;
  /** Best-effort text of ids (for display of generated/target tokens). */
  decode(ids: number[]): string;
  /**
   * The tokenizer of an encoder–decoder's target text (its labels, for teacher forcing) when that differs from this
   * one: Marian's target.spm (and target_vocab.json). Undefined: this tokenizer encodes target text too.
   */
  readonly target?: Tokenizer;
  /** mBART's language codes, where the tokenizer has them (runtime/tokenizers/mbart-languages.ts). */
  readonly languages?: TokenizerLanguages;
  /** The model's chat template, when it has one (set by whoever loads the tokenizer: tokenizer_config.json,
   * chat_template.jinja, GGUF metadata). */
  chatTemplate?: ChatTemplate;
}
