// The pure half of config.json handling: normalises the field-name zoo of the supported architectures (gpt2's n_embd,
// distilbert's dim, llama's num_key_value_heads...) into one ModelConfig, so family builders read one vocabulary.
// Unsupported architectures and missing fields fail here, with a message that names the field or the type. No Node
// imports: the panel's webview worker normalises a config.json it fetched (config.ts reads it from disk in Node).
import { LensError, quoted } from '../errors';
import type { Family } from '../types';
import { badConfig as bad, ConfigFields, unsupportedField, type Activation } from './config-fields';
import { DECODER_MODEL_TYPES, normaliseDecoder, type LayerType } from './decoder-config';
import type { RopeSpec } from './rope-config';

export type { Activation } from './config-fields';
export type { LayerType } from './decoder-config';
export type { RopeSpec, RopeType } from './rope-config';

export interface ModelConfig {
  /** config.json's model_type. */
  modelType: string;
  family: Family;
  hidden: number;
  layers: number;
  /** Query heads. */
  heads: number;
  /** Key/value heads (equals heads without grouped-query attention). */
  kvHeads: number;
  headDim: number;
  /** Feed-forward inner size. */
  intermediate: number;
  vocabSize: number;
  /** Rows of the position table (learned positions) or max_position_embeddings (RoPE). */
  maxPositionEmbeddings: number;
  /** Longest input in tokens (roberta: the table minus padding_idx + 1). */
  maxPositions: number;
  act: Activation;
  /** LayerNorm or RMSNorm epsilon. */
  normEps: number;
  /** Token-type vocabulary (bert, roberta); 0 when the model has no token types (distilbert, decoders). */
  typeVocabSize: number;
  padTokenId: number | null;
  /** The ids that end a generation as the model's files give them: generation_config.json's eos_token_id (one id or
   * a list; readConfig), else config.json's; empty when neither has one. */
  eosTokenIds: number[];
  /** Roberta-style positions: padding_idx + 1 + cumulative mask. */
  robertaPositions: boolean;
  /** RoPE base of the full-attention layers (rope.theta; 10,000 without RoPE). */
  ropeTheta: number;
  /** LM head shares the token embeddings. */
  tieWordEmbeddings: boolean;
  /** Per layer: 'sliding' layers see only the last slidingWindow keys (the query's own included), 'full' layers
   * every earlier one (transformers: query q sees key k iff q - window < k <= q). */
  layerTypes: LayerType[];
  /** The window of the sliding layers; null when no layer slides. */
  slidingWindow: number | null;
  /** RoPE of the full-attention layers, and of the sliding ones unless ropeLocal is set; null without RoPE. */
  rope: RopeSpec | null;
  /** RoPE of the sliding-window layers where it differs (Gemma 3's local base). */
  ropeLocal: RopeSpec | null;
  /** q/k/v biases (qwen2, attention_bias). */
  qkvBias: boolean;
  /** o_proj bias (attention_bias). */
  oBias: boolean;
  /** MLP biases (llama mlp_bias). */
  mlpBias: boolean;
  /** Decoder RMSNorms: 'pre' (before attention and MLP: llama), 'sandwich' (before and after both: gemma), 'post'
   * (after both, inside the residual: olmo2). */
  normPlacement: 'pre' | 'sandwich' | 'post';
  /** RMSNorm scales by (1 + weight) (gemma). */
  normPlusOne: boolean;
  /** q/k RMSNorm before RoPE: per head over head_dim (qwen3, gemma3), over the whole projection (olmo2). */
  qkNorm: 'none' | 'head' | 'projection';
  /** Token embeddings are multiplied by this (gemma: √hidden in float32); 1 elsewhere. */
  embedScale: number;
  /** Attention scores q·k are multiplied by this before the softmax: 1/√head_dim, or gemma's
   * query_pre_attn_scalar^-½. */
  attnScale: number;
  /** Scores pass through cap·tanh(s / cap) before the mask and softmax (gemma2's attn_logit_softcapping). */
  attnSoftcap: number | null;
  /** Logits pass through cap·tanh(l / cap) (gemma's final_logit_softcapping). */
  finalSoftcap: number | null;
  /** phi3's fused qkv_proj (rows q, k, v) and gate_up_proj (rows gate, up). */
  fusedProjections: boolean;
  /** The parsed config.json as read. */
  raw: Record<string, unknown>;
}

/** config.json model_type → family. A null-prototype object: a model_type such as "constructor" or "toString"
 * read from a file finds nothing here (not Object.prototype's members), wherever the table is indexed. */
export const SUPPORTED_MODEL_TYPES: Record<string, Family> = Object.assign(
  Object.create(null) as Record<string, Family>,
  {
    bert: 'bert',
    roberta: 'bert',
    distilbert: 'bert',
    gpt2: 'gpt2',
    ...Object.fromEntries(DECODER_MODEL_TYPES.map((t) => [t, 'llama' as const])),
    gemma3: 'llama', // Gemma3ForConditionalGeneration: the text model in text_config (the vision tower is not run)
  } satisfies Record<string, Family>,
);

/** The encoder–decoder model_types (runtime/models/seq2seq-config.ts), which run from Hugging Face folders only. */
export const ENCODER_DECODER_MODEL_TYPES: readonly string[] = ['marian', 'bart', 'mbart', 't5'];

/**
 * The largest value a config integer may have, by what it counts. Generous bounds that no real model reaches (the
 * largest today: 126 layers and hidden 16,384 in Llama 3.1 405B, 128 heads, feed-forward 73,728 in Nemotron-4 340B,
 * a 262,144-token vocabulary in Gemma 3, head_dim 256, 10,485,760 positions in Llama 4 Scout); a value above them is
 * a corrupt or mistyped file, and refusing it here keeps it from sizing an array (1e9 layers once crashed V8 after
 * 20 s at 1.5 GB; 1e300 was reported as needing 1.6e295 GB).
 */
export const CONFIG_INT_LIMITS = {
  layers: { max: 4096, what: 'layer count' },
  heads: { max: 4096, what: 'head count' },
  hidden: { max: 65536 * 4, what: 'hidden size' },
  intermediate: { max: 2 ** 20, what: 'feed-forward size' },
  vocab: { max: 2 ** 24, what: 'vocabulary size' },
  headDim: { max: 2 ** 14, what: 'head size' },
  positions: { max: 2 ** 30, what: 'position count' },
} as const;
export type ConfigIntKind = keyof typeof CONFIG_INT_LIMITS;

/** config.json fields (every family's spelling) → what they count, for CONFIG_INT_LIMITS. */
const FIELD_KIND = new Map<string, ConfigIntKind>([
  ...[
    'num_hidden_layers',
    'n_layer',
    'n_layers',
    'num_layers',
    'num_decoder_layers',
    'encoder_layers',
    'decoder_layers',
  ].map((f) => [f, 'layers'] as const),
  ...[
    'num_attention_heads',
    'n_head',
    'n_heads',
    'num_heads',
    'num_key_value_heads',
    'encoder_attention_heads',
    'decoder_attention_heads',
  ].map((f) => [f, 'heads'] as const),
  ...['hidden_size', 'n_embd', 'dim', 'd_model'].map((f) => [f, 'hidden'] as const),
  ...['intermediate_size', 'n_inner', 'hidden_dim', 'd_ff', 'encoder_ffn_dim', 'decoder_ffn_dim'].map(
    (f) => [f, 'intermediate'] as const,
  ),
  ...['vocab_size', 'type_vocab_size'].map((f) => [f, 'vocab'] as const),
  ...['head_dim', 'd_kv'].map((f) => [f, 'headDim'] as const),
  ...['max_position_embeddings', 'n_positions'].map((f) => [f, 'positions'] as const),
]);

/** The message for an integer `value` (a number or a u64 bigint) past its CONFIG_INT_LIMITS bound, or undefined
 * when it is within it. `where` names the file, `name` the value ("field num_hidden_layers", a GGUF key). */
export function implausibleInt(
  where: string,
  name: string,
  value: number | bigint,
  kind: ConfigIntKind,
): string | undefined {
  const { max, what } = CONFIG_INT_LIMITS[kind];
  if (value <= max) return undefined;
  return `${where}: ${name} = ${String(value)} is not a plausible ${what} (no real model has more than ${max}); the file is corrupt or was mistyped — fix or re-download it.`;
}

/** ConfigFields whose integers are also held to CONFIG_INT_LIMITS, by the field they were read from. */
export class BoundedFields extends ConfigFields {
  override int(names: string[], fallback?: number): number {
    const v = super.int(names, fallback);
    const field = names.find((n) => this.raw[n] !== undefined && this.raw[n] !== null);
    const kind = field === undefined ? undefined : FIELD_KIND.get(field);
    const message =
      field !== undefined && kind !== undefined ? implausibleInt(this.where, `field ${field}`, v, kind) : undefined;
    if (message !== undefined) throw bad(message);
    return v;
  }
}

/** Normalises a parsed config.json. `where` names the file in messages. */
export function normaliseConfig(raw: Record<string, unknown>, where = 'config.json'): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(`${where} is not a JSON object.`);
  const modelType = raw.model_type;
  if (modelType === undefined || modelType === null)
    throw bad(`${where} has no "model_type" field; add it (e.g. "bert").`);
  if (typeof modelType !== 'string')
    throw bad(`${where}: field model_type must be a string (e.g. "bert"), found ${quoted(modelType)}.`);
  const family = Object.hasOwn(SUPPORTED_MODEL_TYPES, modelType) ? SUPPORTED_MODEL_TYPES[modelType] : undefined;
  if (!family)
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `model_type ${quoted(modelType)} is not supported; supported: ${Object.keys(SUPPORTED_MODEL_TYPES).join(', ')}, and the encoder–decoders ${ENCODER_DECODER_MODEL_TYPES.join(', ')}.`,
    );
  const f = new BoundedFields(raw, where, modelType);
  const int = f.int.bind(f);
  const num = f.num.bind(f);
  const activation = f.activation.bind(f);
  if (raw.quantization_config !== undefined && raw.quantization_config !== null)
    throw unsupportedField(
      where,
      'quantization_config',
      (raw.quantization_config as { quant_method?: unknown }).quant_method ?? 'present',
      'quantized checkpoints; use the full-precision weights',
    );
  const padRaw = raw.pad_token_id;
  const padTokenId = typeof padRaw === 'number' && Number.isInteger(padRaw) ? padRaw : null;

  const base = {
    modelType,
    family,
    padTokenId,
    eosTokenIds: eosTokenIds(raw.eos_token_id),
    robertaPositions: false,
    ropeTheta: 10000,
    tieWordEmbeddings: true,
    layerTypes: [] as LayerType[],
    slidingWindow: null as number | null,
    rope: null as RopeSpec | null,
    ropeLocal: null as RopeSpec | null,
    qkvBias: true,
    oBias: true,
    mlpBias: true,
    typeVocabSize: 0,
    normPlacement: 'pre' as const,
    normPlusOne: false,
    qkNorm: 'none' as const,
    embedScale: 1,
    attnScale: 1,
    attnSoftcap: null as number | null,
    finalSoftcap: null as number | null,
    fusedProjections: false,
    raw,
  };

  let cfg: ModelConfig;
  if (modelType === 'bert' || modelType === 'roberta') {
    const hidden = int(['hidden_size']);
    const heads = int(['num_attention_heads']);
    const maxPositionEmbeddings = int(['max_position_embeddings']);
    const roberta = modelType === 'roberta';
    const pad = padTokenId ?? 1;
    cfg = {
      ...base,
      hidden,
      layers: int(['num_hidden_layers']),
      heads,
      kvHeads: heads,
      headDim: hidden / heads,
      intermediate: int(['intermediate_size']),
      vocabSize: int(['vocab_size']),
      maxPositionEmbeddings,
      maxPositions: roberta ? maxPositionEmbeddings - pad - 1 : maxPositionEmbeddings,
      act: activation('hidden_act', 'gelu'),
      normEps: num(['layer_norm_eps'], 1e-12),
      typeVocabSize: int(['type_vocab_size'], 2),
      padTokenId: roberta ? pad : padTokenId,
      robertaPositions: roberta,
    };
    const pet = raw.position_embedding_type;
    if (pet !== undefined && pet !== null && pet !== 'absolute')
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${where}: position_embedding_type ${quoted(pet)} is not supported; only "absolute".`,
      );
  } else if (modelType === 'distilbert') {
    const hidden = int(['dim', 'hidden_size']);
    const heads = int(['n_heads', 'num_attention_heads']);
    const maxPositionEmbeddings = int(['max_position_embeddings']);
    cfg = {
      ...base,
      hidden,
      layers: int(['n_layers', 'num_hidden_layers']),
      heads,
      kvHeads: heads,
      headDim: hidden / heads,
      intermediate: int(['hidden_dim', 'intermediate_size']),
      vocabSize: int(['vocab_size']),
      maxPositionEmbeddings,
      maxPositions: maxPositionEmbeddings,
      act: activation('activation', 'gelu'),
      normEps: 1e-12,
    };
    // sinusoidal_pos_embds: the table is stored in the weights as position_embeddings, so inference is the same.
  } else if (modelType === 'gpt2') {
    const hidden = int(['n_embd', 'hidden_size']);
    const heads = int(['n_head', 'num_attention_heads']);
    const maxPositionEmbeddings = int(['n_positions', 'max_position_embeddings']);
    cfg = {
      ...base,
      hidden,
      layers: int(['n_layer', 'num_hidden_layers']),
      heads,
      kvHeads: heads,
      headDim: hidden / heads,
      intermediate: int(['n_inner'], 4 * hidden),
      vocabSize: int(['vocab_size']),
      maxPositionEmbeddings,
      maxPositions: maxPositionEmbeddings,
      act: activation('activation_function', 'gelu_new'),
      normEps: num(['layer_norm_epsilon', 'layer_norm_eps'], 1e-5),
    };
    if (
      raw.scale_attn_by_inverse_layer_idx === true ||
      raw.reorder_and_upcast_attn === true ||
      raw.scale_attn_weights === false
    )
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${where}: GPT-2 variants with scale_attn_by_inverse_layer_idx, reorder_and_upcast_attn or scale_attn_weights=false are not supported.`,
      );
  } else if (modelType === 'gemma3') {
    const text = raw.text_config;
    if (typeof text !== 'object' || text === null || Array.isArray(text))
      throw bad(`${where}: model_type gemma3 needs a "text_config" object (the language model's settings).`);
    const tf = new BoundedFields(text as Record<string, unknown>, `${where} (text_config)`, 'gemma3_text');
    cfg = { ...base, ...normaliseDecoder(tf) };
  } else {
    cfg = { ...base, ...normaliseDecoder(f) };
  }
  if (cfg.family !== 'llama') {
    cfg.layerTypes = Array.from({ length: cfg.layers }, (): LayerType => 'full');
    cfg.attnScale = Math.pow(cfg.headDim, -0.5);
  }
  if (!Number.isInteger(cfg.headDim))
    throw bad(`${where}: hidden size ${cfg.hidden} is not divisible by the ${cfg.heads} attention heads.`);
  if (cfg.heads % cfg.kvHeads !== 0)
    throw bad(`${where}: num_attention_heads ${cfg.heads} is not a multiple of num_key_value_heads ${cfg.kvHeads}.`);
  if (cfg.family === 'llama' && cfg.headDim % 2 !== 0)
    throw bad(`${where}: head_dim ${cfg.headDim} must be even for RoPE.`);
  if (cfg.maxPositions < 1)
    throw bad(
      `${where}: max_position_embeddings ${cfg.maxPositionEmbeddings} leaves no positions after pad_token_id ${cfg.padTokenId} + 1; it must be at least ${cfg.maxPositionEmbeddings - cfg.maxPositions + 1}.`,
    );
  return cfg;
}

/** eos_token_id as a list of ids (a config may give one id or several; anything else: none). */
export function eosTokenIds(v: unknown): number[] {
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0);
}

/** Parses and normalises the text of a config.json; `where` names it in messages (e.g. "config.json in DIR"). */
export function parseConfig(text: string, where = 'config.json'): ModelConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    // Python's json module writes NaN and Infinity, which are not JSON.
    const literal = /[:[,]\s*(-?Infinity|NaN)\b/.exec(text);
    if (literal)
      throw bad(`${where} holds ${literal[1]}, which is not a number JSON allows; give the field a finite value.`);
    throw bad(`${where} is not valid JSON (${(e as Error).message.split('\n')[0]}).`);
  }
  return normaliseConfig(raw as Record<string, unknown>, where);
}
