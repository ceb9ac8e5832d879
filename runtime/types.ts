// The runtime's public data shapes: what a model is (facts), what a token is, what a layer of attention is.
// Every other part of Attention Lens speaks in these types.

/**
 * Which kind of attention a layer computes. Encoder-only and decoder-only models: 'self' (bidirectional) or 'causal'
 * (masked). Encoder–decoder models (marian, bart, mbart, t5): 'encoder' (the encoder's bidirectional self-attention,
 * [heads, source, source]), 'decoder' (the decoder's masked self-attention, [heads, target, target]) and 'cross'
 * (target queries over source keys, [heads, target, source]). ONNX imports classify their layers as 'self',
 * 'causal' or 'cross'.
 */
export type AttentionKind = 'self' | 'causal' | 'cross' | 'encoder' | 'decoder';

/** Every AttentionKind (validators of data that crosses a boundary). */
export const ATTENTION_KINDS: readonly AttentionKind[] = ['self', 'causal', 'cross', 'encoder', 'decoder'];

/** True for the kinds whose query i sees only keys ≤ i. */
export function isCausalKind(kind: AttentionKind): boolean {
  return kind === 'causal' || kind === 'decoder';
}

/** Model families the runtime can build graphs for. */
export type Family = 'bert' | 'gpt2' | 'llama' | 'marian' | 'bart' | 'mbart' | 't5';

/** Which inference engine runs the graphs. 'webgpu' runs only in a browser (the panel's webview), on the GPU. */
export type BackendName = 'native' | 'wasm' | 'webgpu';

export type FeedType = 'float32' | 'int64';

/** A tensor handed to a session (runtime/backend/ort.ts): plain typed data, backend-neutral. */
export interface FeedTensor {
  type: FeedType;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/** Static facts about a loaded model, shown to users and used to size views. */
export interface ModelFacts {
  /** Display name (the folder's base name). */
  name: string;
  /** Absolute path of the model folder. */
  dir: string;
  /** The family whose builder made the graphs, or 'onnx' for an imported ONNX export. */
  family: Family | 'onnx';
  /** config.json's model_type (bert, roberta, distilbert, gpt2, llama, mistral, qwen2). */
  modelType: string;
  layers: number;
  /** Query heads per layer (for grouped-query attention: every query head). */
  heads: number;
  /** Key/value heads per layer (equals heads without grouped-query attention). */
  kvHeads: number;
  headDim: number;
  hidden: number;
  vocabSize: number;
  /** Longest input, in tokens, the position embeddings allow. */
  maxPositions: number;
  /** One entry per layer. */
  attentionKinds: AttentionKind[];
  /** True when the model has a language-model head (logits). */
  hasLmHead: boolean;
  /** Per layer, the sliding window (a query sees only the last `window` keys, itself included; earlier keys get
   * exactly 0), or null for a layer that sees every earlier key. Absent: no layer slides. */
  slidingWindows?: (number | null)[];
  /** The factor on q·k before the softmax where it is not 1/√headDim (gemma's query_pre_attn_scalar^-½). */
  attentionScale?: number;
  /** Scores pass through cap·tanh(s / cap) before the softmax (gemma2's attn_logit_softcapping). */
  attentionSoftcap?: number;
  /** Causal LMs: the ids that end a generation as the model's files give them (generation_config.json's
   * eos_token_id, else config.json's), beside the tokenizer's (runtime/generate/stop-tokens.ts). */
  stopTokenIds?: number[];
  /** Encoder–decoder models (marian, bart, mbart, t5): how the run's layer entries are laid out. `layers` counts entries:
   * first the encoder's layers (kind 'encoder'), then the decoder's self-attention (kind 'decoder'), then its
   * cross-attention (kind 'cross'), each in layer order, so entry e is layer `e - first` of its kind. */
  encoderDecoder?: EncoderDecoderFacts;
}

export interface EncoderDecoderFacts {
  encoderLayers: number;
  decoderLayers: number;
  /** The decoder's first input (teacher forcing feeds [start] + target[:-1]). */
  decoderStartTokenId: number;
  eosTokenId: number;
  /** mBART: teacher forcing on given labels feeds [the last non-pad label] + labels[:-1] (transformers' mBART
   * shift_tokens_right: the language code its tokenizer puts last goes first), not decoderStartTokenId. */
  shiftsLastLabel?: true;
}

/** One token of the input, with its span in the ORIGINAL text in UTF-16 code units. */
export interface Token {
  id: number;
  /** The vocabulary string of the token (e.g. "Ġfox", "##ing", "<0xE2>"). */
  text: string;
  /** Start offset [start, end) into the original text; null for special tokens added by the template. */
  start: number | null;
  end: number | null;
  /** True for tokens added by the post-processor template (CLS, SEP, BOS...). */
  special: boolean;
  /** True for tokens a chat template wrote around the user's text (role markers, special tokens, a system prompt):
   * also `special`, with null offsets; the views draw them dimmer. */
  template?: boolean;
}

/** The post-softmax attention of one layer for one input. */
export interface LayerAttention {
  /** The entry's index in the run (for encoder–decoders see ModelFacts.encoderDecoder). */
  layer: number;
  /** Encoder–decoders: the layer within its stack (encoder layer, or the decoder layer of a decoder/cross entry). */
  stackLayer?: number;
  kind: AttentionKind;
  heads: number;
  queryLength: number;
  keyLength: number;
  /** Row-major [heads, query, key]. */
  data: Float32Array;
}

/** Timings of one run, in milliseconds. */
export interface RunTimings {
  tokenizeMs: number;
  firstLayerMs: number;
  totalMs: number;
  /** Per stage (embeddings, layer 0..L-1, head) inference time inside the worker. */
  stageMs: number[];
}
