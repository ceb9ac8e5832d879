// A tokenizer from a GGUF file's metadata (tokenizer.ggml.*), built as the tokenizer.json it is equivalent to and
// handed to the tokenizer.json pipeline (from-json.ts), so offsets, added tokens and decoding are the same code:
//   gpt2   byte-level BPE: vocabulary and merges as stored; the pre-tokenizer regexes that tokenizer.ggml.pre names,
//          taken from llama.cpp's llama-vocab.cpp (applied in order, each isolating its matches, then the bytes);
//   llama  sentencepiece BPE with byte fallback: "▁" for spaces (prefixed unless add_space_prefix is false), merges
//          as stored or, when the file has none, recovered from the scores as transformers' generate_merges does.
// Token types: control (3) → special added tokens, user-defined (4) → added tokens matched whole (as llama.cpp and
// transformers do). BOS/EOS are added when tokenizer.ggml.add_bos_token / add_eos_token say so (llama's default:
// BOS on, as in llama.cpp and transformers).
import { LensError, quoted } from '../errors';
import type { GgufMeta } from '../formats/gguf-read';
import { tokenizerFromJson, type SpecialTokenNames } from './from-json';
import type { Tokenizer } from './tokenizer';
import { BYTE_TO_CHAR } from './unicode';
import { templateSpecialTokens } from './chat-template';

const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
const LLAMA3 = `${CONTRACTIONS}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
const QWEN2 = `${CONTRACTIONS}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
const UPPER = '[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]';
const LOWER = '[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]';
const TEKKEN = `[^\\r\\n\\p{L}\\p{N}]?${UPPER}*${LOWER}+|[^\\r\\n\\p{L}\\p{N}]?${UPPER}+${LOWER}*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
const GPT4O = `[^\\r\\n\\p{L}\\p{N}]?${UPPER}*${LOWER}+${CONTRACTIONS}?|[^\\r\\n\\p{L}\\p{N}]?${UPPER}+${LOWER}*${CONTRACTIONS}?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;

/** tokenizer.ggml.pre → the regexes llama.cpp splits with, in order (llama-vocab.cpp, llm_tokenizer_bpe). */
export const GGUF_PRE_TOKENIZERS: Record<string, string[]> = {
  default: [GPT2],
  'gpt-2': [GPT2],
  gpt2: [GPT2],
  mpt: [GPT2],
  olmo: [GPT2],
  jais: [GPT2],
  trillion: [GPT2],
  'llama-bpe': [LLAMA3],
  llama3: [LLAMA3],
  'llama-v3': [LLAMA3],
  dbrx: [LLAMA3],
  'smaug-bpe': [LLAMA3],
  falcon3: [LLAMA3],
  pixtral: [LLAMA3],
  chatglm4: [LLAMA3],
  'chatglm-bpe': [LLAMA3],
  qwen2: [QWEN2],
  'deepseek-r1-qwen': [QWEN2],
  stablelm2: [QWEN2],
  hunyuan: [QWEN2],
  smollm: ['\\p{N}', GPT2],
  starcoder: ['\\p{N}', GPT2],
  refact: ['\\p{N}', GPT2],
  'command-r': ['\\p{N}', GPT2],
  codeshell: ['\\p{N}', GPT2],
  exaone: ['\\p{N}', GPT2],
  minerva: ['\\p{N}', GPT2],
  tekken: [TEKKEN],
  'gpt-4o': [GPT4O],
  llama4: [GPT4O],
};

const CONTROL = 3;
const USER_DEFINED = 4;
const BYTE_ALPHABET = new Set(BYTE_TO_CHAR);

function bad(label: string, problem: string): LensError {
  return new LensError('BAD_TOKENIZER', `${label}: ${problem}; the file's tokenizer cannot be used.`);
}

/** transformers' generate_merges(vocab, scores): every split of a token into two tokens, best score first. */
export function mergesFromScores(tokens: string[], scores: number[]): [string, string][] {
  // As Python dicts built from the lists: a repeated token keeps its first position and its last id and score.
  const id = new Map<string, number>();
  const score = new Map<string, number>();
  tokens.forEach((t, i) => {
    id.set(t, i);
    score.set(t, scores[i]);
  });
  const all: { l: string; r: string; s: number; ll: number; rl: number }[] = [];
  for (const [merge, s] of score) {
    const cps = Array.from(merge);
    const local: typeof all = [];
    for (let i = 1; i < cps.length; i++) {
      const l = cps.slice(0, i).join('');
      const r = cps.slice(i).join('');
      if (id.has(l) && id.has(r)) local.push({ l, r, s, ll: i, rl: cps.length - i });
    }
    local.sort((a, b) => id.get(a.l)! - id.get(b.l)! || id.get(a.r)! - id.get(b.r)!);
    all.push(...local);
  }
  // Python's sorted(..., key=(score, len(left), len(right)), reverse=True) is stable: ties keep their order.
  all.sort((a, b) => b.s - a.s || b.ll - a.ll || b.rl - a.rl);
  return all.map((m) => [m.l, m.r]);
}

/** The tokenizer.json object equivalent to a GGUF file's tokenizer metadata, and its special-token names. */
export function ggufTokenizerJson(meta: GgufMeta): { json: Record<string, unknown>; names: SpecialTokenNames } {
  const label = meta.label;
  const model = meta.str('tokenizer.ggml.model');
  if (model === undefined) throw new LensError('NO_TOKENIZER', `${label} has no tokenizer (no tokenizer.ggml.model).`);
  const tokens = meta.strings('tokenizer.ggml.tokens');
  if (!tokens || tokens.length === 0) throw bad(label, 'tokenizer.ggml.tokens is missing or empty');
  const types = meta.numbers('tokenizer.ggml.token_type');
  if (types && types.length !== tokens.length)
    throw bad(label, `tokenizer.ggml.token_type has ${types.length} entries for ${tokens.length} tokens`);
  const idOf = (key: string): number | undefined => {
    const v = meta.num(key);
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || v < 0 || v >= tokens.length)
      throw bad(label, `${key} ${v} is not a token of the vocabulary`);
    return v;
  };
  const bos = idOf('tokenizer.ggml.bos_token_id');
  const eos = idOf('tokenizer.ggml.eos_token_id');
  const unk = idOf('tokenizer.ggml.unknown_token_id');
  const pad = idOf('tokenizer.ggml.padding_token_id');
  const byteLevel = model === 'gpt2';
  if (!byteLevel && model !== 'llama')
    throw new LensError(
      'BAD_TOKENIZER',
      `${label} uses a ${quoted(model)} tokenizer; Attention Lens reads GGUF tokenizers of type gpt2 (byte-level BPE) and llama (sentencepiece).`,
    );
  // Byte-level vocabularies spell tokens in GPT-2's byte alphabet; a token spelled otherwise is re-spelled from its
  // UTF-8 bytes (as transformers does), so the BPE's byte characters find it.
  const spell = (t: string): string =>
    !byteLevel || [...t].every((ch) => BYTE_ALPHABET.has(ch))
      ? t
      : Array.from(new TextEncoder().encode(t), (b) => BYTE_TO_CHAR[b]).join('');
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[spell(t)] = i)); // a repeated token keeps its last id, as in transformers

  const added: Record<string, unknown>[] = [];
  if (types)
    tokens.forEach((t, i) => {
      const type = types[i];
      if (type !== CONTROL && type !== USER_DEFINED) return;
      if (type === CONTROL && byteLevel && ![...t].every((ch) => BYTE_ALPHABET.has(ch))) return;
      added.push({
        id: i,
        content: t,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: type === CONTROL,
      });
    });
  // The unknown, BOS and EOS tokens are special even where a file marks them otherwise.
  for (const id of [unk, bos, eos])
    if (id !== undefined && !added.some((a) => a.id === id))
      added.push({
        id,
        content: tokens[id],
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      });
  added.sort((a, b) => (a.id as number) - (b.id as number));

  let merges: [string, string][] | string[];
  const stored = meta.strings('tokenizer.ggml.merges');
  // An empty list would tokenize every text into single characters and bytes: numbers the model never sees.
  if (stored?.length === 0)
    throw bad(
      label,
      `tokenizer.ggml.merges is empty, and a BPE vocabulary of ${tokens.length} tokens needs its merges (re-convert the model${byteLevel ? '' : ', or drop the key so that the merges come from tokenizer.ggml.scores'})`,
    );
  if (stored) merges = stored;
  else if (byteLevel) throw bad(label, 'a byte-level BPE tokenizer without tokenizer.ggml.merges');
  else {
    const scores = meta.numbers('tokenizer.ggml.scores');
    if (!scores || scores.length !== tokens.length)
      throw bad(label, 'a sentencepiece tokenizer with neither merges nor one score per token');
    // The merges are the scores' order: a NaN has none (±Infinity sorts, as in Python).
    const nan = scores.findIndex((v) => Number.isNaN(v));
    if (nan >= 0)
      throw bad(label, `tokenizer.ggml.scores[${nan}] (the score of ${quoted(tokens[nan])}) is NaN, not a number`);
    merges = mergesFromScores(tokens, scores);
  }

  const addBos = meta.bool('tokenizer.ggml.add_bos_token') ?? !byteLevel;
  const addEos = meta.bool('tokenizer.ggml.add_eos_token') ?? false;
  const single: Record<string, unknown>[] = [];
  const specials: Record<string, unknown> = {};
  const addSpecial = (id: number | undefined, what: string) => {
    if (id === undefined) throw bad(label, `add_${what}_token is set but there is no ${what}_token_id`);
    single.push({ SpecialToken: { id: tokens[id], type_id: 0 } });
    specials[tokens[id]] = { id: tokens[id], ids: [id], tokens: [tokens[id]] };
  };
  if (addBos) addSpecial(bos, 'bos');
  single.push({ Sequence: { id: 'A', type_id: 0 } });
  if (addEos) addSpecial(eos, 'eos');
  const postProcessor = { type: 'TemplateProcessing', single, pair: single, special_tokens: specials };

  let json: Record<string, unknown>;
  if (byteLevel) {
    const pre = meta.str('tokenizer.ggml.pre') ?? 'default';
    const regexes = GGUF_PRE_TOKENIZERS[pre];
    if (!regexes)
      throw new LensError(
        'BAD_TOKENIZER',
        `${label}: the pre-tokenizer ${quoted(pre)} (tokenizer.ggml.pre) is not one Attention Lens knows; supported: ${Object.keys(GGUF_PRE_TOKENIZERS).join(', ')}.`,
      );
    json = {
      model: { type: 'BPE', vocab, merges, byte_fallback: false, ignore_merges: false },
      normalizer: null,
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          ...regexes.map((r) => ({ type: 'Split', pattern: { Regex: r }, behavior: 'Isolated', invert: false })),
          { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
        ],
      },
      post_processor: postProcessor,
      decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      added_tokens: added,
    };
  } else {
    const prefix = meta.bool('tokenizer.ggml.add_space_prefix') ?? true;
    json = {
      model: {
        type: 'BPE',
        vocab,
        merges,
        byte_fallback: true,
        fuse_unk: true,
        unk_token: unk !== undefined ? tokens[unk] : null,
      },
      // llama.cpp's sentencepiece tokenizer (llm_tokenizer_spm) with add_space_prefix puts "▁" before the text, whatever
      // it starts with, and before the text after every special token: a Prepend on each piece of text between
      // special tokens, as Llama 2's tokenizer.json does (Metaspace's 'first' added none before " a" or after "<s>").
      normalizer: {
        type: 'Sequence',
        normalizers: [
          ...(prefix ? [{ type: 'Prepend', prepend: '▁' }] : []),
          { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
        ],
      },
      pre_tokenizer: null,
      post_processor: postProcessor,
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
          { type: 'ByteFallback' },
          { type: 'Fuse' },
          ...(prefix ? [{ type: 'Strip', content: ' ', start: 1, stop: 0 }] : []),
        ],
      },
      added_tokens: added,
    };
  }
  const names: SpecialTokenNames = {};
  if (bos !== undefined) names.bos = tokens[bos];
  if (eos !== undefined) names.eos = tokens[eos];
  if (unk !== undefined) names.unk = tokens[unk];
  if (pad !== undefined) names.pad = tokens[pad];
  return { json, names };
}

/** The tokenizer of a GGUF file (its metadata), with the file's chat template when it has one. */
export function tokenizerFromGguf(meta: GgufMeta): Tokenizer {
  const { json, names } = ggufTokenizerJson(meta);
  const tokenizer = tokenizerFromJson(json, `${meta.label} (GGUF tokenizer)`, names);
  const source = ggufChatTemplate(meta);
  if (source !== undefined) {
    tokenizer.chatTemplate = {
      source,
      origin: 'GGUF tokenizer.chat_template',
      specialTokens: templateSpecialTokens(names),
    };
  }
  return tokenizer;
}

/** The chat template a GGUF file carries (tokenizer.chat_template), if any. */
export function ggufChatTemplate(meta: GgufMeta): string | undefined {
  return meta.str('tokenizer.chat_template'); // of another type: the file is corrupt, and said so
}
