// config.json of the encoder–decoder families (marian, bart, mbart, t5) read into one Seq2SeqConfig: their field names
// differ (d_model / encoder_layers / num_layers, encoder_attention_heads / num_heads...) and none of them fits the
// decoder-only ModelConfig of formats/config-normalise.ts. Unsupported settings stop the load with a line naming the
// field. No Node imports.
import { LensError, quoted } from '../errors';
import { badConfig, ConfigFields, type Activation } from '../formats/config-fields';
import { BoundedFields } from '../formats/config-normalise';

export type Seq2SeqFamily = 'marian' | 'bart' | 'mbart' | 't5';

/** config.json model_type → the family file that builds it. */
export const SEQ2SEQ_MODEL_TYPES: Record<string, Seq2SeqFamily> = {
  marian: 'marian',
  bart: 'bart',
  mbart: 'mbart',
  t5: 't5',
};

export interface Seq2SeqConfig {
  modelType: string;
  family: Seq2SeqFamily;
  hidden: number;
  encoderLayers: number;
  decoderLayers: number;
  /** Heads of every attention (encoder, decoder self and cross). */
  heads: number;
  headDim: number;
  encoderFfn: number;
  decoderFfn: number;
  vocabSize: number;
  /** Longest source and longest target, in tokens (learned/sinusoidal tables; T5: n_positions or 512). */
  maxPositions: number;
  act: Activation;
  normEps: number;
  /** The decoder's first input (transformers shifts labels right behind it). */
  decoderStartTokenId: number;
  /** mBART: given labels, the decoder's first input is the last label (its language code), not decoderStartTokenId. */
  shiftsLastLabel: boolean;
  eosTokenId: number;
  padTokenId: number | null;
  /** Token embeddings × √hidden (marian, bart with scale_embedding). */
  scaleEmbedding: boolean;
  /** T5: relative position buckets and the distance beyond which they are all the last bucket. */
  relativeBuckets: number;
  relativeMaxDistance: number;
  /** T5 feed-forward: act(wi_0 x) · wi_1 x (v1.1 gated-gelu) or act(wi x). */
  gated: boolean;
  /** T5: the decoder output is scaled by hidden^-½ before the LM head (original T5; transformers 5's
   * scale_decoder_outputs, transformers 4's tie_word_embeddings not false); v1.1 / flan-t5 do not scale. The head
   * is lm_head.weight where the checkpoint has it, the shared embeddings otherwise. */
  tiedHead: boolean;
  raw: Record<string, unknown>;
}

/** True when config.json describes an encoder–decoder model of a supported family. */
export function isSeq2SeqConfig(raw: Record<string, unknown>): boolean {
  return typeof raw.model_type === 'string' && Object.hasOwn(SEQ2SEQ_MODEL_TYPES, raw.model_type);
}

function tokenId(f: ConfigFields, name: string, fallback?: number): number {
  const v = f.raw[name];
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw badConfig(`${f.where} is missing field ${name} (needed for model_type ${f.modelType}).`);
  }
  throw badConfig(`${f.where}: field ${name} must be a token id (a whole number ≥ 0), found ${quoted(v)}.`);
}

/** Reads a parsed config.json of marian, bart or t5. */
export function normaliseSeq2SeqConfig(raw: Record<string, unknown>, where = 'config.json'): Seq2SeqConfig {
  const modelType = String(raw.model_type);
  const family = Object.hasOwn(SEQ2SEQ_MODEL_TYPES, modelType) ? SEQ2SEQ_MODEL_TYPES[modelType] : undefined;
  if (!family)
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `model_type ${modelType} is not an encoder–decoder Attention Lens supports; supported: ${Object.keys(SEQ2SEQ_MODEL_TYPES).join(', ')}.`,
    );
  const f = new BoundedFields(raw, where, modelType);
  const padRaw = raw.pad_token_id;
  const padTokenId = typeof padRaw === 'number' && Number.isInteger(padRaw) ? padRaw : null;
  if (family === 't5') {
    const hidden = f.int(['d_model']);
    const layers = f.int(['num_layers']);
    const proj = typeof raw.feed_forward_proj === 'string' ? raw.feed_forward_proj : 'relu';
    const parts = proj.split('-');
    const gated = parts[0] === 'gated';
    if ((parts.length === 2 && !gated) || parts.length > 2)
      throw badConfig(`${where}: feed_forward_proj ${quoted(proj)} is not "ACT" or "gated-ACT".`);
    // transformers maps gated-gelu to gelu_new (T5 v1.1's tanh GELU).
    const actName = proj === 'gated-gelu' ? 'gelu_new' : parts[parts.length - 1];
    const ff = f.int(['d_ff']);
    return {
      modelType,
      family,
      hidden,
      encoderLayers: layers,
      decoderLayers: f.int(['num_decoder_layers'], layers),
      heads: f.int(['num_heads']),
      headDim: f.int(['d_kv']),
      encoderFfn: ff,
      decoderFfn: ff,
      vocabSize: f.int(['vocab_size']),
      maxPositions: f.int(['n_positions'], 512),
      act: new ConfigFields({ act: actName }, where, modelType).activation('act', 'relu'),
      normEps: f.num(['layer_norm_epsilon'], 1e-6),
      decoderStartTokenId: tokenId(f, 'decoder_start_token_id', padTokenId ?? 0),
      shiftsLastLabel: false,
      eosTokenId: tokenId(f, 'eos_token_id', 1),
      padTokenId,
      scaleEmbedding: false,
      relativeBuckets: f.int(['relative_attention_num_buckets'], 32),
      relativeMaxDistance: f.int(['relative_attention_max_distance'], 128),
      gated,
      // transformers 5 saves the decision as scale_decoder_outputs; transformers 4 configs say it with
      // tie_word_embeddings (v1.1 / flan-t5 save false).
      tiedHead:
        typeof raw.scale_decoder_outputs === 'boolean' ? raw.scale_decoder_outputs : raw.tie_word_embeddings !== false,
      raw,
    };
  }
  const hidden = f.int(['d_model']);
  const heads = f.int(['encoder_attention_heads']);
  const decoderHeads = f.int(['decoder_attention_heads']);
  if (decoderHeads !== heads)
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${where}: encoder_attention_heads ${heads} and decoder_attention_heads ${decoderHeads} differ; Attention Lens needs them equal.`,
    );
  if (hidden % heads !== 0) throw badConfig(`${where}: d_model ${hidden} is not a multiple of the ${heads} heads.`);
  if (raw.share_encoder_decoder_embeddings === false)
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${where}: share_encoder_decoder_embeddings false (separate decoder embeddings) is not supported yet.`,
    );
  for (const field of ['normalize_before', 'add_final_layer_norm', 'normalize_embedding'])
    if (raw[field] === true && family === 'marian')
      throw new LensError('UNSUPPORTED_MODEL', `${where}: ${field} true is not supported for marian.`);
  if (family === 'mbart' && raw.add_bias_logits === true)
    throw new LensError('UNSUPPORTED_MODEL', `${where}: add_bias_logits true is not supported for mbart.`);
  return {
    modelType,
    family,
    hidden,
    encoderLayers: f.int(['encoder_layers']),
    decoderLayers: f.int(['decoder_layers']),
    heads,
    headDim: hidden / heads,
    encoderFfn: f.int(['encoder_ffn_dim']),
    decoderFfn: f.int(['decoder_ffn_dim']),
    vocabSize: f.int(['vocab_size']),
    maxPositions: f.int(['max_position_embeddings']),
    act: f.activation('activation_function', 'gelu'),
    normEps: 1e-5,
    decoderStartTokenId: tokenId(f, 'decoder_start_token_id', family === 'marian' ? (padTokenId ?? undefined) : 2),
    shiftsLastLabel: family === 'mbart',
    eosTokenId: tokenId(f, 'eos_token_id', 2),
    padTokenId,
    scaleEmbedding: f.bool('scale_embedding', family === 'marian'),
    relativeBuckets: 0,
    relativeMaxDistance: 0,
    gated: false,
    tiedHead: true,
    raw,
  };
}
