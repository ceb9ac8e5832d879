// The pure half of config.json handling: normalises the field-name zoo of the supported architectures (gpt2's n_embd,
// distilbert's dim, llama's num_key_value_heads...) into one ModelConfig, so family builders read one vocabulary.
// Unsupported architectures and missing fields fail here, with a message that names the field or the type. No Node
// imports: the panel's webview worker normalises a config.json it fetched (config.ts reads it from disk in Node).
import { LensError } from '../errors';
import type { Family } from '../types';

/** Activation functions the families implement. */
export type Activation = 'gelu' | 'gelu_new' | 'relu' | 'silu';

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
  /** Roberta-style positions: padding_idx + 1 + cumulative mask. */
  robertaPositions: boolean;
  /** RoPE base (llama family). */
  ropeTheta: number;
  /** LM head shares the token embeddings. */
  tieWordEmbeddings: boolean;
  /** Keys further back than this are masked (mistral); null for none. */
  slidingWindow: number | null;
  /** q/k/v biases (qwen2, llama attention_bias). */
  qkvBias: boolean;
  /** o_proj bias (llama attention_bias). */
  oBias: boolean;
  /** MLP biases (llama mlp_bias). */
  mlpBias: boolean;
  /** The parsed config.json as read. */
  raw: Record<string, unknown>;
}

export const SUPPORTED_MODEL_TYPES: Record<string, Family> = {
  bert: 'bert',
  roberta: 'bert',
  distilbert: 'bert',
  gpt2: 'gpt2',
  llama: 'llama',
  mistral: 'llama',
  qwen2: 'llama',
};

function bad(message: string): LensError {
  return new LensError('BAD_CONFIG', message);
}

/** Normalises a parsed config.json. `where` names the file in messages. */
export function normaliseConfig(raw: Record<string, unknown>, where = 'config.json'): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(`${where} is not a JSON object.`);
  const modelType = raw.model_type;
  if (typeof modelType !== 'string') throw bad(`${where} has no "model_type" field; add it (e.g. "bert").`);
  const family = SUPPORTED_MODEL_TYPES[modelType];
  if (!family)
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `model_type ${modelType} is not supported; supported: ${Object.keys(SUPPORTED_MODEL_TYPES).join(', ')}.`,
    );
  /** A positive integer from the first present of `names`. */
  const int = (names: string[], fallback?: number): number => {
    for (const n of names) {
      const v = raw[n];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
        throw bad(`${where}: field ${n} must be a positive integer, found ${JSON.stringify(v)}.`);
      return v;
    }
    if (fallback !== undefined) return fallback;
    throw bad(`${where} is missing field ${names[0]} (needed for model_type ${modelType}).`);
  };
  /** A positive finite number (norm epsilons, the RoPE base: 0, negatives and non-finite values make the math
   * undefined, so the run would show NaN attention) from the first present of `names`. */
  const num = (names: string[], fallback: number): number => {
    for (const n of names) {
      const v = raw[n];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
        throw bad(`${where}: field ${n} must be a number greater than 0, found ${JSON.stringify(v)}; fix config.json.`);
      return v;
    }
    return fallback;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const v = raw[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw bad(`${where}: field ${name} must be true or false, found ${JSON.stringify(v)}.`);
    return v;
  };
  const activation = (name: string, fallback: string): Activation => {
    const v = raw[name] ?? fallback;
    switch (v) {
      case 'gelu':
        return 'gelu';
      case 'gelu_new':
      case 'gelu_pytorch_tanh':
      case 'gelu_fast':
        return 'gelu_new';
      case 'relu':
        return 'relu';
      case 'silu':
      case 'swish':
        return 'silu';
      default:
        throw new LensError(
          'UNSUPPORTED_MODEL',
          `${where}: activation ${JSON.stringify(v)} (${name}) is not supported; supported: gelu, gelu_new, relu, silu.`,
        );
    }
  };
  const padRaw = raw.pad_token_id;
  const padTokenId = typeof padRaw === 'number' && Number.isInteger(padRaw) ? padRaw : null;

  const base = {
    modelType,
    family,
    padTokenId,
    robertaPositions: false,
    ropeTheta: 10000,
    tieWordEmbeddings: true,
    slidingWindow: null as number | null,
    qkvBias: true,
    oBias: true,
    mlpBias: true,
    typeVocabSize: 0,
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
        `${where}: position_embedding_type ${JSON.stringify(pet)} is not supported; only "absolute".`,
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
  } else {
    // llama, mistral, qwen2
    const hidden = int(['hidden_size']);
    const heads = int(['num_attention_heads']);
    const maxPositionEmbeddings = int(['max_position_embeddings']);
    const rs = raw.rope_scaling as { rope_type?: string; type?: string } | null | undefined;
    const ropeType = rs ? (rs.rope_type ?? rs.type) : undefined;
    if (rs && ropeType !== 'default')
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${where}: rope_scaling ${JSON.stringify(ropeType)} is not supported yet; only unscaled RoPE.`,
      );
    let slidingWindow: number | null = null;
    if (modelType === 'mistral' && raw.sliding_window != null) slidingWindow = int(['sliding_window']);
    if (modelType === 'qwen2' && raw.use_sliding_window === true && raw.sliding_window != null)
      slidingWindow = int(['sliding_window']);
    const attentionBias = bool('attention_bias', false);
    cfg = {
      ...base,
      hidden,
      layers: int(['num_hidden_layers']),
      heads,
      kvHeads: int(['num_key_value_heads'], heads),
      headDim: int(['head_dim'], hidden / heads),
      intermediate: int(['intermediate_size']),
      vocabSize: int(['vocab_size']),
      maxPositionEmbeddings,
      maxPositions: maxPositionEmbeddings,
      act: activation('hidden_act', 'silu'),
      normEps: num(['rms_norm_eps'], 1e-6),
      ropeTheta: num(['rope_theta'], 10000),
      tieWordEmbeddings: bool('tie_word_embeddings', false),
      slidingWindow,
      qkvBias: modelType === 'qwen2' || attentionBias,
      oBias: attentionBias,
      mlpBias: bool('mlp_bias', false),
    };
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
