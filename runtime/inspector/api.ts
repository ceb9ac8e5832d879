// The inspector API: what the extension host, the CLI and benchmarks call to load a model and stream its attention.
// Implementations run inference off the calling thread (a worker), so callers' event loops stay responsive.
import type { GradientReply, GradientRequest } from '../grad/gradient-service';
import type { Seq2SeqGradientReply, Seq2SeqGradientRequest } from '../grad/seq2seq-gradients';
import type { Seq2SeqMixingReply, Seq2SeqMixingRequest } from './seq2seq-mixing-service';
import type { BackendName, LayerAttention, ModelFacts, RunTimings, Token } from '../types';
import type { Batch } from '../models/plan';
import type { Tokenizer } from '../tokenizers/tokenizer';
import type { SamplingOptions } from '../generate/sampling';
import type { GenerateDone, GeneratedToken } from './worker-protocol';

export type { GenerateDone, GeneratedToken };
import type { KeptLayerOverview, SpanPayload } from './worker-protocol';
import type { LongRunChoice } from './long-runs';

export interface LoadProgress {
  /** 'reading-config' | 'reading-weights' | 'building-graphs' | 'creating-sessions' | 'ready' */
  phase: string;
  /** 0..1 where known. */
  fraction?: number;
}

export interface LoadOptions {
  /** 'auto' (default): native where it loads, otherwise wasm. */
  backend?: BackendName | 'auto';
  /** Threads for inference (default: the number of cores, at most 4). */
  threads?: number;
  /** Aborting rejects the load with LensError CANCELLED and frees the worker. */
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
  /** The longest input runs will have, for the memory check before loading (default 512). */
  maxTokens?: number;
  /** Bytes of memory the model may take (default: what the system has available now, os.freemem()). */
  availableMemory?: number;
}

export interface RunOptions {
  /** Aborting stops the run between layers; iteration then rejects with LensError CANCELLED. */
  signal?: AbortSignal;
  /** Cut inputs longer than the model's positions (or maxTokens) instead of failing with TOO_LONG. */
  truncate?: boolean;
  /** A lower limit than the model's positions. */
  maxTokens?: number;
  /** Run text as a user message in the model's chat template (runtime/tokenizers/chat-prompt.ts); the template's
   * tokens are marked `template`. Fails with NO_CHAT_TEMPLATE for a model without one. Ignored for token ids. */
  chat?: boolean;
  /** Also return query and key vectors (for the neuron view): of every layer (true) or of the listed layers.
   * The first request for a layer builds that layer's q/k variant (kept for later runs). */
  withVectors?: boolean | number[];
  /** Long inputs (runtime/inspector/long-runs.ts): 'maps' (default) streams every [heads, n, n] map; 'kept' keeps
   * q, k and the summaries where the model runs, yields each layer's overview (LayerResult.overview, empty data) and
   * answers exact values on request (AttentionRun.kept); 'auto' keeps when the maps would exceed 1 GiB. */
  long?: LongRunChoice;
  /** Encoder–decoder models: the target to score with teacher forcing, as text (tokenized as transformers'
   * `text_target`, with the target tokenizer) or as label ids. Without it (or with `translate`) the model translates
   * the source greedily. Fails with BAD_INPUT for other models. */
  target?: string | number[];
  /** Encoder–decoder models: translate greedily (the default without `target`); at most `maxNew` tokens (default
   * the model's positions, at most 128). Fails with BAD_INPUT together with `target` or for other models. */
  translate?: boolean | { maxNew?: number };
  /** Encoder–decoder translations: the beam size (default 1: greedy). Beam search follows the model's
   * generation_config as transformers' generate(num_beams) does; the maps shown are a teacher-forced pass on the
   * chosen hypothesis. Fails with BAD_INPUT with a given target or for other models. */
  beams?: number;
  /** mBART and mBART-50 models: the language of the source text, as one of the tokenizer's codes (`de_DE`); its code
   * goes around the source as transformers' tokenizer with that `src_lang` puts it (default tokenizer_config.json's
   * src_lang). Fails with BAD_INPUT for other models or a code the tokenizer does not have. */
  sourceLanguage?: string;
  /** mBART and mBART-50 models: the language to translate into, or of a given target text, as one of the tokenizer's
   * codes: mBART-50 generates it as its first token (transformers' forced_bos_token_id), mBART starts its decoder
   * with it (decoder_start_token_id), and a target text is tokenized with it as `tgt_lang` (default the model's own:
   * tokenizer_config.json's tgt_lang and the generation config). Fails with BAD_INPUT for other models or a code the
   * tokenizer does not have. */
  targetLanguage?: string;
  /** Encoder–decoder greedy translations: each token the moment its step returns, with its attention rows (the run's
   * decoder and cross layers still arrive whole after the target). Not called for beam search or a given target. */
  onTargetStep?: (step: TargetStep) => void;
}

/** One translated token as it is generated: row `index` of every decoder and cross map. */
export interface TargetStep {
  index: number;
  token: Token;
  logprob: number;
  /** Per decoder layer [heads, index + 1]: the token's query row of decoder self-attention. */
  selfRows: Float32Array[];
  /** Per decoder layer [heads, source length]: its cross-attention row. */
  crossRows: Float32Array[];
}

/** A layer of attention, plus its query/key vectors when the run asked for them. */
export interface LayerResult extends LayerAttention {
  /** [heads, query, headDim], after RoPE where the model has it, unscaled. */
  q?: Float32Array;
  /** [heads, key, headDim]. */
  k?: Float32Array;
  /** A kept run's layer (RunOptions.long): the per-head overview and summaries; `data` is then empty, and exact
   * values come from AttentionRun.kept. */
  overview?: KeptLayerOverview;
}

/** A kept run's exact attention, recomputed where the model runs from its q and k (≤ 1e-5 from the full map). */
export interface KeptAttention {
  /** Tokens of the run. */
  readonly length: number;
  /** A layer's overview once it has arrived. */
  layer(l: number): KeptLayerOverview | undefined;
  value(layer: number, head: number, query: number, key: number): Promise<number>;
  /** Query's row [keys]. */
  row(layer: number, head: number, query: number): Promise<Float32Array>;
  /** Key's column [queries]. */
  column(layer: number, head: number, key: number): Promise<Float32Array>;
  /** The entries rows × cols [rows, cols], exactly (at most 4M entries per request). */
  window(layer: number, head: number, rows: SpanPayload, cols: SpanPayload): Promise<Float32Array>;
  /** Row `query` of the attention rollout (head mean, residual 0.5) over the layers from `startLayer` up, computed
   * where the model runs as a chain of vector–matrix products (runtime/attention/kept-rollout.ts); refused (TOO_LONG)
   * when estimated above its time limit. [length], float64. `signal` cancels it while it runs (it rejects as
   * cancelled; the worker stops within a row). */
  rollout(query: number, startLayer?: number, signal?: AbortSignal): Promise<Float64Array>;
  /** The neuron view on a window: one query's q, the keys' k (as kept: float32, after RoPE, unscaled) and the
   * query's row log-sum-exp per head over every key (at most 4,096 keys per request). */
  vectors(layer: number, query: number, keys: SpanPayload): Promise<KeptVectors>;
}

/** One query's vectors of a kept layer and the keys of a window (KeptAttention.vectors). */
export interface KeptVectors {
  /** [heads, headDim]. */
  q: Float32Array;
  /** [kvHeads, keys, headDim]: query head h reads key head floor(h / (heads / kvHeads)). */
  k: Float32Array;
  /** [heads]: the query row's log-sum-exp of its visible logits (scaled, soft-capped) over every key. */
  lse: Float64Array;
}

/** One run: iterate it to receive the layers in order, each as soon as it is computed. */
export interface AttentionRun extends AsyncIterable<LayerResult> {
  readonly id: number;
  /** The tokens the model sees (after truncation). */
  readonly tokens: Token[];
  /** Set when the input was cut: the number of tokens before truncation. */
  readonly truncatedFrom?: number;
  /** Available after the last layer has been yielded. */
  timings(): RunTimings | undefined;
  /** Last hidden state [query, hidden] (after the final norm), available after iteration completes. */
  lastHidden(): Float32Array | undefined;
  /** Set when the run is kept (RunOptions.long): exact values on request, valid until the next kept run. */
  readonly kept?: KeptAttention;
  /** Encoder–decoder models: the target, available from the first decoder or cross layer on (before it for a
   * given target). Row i of the decoder and cross maps is the decoder reading decoderInput[i] and predicting
   * tokens[i] (decoderInput = [decoder start] + tokens[:-1]; a given target on mBART starts with its last token, as
   * transformers does); logprobs[i] = log p(tokens[i]). */
  target(): RunTargetResult | undefined;
}

export interface RunTargetResult {
  /** The target tokens (labels), offsets into the target text when it was given as text. */
  tokens: Token[];
  /** What the decoder read at each row: [decoder start token] + tokens[:-1]. */
  decoderInput: Token[];
  /** log p(tokens[i]) under the model, per row. */
  logprobs: number[];
  /** Given (teacher-forced) or translated greedily. */
  mode: 'teacher-forced' | 'translated';
  /** Translations: why they ended (eos, or the length limit). */
  end?: 'stop' | 'length';
  /** Translations by beam search: the beam size (absent: greedy). */
  beams?: number;
}

/** What a batched forward pass returns from the head, per row. */
export type HeadRead =
  /** The LM head's logits at one position per row: [B, vocab]. */
  | { kind: 'logits'; positions: readonly number[] }
  /** The last hidden state (after the final norm) at one position per row: [B, hidden]. */
  | { kind: 'hidden'; positions: readonly number[] }
  /** The last hidden state averaged over each row's unmasked positions (sentence-transformers pooling): [B, hidden]. */
  | { kind: 'mean-hidden' }
  /** Nothing from the head (attention or norms only): width 0. */
  | { kind: 'none' }
  /** Encoder–decoder models: each row is a source; the decoder is teacher-forced on `decoderInput` and the row gives
   * log p(token) at the (position, token) pairs of `picks` (flat: position, token, position, token…; position is the
   * decoder row): [B, picks.length / 2]. Rows drop their padding (mask 0): the encoders take no attention mask. */
  | { kind: 'target-logprobs'; decoderInput: readonly number[]; picks: readonly number[] };

/** A batch of rows through the whole model at once (perturbation methods: leave-one-out, occlusion, faithfulness). */
export interface ForwardRequest {
  /** Rows of equal length; mask 0 marks padding (or hidden tokens), which no query attends to. */
  batch: Batch;
  read: HeadRead;
  /** Also return every layer's attention [B, heads, seq, seq]. */
  attention?: boolean;
  /** Also return value Gram matrices [B, seq, heads, heads] (norm-based attribution) of every layer or the listed
   * ones. The first request for a layer builds that layer's variant (kept for later requests). */
  norms?: boolean | readonly number[];
  /** Also return every layer's context-mixing tensors (ALTI; the mixing layer variant); 'outputs': only each
   * layer's output (value zeroing: vectors and sum come back empty). */
  mixing?: boolean | 'outputs';
  /** With mixing: [rows, layers, seq], 1 keeps token j's value vectors in layer l of a row, 0 zeroes them. */
  valueKeep?: Float32Array;
}

/** One layer's context-mixing tensors for every row of a batch (runtime/analysis/mixing.ts reads them). */
export interface MixingTensors {
  /** [B,S,H,E]: f_h(x_j) = v_h,j · W_O,h, each token's value vector through its head's rows of the output projection. */
  vectors: Float32Array;
  /** [B,S,E]: the attention block's residual input (the layer's input). */
  resid: Float32Array;
  /** [B,S,E]: residual input + attention output (with its bias), before any norm. */
  sum: Float32Array;
  /** [3,E]: a post-LN block's LayerNorm γ, β and ε (every column); absent for pre-LN blocks. */
  postNorm?: Float32Array;
  /** [B,S,E]: the layer's output (the next layer's input). */
  out?: Float32Array;
}

export interface ForwardResult {
  rows: number;
  seq: number;
  /** [rows, width] as HeadRead says. */
  head: Float32Array;
  width: number;
  /** Per layer [rows, heads, seq, seq], when asked for. */
  attention?: Float32Array[];
  /** Per layer [rows, seq, heads, heads] for the layers asked for (undefined for the others). */
  grams?: (Float32Array | undefined)[];
  /** Per layer, when mixing was asked for. */
  mixing?: MixingTensors[];
  /** Inference time of each stage, in milliseconds: embeddings, layer 0 .. L-1, head. */
  stageMs: number[];
}

export interface ForwardOptions {
  /** Aborting stops the pass between stages and rejects with LensError CANCELLED. */
  signal?: AbortSignal;
}

/** A continuation with the loaded model (KV-cached: one prefill, then a step per token). */
export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to generate (≥ 1; prompt + output within the model's positions). */
  maxNew: number;
  /** Tokens that end the output (EOS, end of turn: runtime/generate/stop-tokens.ts); generated, then it stops. */
  stopIds?: readonly number[];
  /** Each token's attention rows (default true); false: tokens only. */
  rows?: boolean;
  /** Aborting stops between steps; the promise rejects with LensError CANCELLED (tokens already sent stay sent). */
  signal?: AbortSignal;
  /** Each generated token, the moment its step returns: its id, position and rows [heads, position + 1] per layer. */
  onToken?: (token: GeneratedToken) => void;
}

export interface Inspector {
  readonly facts: ModelFacts;
  readonly backend: BackendName;
  readonly threads: number;
  /** Milliseconds spent loading (config, weights, graphs, sessions). */
  readonly loadMs: number;
  /** The model's tokenizer (undefined for synthetic models run on ids). */
  readonly tokenizer: Tokenizer | undefined;
  /** One-line warnings about the loaded model that did not stop it (e.g. weights with layers config.json omits). */
  readonly warnings?: readonly string[];
  /** 'auto' settled on a slower backend than it prefers: why (e.g. no native binary in this package). */
  readonly fallbackReason?: string;
  /** The tokens of a text (chat: as a user message in the model's chat template, see RunOptions.chat). */
  tokenize(text: string, options?: { chat?: boolean; sourceLanguage?: string }): Token[];
  /** Starts a run on text or on token ids (ids are used as given, no template added). */
  run(input: string | number[], options?: RunOptions): AttentionRun;
  /** Runs a batch of token-id rows through every stage in one pass per stage; queued with runs, in order. */
  forward(request: ForwardRequest, options?: ForwardOptions): Promise<ForwardResult>;
  /** Continues token ids (a run's, plus earlier output) with the model already loaded; queued with runs, in order.
   * Fails with UNSUPPORTED_MODEL for an encoder or an ONNX import. */
  generate(ids: number[], options: GenerateOptions): Promise<GenerateDone>;
  /** Gradients of a target w.r.t. the token embeddings, at the input or on a path from a baseline (runtime/grad);
   * absent where the model cannot be differentiated here (the webview's in-browser inference). An imported ONNX
   * graph answers with a LensError (GRADIENT_REFUSED_ONNX). */
  gradients?(request: GradientRequest, options?: ForwardOptions): Promise<GradientReply>;
  /** An encoder–decoder's gradients w.r.t. its source and decoder input embeddings (runtime/grad/seq2seq-
   * gradients.ts), computed where the model lives; absent where it cannot be (the webview's in-browser inference). A
   * model that is not an encoder–decoder (or an imported ONNX one) answers with a LensError. */
  seq2seqGradients?(request: Seq2SeqGradientRequest, options?: ForwardOptions): Promise<Seq2SeqGradientReply>;
  /** An encoder–decoder's context mixing over its source (ALTI+, value zeroing through cross-attention:
   * seq2seq-mixing-service.ts), computed where the model lives; absent where it cannot be (the webview's in-browser
   * inference). A model that is not an encoder–decoder answers with a LensError. */
  seq2seqMixing?(request: Seq2SeqMixingRequest, options?: ForwardOptions): Promise<Seq2SeqMixingReply>;
  /** Releases the worker and every session. Further calls fail with LensError DISPOSED. */
  dispose(): Promise<void>;
}
