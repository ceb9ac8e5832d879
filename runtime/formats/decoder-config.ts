// config.json of the RoPE decoder families (llama, mistral, qwen2, qwen3, phi3, olmo2, gemma2, gemma3_text) read
// into the facts the decoder builder needs: which layers slide and how far, each layer type's RoPE, where the norms
// sit, q/k norms, embedding and score scaling, soft-capping, fused projections, biases. Absent fields take the
// defaults of transformers 5.25's config class for that model_type (Gemma's head_dim 256 and soft-caps, Qwen3's
// head_dim 128, Mistral's window 4096...), because that is the model the checkpoint's authors ran. Fields that change
// the math in a way not implemented here are refused by name.
import { badConfig, unsupportedField, type ConfigFields } from './config-fields';
import type { ModelConfig } from './config-normalise';
import { readRope } from './rope-config';

/** Whether a layer attends to every earlier key or only to the last `slidingWindow` ones. */
export type LayerType = 'full' | 'sliding';

/** The part of ModelConfig this module fills (config-normalise.ts documents each field). */
export type DecoderFields = Omit<
  ModelConfig,
  'modelType' | 'family' | 'typeVocabSize' | 'padTokenId' | 'eosTokenIds' | 'robertaPositions' | 'raw'
>;

/** The config.json model_type values this module reads. */
export const DECODER_MODEL_TYPES = [
  'llama',
  'mistral',
  'qwen2',
  'qwen3',
  'phi3',
  'olmo2',
  'gemma2',
  'gemma3_text',
] as const;

const GEMMA = new Set(['gemma2', 'gemma3_text']);

/** layer_types as the config states it, or as transformers derives it when absent. */
function readLayerTypes(f: ConfigFields, layers: number, window: number | null): string[] {
  const { raw, where, modelType } = f;
  const given = raw.layer_types;
  // MistralConfig ignores layer_types (transformers warns and slides every layer); Llama, Phi-3 and OLMo 2 have none.
  if (given !== undefined && given !== null && !['mistral', 'llama', 'phi3', 'olmo2'].includes(modelType)) {
    if (!Array.isArray(given) || given.length !== layers)
      throw badConfig(`${where}: layer_types must list one entry per layer (${layers}).`);
    given.forEach((t, l) => {
      if (t !== 'full_attention' && t !== 'sliding_attention')
        throw unsupportedField(where, `layer_types[${l}]`, t, 'supported: full_attention, sliding_attention');
    });
    return given as string[];
  }
  const every = (t: string) => Array.from({ length: layers }, () => t);
  switch (modelType) {
    case 'mistral':
    case 'phi3':
      return every(window === null ? 'full_attention' : 'sliding_attention');
    case 'qwen2':
    case 'qwen3': {
      const from = f.int(['max_window_layers'], 28);
      return Array.from({ length: layers }, (_, l) =>
        window !== null && l >= from ? 'sliding_attention' : 'full_attention',
      );
    }
    case 'gemma2':
      return Array.from({ length: layers }, (_, l) => ((l + 1) % 2 ? 'sliding_attention' : 'full_attention'));
    case 'gemma3_text': {
      const pattern = f.int(['sliding_window_pattern'], 6);
      return Array.from({ length: layers }, (_, l) => ((l + 1) % pattern ? 'sliding_attention' : 'full_attention'));
    }
    default:
      return every('full_attention');
  }
}

/** The sliding window the model type applies (null: none), with its transformers default. */
function readWindow(f: ConfigFields): number | null {
  const window = (fallback: number | null) => {
    const v = f.raw.sliding_window;
    if (v === undefined) return fallback;
    if (v === null) return null;
    return f.int(['sliding_window']);
  };
  switch (f.modelType) {
    case 'mistral':
    case 'gemma2':
    case 'gemma3_text':
      return window(4096);
    case 'phi3':
      return window(null);
    case 'qwen2':
    case 'qwen3':
      return f.bool('use_sliding_window', false) ? window(4096) : null;
    default:
      return null; // llama, olmo2: transformers never reads sliding_window
  }
}

export function normaliseDecoder(f: ConfigFields): DecoderFields {
  const { raw, where, modelType } = f;
  const gemma = GEMMA.has(modelType);
  if (gemma && raw.use_bidirectional_attention === true)
    throw unsupportedField(where, 'use_bidirectional_attention', true, 'only causal attention is implemented');

  const hidden = f.int(['hidden_size']);
  const heads = f.int(['num_attention_heads']);
  const layers = f.int(['num_hidden_layers']);
  const headDimDefault = gemma ? 256 : modelType === 'qwen3' ? 128 : hidden / heads;
  const headDim = Number.isInteger(headDimDefault) ? f.int(['head_dim'], headDimDefault) : f.int(['head_dim']);
  const maxPositionEmbeddings = f.int(['max_position_embeddings']);

  const slidingWindow = readWindow(f);
  const types = readLayerTypes(f, layers, slidingWindow);
  if (slidingWindow === null && types.includes('sliding_attention'))
    throw badConfig(`${where}: layer_types has sliding_attention layers but there is no sliding_window.`);
  const layerTypes: LayerType[] = types.map((t) => (t === 'sliding_attention' ? 'sliding' : 'full'));

  const ropes = readRope({
    where,
    modelType,
    raw,
    headDim,
    maxPositions: maxPositionEmbeddings,
    layerTypes: [...new Set(types)],
    partialRotary: modelType === 'phi3',
  });
  const sameRope = JSON.stringify(ropes.full) === JSON.stringify(ropes.sliding);

  const attentionBias = f.bool('attention_bias', false);
  const biasPerType: Record<string, [boolean, boolean]> = {
    qwen2: [true, false], // q/k/v always, o never
    mistral: [false, false],
    phi3: [false, false],
  };
  const [qkvBias, oBias] = biasPerType[modelType] ?? [attentionBias, attentionBias];

  const capDefault = modelType === 'gemma2' ? [50, 30] : [null, null];
  return {
    hidden,
    layers,
    heads,
    kvHeads: f.int(['num_key_value_heads'], heads),
    headDim,
    intermediate: f.int(['intermediate_size']),
    vocabSize: f.int(['vocab_size']),
    maxPositionEmbeddings,
    maxPositions: maxPositionEmbeddings,
    act: gemma ? f.activation('hidden_activation', 'gelu_pytorch_tanh') : f.activation('hidden_act', 'silu'),
    normEps: f.num(['rms_norm_eps'], modelType === 'phi3' || modelType === 'olmo2' ? 1e-5 : 1e-6),
    tieWordEmbeddings: f.bool('tie_word_embeddings', gemma),
    layerTypes,
    slidingWindow: layerTypes.includes('sliding') ? slidingWindow : null,
    rope: ropes.full,
    ropeLocal: sameRope || !layerTypes.includes('sliding') ? null : ropes.sliding,
    ropeTheta: ropes.full.theta,
    qkvBias,
    oBias,
    mlpBias: modelType === 'llama' ? f.bool('mlp_bias', false) : false,
    normPlacement: gemma ? 'sandwich' : modelType === 'olmo2' ? 'post' : 'pre',
    normPlusOne: gemma,
    qkNorm:
      modelType === 'qwen3' || modelType === 'gemma3_text' ? 'head' : modelType === 'olmo2' ? 'projection' : 'none',
    embedScale: gemma ? Math.fround(Math.sqrt(hidden)) : 1,
    attnScale: gemma ? Math.pow(f.positiveOrNull('query_pre_attn_scalar', 256) ?? 256, -0.5) : Math.pow(headDim, -0.5),
    attnSoftcap: gemma ? f.positiveOrNull('attn_logit_softcapping', capDefault[0]) : null,
    finalSoftcap: gemma ? f.positiveOrNull('final_logit_softcapping', capDefault[1]) : null,
    fusedProjections: modelType === 'phi3',
  };
}
