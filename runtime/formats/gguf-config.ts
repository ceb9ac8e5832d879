// Maps a GGUF file's metadata (llama.cpp's keys: general.architecture, <arch>.block_count, .embedding_length,
// .attention.head_count(_kv), .rope.freq_base, ...) onto the raw config.json dictionary a Hugging Face folder would
// have (hidden_size, num_hidden_layers, num_attention_heads, ...), so that GGUF models go through the same family
// normaliser (config-normalise.ts) as safetensors folders. An architecture without a GGUF family fails here, with
// the architectures a GGUF file may have; integers past config-normalise.ts's CONFIG_INT_LIMITS and non-positive
// epsilons, RoPE bases and soft-caps fail here too, named by their GGUF keys. Also: which llama.cpp architectures
// store q/k rows permuted (convert_hf_to_gguf.py's LlamaModel.permute) and which store RMSNorm weights as 1 + w
// (Gemma).
//
// Values llama.cpp keeps as tensors rather than metadata are read back too: rope_freqs (Llama 3.x RoPE scaling,
// matched against the llama3 formula to recover its parameters) and Phi-3's rope_factors_long/short (longrope).
import { LensError, quoted } from '../errors';
import { badConfig } from './config-fields';
import {
  ENCODER_DECODER_MODEL_TYPES,
  implausibleInt,
  SUPPORTED_MODEL_TYPES,
  type ConfigIntKind,
} from './config-normalise';
import { corruptGguf, typeName, type GgufMeta } from './gguf-read';

/** GGUF general.architecture → config.json model_type, for the families that have a GGUF form. A null-prototype
 * object: an architecture such as "constructor" or "__proto__" read from a file finds nothing here. */
export const GGUF_MODEL_TYPES: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, {
  llama: 'llama',
  mistral: 'mistral',
  qwen2: 'qwen2',
  qwen3: 'qwen3',
  gemma2: 'gemma2',
  gemma3: 'gemma3_text',
  phi3: 'phi3',
  olmo2: 'olmo2',
});

/** Architectures whose q/k projection rows llama.cpp permuted for its interleaved RoPE (convert_hf_to_gguf.py). */
export const PERMUTED_QK = new Set(['llama', 'mistral']);

/** Architectures whose RMSNorm weights llama.cpp stores as 1 + w (convert_hf_to_gguf.py's Gemma models). */
export const NORM_PLUS_ONE = new Set(['gemma2', 'gemma3']);

/** Reads a small float32 tensor that holds config values (rope_freqs, rope factors). */
export type ReadSmallTensor = (name: string) => Float32Array | undefined;

/** llama3 rope scaling factors (convert_hf_to_gguf.py LlamaModel.generate_extra_tensors) for given parameters. */
export function llama3RopeFactors(
  headDim: number,
  theta: number,
  factor: number,
  low: number,
  high: number,
  original: number,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < headDim; i += 2) {
    const freq = 1 / theta ** (i / headDim);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < original / high) out.push(1);
    else if (wavelen > original / low) out.push(factor);
    else {
      const smooth = (original / wavelen - low) / (high - low);
      out.push(1 / ((1 - smooth) / factor + smooth));
    }
  }
  return out;
}

/** Finds llama3 rope_scaling parameters whose factors equal `freqs` (the usual low 1 / high 4 bands). */
function fitLlama3(freqs: Float32Array, headDim: number, theta: number, label: string): Record<string, unknown> {
  const factor = Math.max(...freqs);
  if (factor === 1 && freqs.every((x) => x === 1)) return { rope_type: 'default' };
  for (const original of [8192, 4096, 2048, 16384, 32768, 1024, 512, 256, 128, 64, 32])
    for (const [low, high] of [
      [1, 4],
      [1, 2],
      [2, 4],
    ]) {
      const want = llama3RopeFactors(headDim, theta, factor, low, high, original);
      if (want.length === freqs.length && want.every((w, i) => Math.abs(w - freqs[i]) <= 1e-5 * Math.max(1, w)))
        return {
          rope_type: 'llama3',
          factor,
          low_freq_factor: low,
          high_freq_factor: high,
          original_max_position_embeddings: original,
        };
    }
  throw new LensError(
    'UNSUPPORTED_MODEL',
    `${label} scales RoPE with a rope_freqs tensor that matches no Llama 3 rope scaling Attention Lens knows; it cannot be run exactly.`,
  );
}

/**
 * The config.json equivalent of a GGUF file's metadata. `tensorNames` are the file's tensor names (tied embeddings,
 * rope tensors); `readSmall` reads rope_freqs / rope factors.
 */
export function ggufConfig(
  meta: GgufMeta,
  tensorNames: Set<string>,
  readSmall: ReadSmallTensor,
): Record<string, unknown> {
  const label = meta.label;
  // llama-gguf-split's parts: the first holds the metadata and some of the tensors; the rest are in the other files.
  const parts = meta.num('split.count');
  if (parts !== undefined && parts > 1)
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${label} is part ${(meta.num('split.no') ?? 0) + 1} of a GGUF model split into ${parts} files, and Attention Lens reads a model from one file: merge the parts with llama.cpp (llama-gguf-split --merge FIRST-PART.gguf MERGED.gguf) and give the merged file.`,
    );
  const arch = meta.str('general.architecture');
  if (arch === undefined) throw corruptGguf(label, 'has no general.architecture');
  // Own keys only: "constructor", "toString"... from a file must not find Object.prototype's members.
  const modelType = Object.hasOwn(GGUF_MODEL_TYPES, arch) ? GGUF_MODEL_TYPES[arch] : undefined;
  if (modelType === undefined) {
    // Said in GGUF words: which architectures a GGUF file may have (not config.json's model_types, some of which,
    // like t5, run only from a Hugging Face folder).
    const fromFolder =
      Object.hasOwn(SUPPORTED_MODEL_TYPES, arch) || ENCODER_DECODER_MODEL_TYPES.includes(arch)
        ? ` (${arch} runs from a Hugging Face folder: config.json and safetensors weights)`
        : '';
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${label}: general.architecture ${quoted(arch)} is not supported in a GGUF file; Attention Lens runs GGUF files of architecture ${Object.keys(GGUF_MODEL_TYPES).join(', ')}${fromFolder}.`,
    );
  }
  const k = (key: string) => `${arch}.${key}`;
  // The config.json path's words (config-fields.ts), with the GGUF key named.
  const where = `${label} (GGUF metadata)`;
  /** Refuses a value past CONFIG_INT_LIMITS (config-normalise.ts) by its key, before it sizes anything. */
  const limit = <T extends number | undefined>(key: string, v: T, kind: ConfigIntKind): T => {
    const message = v === undefined ? undefined : implausibleInt(where, k(key), v, kind);
    if (message !== undefined) throw badConfig(message);
    return v;
  };
  /** A non-negative integer (within its bound when `kind` is given); an array (per-layer value) is accepted only
   * when every layer has the same value. */
  const int = (key: string, kind?: ConfigIntKind): number | undefined => {
    const v = meta.get(k(key));
    if (v === undefined) return undefined;
    if (Array.isArray(v) && v.length === 0)
      throw corruptGguf(label, `has ${k(key)} = [] (an empty array), where an integer (or one per layer) belongs`);
    if (Array.isArray(v) && !v.every((x) => typeof x === 'number' || typeof x === 'bigint'))
      throw corruptGguf(label, `has ${k(key)} of the wrong type (expected an integer or one per layer)`);
    const one = Array.isArray(v) ? (v.every((x) => x === v[0]) ? v[0] : undefined) : v;
    if (one === undefined)
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${label} has a different ${k(key)} in different layers; Attention Lens needs one value for every layer.`,
      );
    if (typeof one === 'bigint') {
      // A u64 past 2^53: a corrupt value, whatever it counts.
      const message = kind === undefined ? undefined : implausibleInt(where, k(key), one, kind);
      if (message !== undefined) throw badConfig(message);
      throw corruptGguf(label, `has ${k(key)} = ${one}, an impossible value`);
    }
    if (typeof one !== 'number' || !Number.isInteger(one) || one < 0)
      throw corruptGguf(
        label,
        typeof one === 'number'
          ? `has ${k(key)} = ${one}, not a non-negative integer`
          : `has ${k(key)} of the wrong type (expected an integer, found ${typeName(one)})`,
      );
    return kind === undefined ? one : limit(key, one, kind);
  };
  /** A positive integer, or undefined when absent. */
  const positive = (key: string, kind?: ConfigIntKind): number | undefined => {
    const v = int(key, kind);
    if (v === 0) throw badConfig(`${where}: field ${k(key)} must be a positive integer, found 0.`);
    return v;
  };
  const need = (key: string, kind?: ConfigIntKind): number => {
    const v = positive(key, kind);
    if (v === undefined) throw corruptGguf(label, `has no ${k(key)}, which a ${arch} model needs`);
    return v;
  };
  /** A positive finite number, or undefined when absent (norm epsilons, RoPE bases, soft-caps). */
  const positiveNum = (key: string): number | undefined => {
    const v = meta.num(k(key));
    if (v !== undefined && !(v > 0))
      throw badConfig(`${where}: ${k(key)} must be a number greater than 0, found ${v}; the file is corrupt.`);
    return v;
  };
  // The head counts and sizes are bounded after the checks that relate them (a hidden size that the heads do not
  // divide is said as such first).
  const hidden = need('embedding_length');
  const heads = need('attention.head_count');
  const kvHeads = positive('attention.head_count_kv') ?? heads;
  const keyLength = positive('attention.key_length');
  const valueLength = positive('attention.value_length');
  // Checked before the head size is derived from them (hidden / heads), which every check below reads.
  if (keyLength === undefined && hidden % heads !== 0)
    throw badConfig(
      `${where}: ${k('embedding_length')} ${hidden} is not a multiple of ${k('attention.head_count')} ${heads}, and there is no ${k('attention.key_length')} to give the head size.`,
    );
  if (heads % kvHeads !== 0)
    throw badConfig(
      `${where}: ${k('attention.head_count')} ${heads} is not a multiple of ${k('attention.head_count_kv')} ${kvHeads}.`,
    );
  if (keyLength !== undefined && valueLength !== undefined && keyLength !== valueLength)
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${label} has keys of ${keyLength} and values of ${valueLength} dimensions; Attention Lens needs them equal.`,
    );
  limit('embedding_length', hidden, 'hidden');
  limit('attention.head_count', heads, 'heads');
  limit('attention.head_count_kv', kvHeads, 'heads');
  limit('attention.key_length', keyLength, 'headDim');
  limit('attention.value_length', valueLength, 'headDim');
  const headDim = keyLength ?? hidden / heads;
  if (headDim % 2 !== 0)
    throw badConfig(
      `${where}: the head size ${headDim} (${keyLength !== undefined ? k('attention.key_length') : `${k('embedding_length')} / ${k('attention.head_count')}`}) must be even for RoPE.`,
    );
  const ropeDims = int('rope.dimension_count', 'headDim');
  if (ropeDims !== undefined && ropeDims !== headDim)
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${label} rotates ${ropeDims} of ${headDim} dimensions per head (partial RoPE), which Attention Lens does not support.`,
    );
  const tokens = meta.get('tokenizer.ggml.tokens');
  const vocab =
    positive('vocab_size', 'vocab') ?? (Array.isArray(tokens) && tokens.length > 0 ? tokens.length : undefined);
  if (vocab === undefined)
    throw corruptGguf(
      label,
      `has neither ${k('vocab_size')} nor a tokenizer.ggml.tokens list, so its vocabulary size is unknown`,
    );
  const theta = positiveNum('rope.freq_base') ?? 10000;
  const cfg: Record<string, unknown> = {
    model_type: modelType,
    architectures: [`gguf:${arch}`],
    hidden_size: hidden,
    num_hidden_layers: need('block_count', 'layers'),
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: headDim,
    intermediate_size: need('feed_forward_length', 'intermediate'),
    max_position_embeddings: need('context_length', 'positions'),
    vocab_size: vocab,
    rms_norm_eps: positiveNum('attention.layer_norm_rms_epsilon') ?? 1e-6,
    rope_theta: theta,
    tie_word_embeddings: !tensorNames.has('output.weight'),
  };
  for (const [gguf, hf] of [
    ['bos_token_id', 'bos_token_id'],
    ['eos_token_id', 'eos_token_id'],
    ['padding_token_id', 'pad_token_id'],
  ]) {
    const v = meta.num(`tokenizer.ggml.${gguf}`);
    if (v !== undefined) cfg[hf] = v;
  }
  if (arch === 'qwen2' || arch === 'qwen3') cfg.attention_bias = tensorNames.has('blk.0.attn_q.bias');
  if (arch === 'llama' || arch === 'mistral') {
    cfg.attention_bias = tensorNames.has('blk.0.attn_q.bias');
    cfg.mlp_bias = tensorNames.has('blk.0.ffn_up.bias');
  }
  if (arch === 'gemma2' || arch === 'gemma3') {
    cfg.hidden_activation = 'gelu_pytorch_tanh';
    // llama.cpp scales queries by 1/sqrt(head_dim), except for the 27B models (hidden/heads): query_pre_attn_scalar.
    const is27b = (arch === 'gemma2' && hidden === 4608) || (arch === 'gemma3' && hidden === 5376);
    cfg.query_pre_attn_scalar = is27b ? hidden / heads : headDim;
  }
  const window = int('attention.sliding_window', 'positions');
  if (window !== undefined && window > 0) {
    cfg.sliding_window = window;
    if (arch === 'qwen2' || arch === 'qwen3') cfg.use_sliding_window = true;
  }
  if (arch === 'gemma2') {
    const attnCap = positiveNum('attn_logit_softcapping');
    const finalCap = positiveNum('final_logit_softcapping');
    if (attnCap !== undefined) cfg.attn_logit_softcapping = attnCap;
    if (finalCap !== undefined) cfg.final_logit_softcapping = finalCap;
  }
  if (arch === 'gemma3') {
    // llama.cpp: every sixth layer global, local layers with θ = 10,000 (its rope_freq_base_train_swa).
    cfg.sliding_window_pattern = 6;
    cfg.rope_local_base_freq = 10000;
  }
  const scaling = meta.str(k('rope.scaling.type'));
  if (scaling !== undefined && scaling !== 'none') {
    const factor = positiveNum('rope.scaling.factor');
    if (scaling === 'linear' && factor !== undefined) cfg.rope_scaling = { rope_type: 'linear', factor };
    else if (scaling === 'yarn' && factor !== undefined)
      cfg.rope_scaling = {
        rope_type: 'yarn',
        factor,
        original_max_position_embeddings: int('rope.scaling.original_context_length', 'positions'),
      };
    else
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${label} uses rope scaling ${quoted(scaling)}, which Attention Lens cannot map from a GGUF file.`,
      );
  }
  if (tensorNames.has('rope_freqs.weight')) {
    const freqs = readSmall('rope_freqs.weight');
    if (!freqs || freqs.length !== headDim / 2)
      throw corruptGguf(label, `has a rope_freqs tensor that does not have ${headDim / 2} values`);
    const fit = fitLlama3(freqs, headDim, theta, label);
    if (fit.rope_type !== 'default') cfg.rope_scaling = fit;
  }
  if (arch === 'phi3' && tensorNames.has('rope_factors_long.weight')) {
    const long = readSmall('rope_factors_long.weight');
    const short = readSmall('rope_factors_short.weight');
    if (!long || !short) throw corruptGguf(label, 'has rope_factors_long without rope_factors_short');
    cfg.rope_scaling = { rope_type: 'longrope', long_factor: [...long], short_factor: [...short] };
    const original = int('rope.scaling.original_context_length', 'positions');
    if (original !== undefined) cfg.original_max_position_embeddings = original;
  }
  return cfg;
}
