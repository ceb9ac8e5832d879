// What an inference worker answers, declared once for both of them: the Node worker thread (worker.ts) and the
// panel's in-browser worker (webview/inference/worker.ts). Each request names its payload, its reply and the events it
// streams (runtime/channel/channel.ts carries them); only structured-cloneable data crosses, typed arrays in transfer
// lists. The two workers share run and dispose (worker-loop.ts); they differ in how the model is obtained (load) and
// in one extra request each (forward here, loseDevice in the browser).
import type { Call } from '../channel/types';
import type { BackendName, LayerAttention } from '../types';
import type { Batch, PlanFacts } from '../models/plan';
import type { HeadRead, MixingTensors } from './api';
import type { GradientReply, GradientRequest } from '../grad/gradient-service';
import type { Seq2SeqGradientReply, Seq2SeqGradientRequest } from '../grad/seq2seq-gradients';
import type { Seq2SeqMixingReply, Seq2SeqMixingRequest } from './seq2seq-mixing-service';
import type { OnnxLayout } from '../onnx/layout';
import type { HeadSummary } from '../attention/head-summaries';

/** The parameters of a synthetic BERT (random weights), for benchmarks and tests without a model folder. */
export interface SyntheticSpec {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  vocab: number;
  maxPositions: number;
  seed: number;
}

/** Where the Node worker gets a model: a Hugging Face folder, a GGUF file, an ONNX export, or a synthetic BERT built
 * there. */
export type ModelSourceSpec = (
  { dir: string } | { gguf: string } | { onnx: OnnxLayout } | { synthetic: SyntheticSpec }
) & {
  /** The model-randomisation sanity check: the top `layers` layers' weights re-initialised (randomize-layers.ts). */
  randomizeTop?: { layers: number; seed: number };
};

export interface LoadTimings {
  /** Reading config and weights (or generating synthetic ones). */
  readMs: number;
  /** Building the stage graphs. */
  planMs: number;
  /** Creating one session per stage. */
  sessionsMs: number;
}

/** What a load is doing. */
export interface LoadProgressEvent {
  phase: string;
  fraction?: number;
}

/** Long inputs: the run computes the layers' summaries variant and the worker keeps it (runtime/attention/kept-run.ts)
 * under `id` until the next kept run or disposal; its maps never leave the worker, exact values are asked for. */
export interface KeepRequest {
  /** The calling side's run id, which attention queries name. */
  id: number;
  /** Keys kept per query in the worker (top-k). */
  topK: number;
  /** Positions whose received attention is summed per query (BOS, separators). */
  specials: number[];
}

/** One sequence (batch 1) of token ids; the query/key vectors of every layer (true) or of the listed ones. */
export interface RunRequest {
  ids: number[];
  withVectors: boolean | number[];
  /** Keep the run in the worker instead of streaming [heads, n, n] maps (long inputs). */
  keep?: KeepRequest;
  /** Encoder–decoder models: the target to score (labels, teacher-forced) or to translate greedily (at most this
   * many tokens). Absent: translate. */
  target?: RunTarget;
}

/** What the calling side gets of one head of a kept layer: what the views and analyses read without a map (the top
 * keys stay in the worker). */
export type HeadOverview = Omit<HeadSummary, 'topKeys' | 'topWeights'>;

/** A kept layer as it streams: its shape and the overview of every query head. */
export interface KeptLayerOverview {
  layer: number;
  length: number;
  /** One per query head. */
  heads: HeadOverview[];
}

/** [start, end) of rows or columns. */
export interface SpanPayload {
  start: number;
  end: number;
}

/** Exact attention of a kept run, recomputed in the worker from its q and k; or one row of its attention rollout
 * (runtime/attention/kept-rollout.ts: head mean, residual 0.5, from `startLayer` up), refused above its time limit. */
export type AttentionQuery =
  | ({ run: number; layer: number; head: number } & (
      | { what: 'value'; query: number; key: number }
      | { what: 'row'; query: number }
      | { what: 'column'; key: number }
      | { what: 'window'; rows: SpanPayload; cols: SpanPayload }
      /** The neuron view of a long run: one query's q (every head), the keys' k, and the query's row lse per head. */
      | { what: 'vectors'; query: number; keys: SpanPayload }
    ))
  | { run: number; what: 'rollout'; query: number; startLayer?: number };

export interface AttentionAnswer {
  /** value: [1] (float64, as exact as the worker has it); row: [length]; column: [length]; window: [rows, cols];
   * rollout: [length] (float64); vectors: [heads], each head's log-sum-exp of the query's visible logits over every
   * key of the run. */
  values: Float64Array | Float32Array;
  /** vectors: [heads, headDim], the query as the softmax sees it (after RoPE, unscaled). */
  q?: Float32Array;
  /** vectors: [kvHeads, keys, headDim]. */
  k?: Float32Array;
}

/** Labels to score (teacher forcing), or a translation of at most `translate` tokens: greedy, or beam search with
 * `beams` > 1 (its maps from a teacher-forced pass on the chosen hypothesis). `steps`: stream each greedy token. */
export type RunTarget =
  | { labels: number[] }
  | {
      translate: number;
      beams?: number;
      steps?: boolean;
      /** Instead of the model's decoder_start_token_id (mBART: the target language's code). */
      decoderStart?: number;
      /** Instead of the generation config's forced_bos_token_id (mBART-50: the target language's code). */
      forcedBos?: number;
    };

/** What a run streams: each layer as its stage returns, and (browser) the move from WebGPU to Wasm mid-run. */
export type RunEvent =
  | {
      type: 'layer';
      /** data: [heads, query, key]. */
      attention: LayerAttention;
      /** [heads, query, headDim] when the run asked for vectors. */
      q?: Float32Array;
      /** [heads, key, headDim]. */
      k?: Float32Array;
    }
  /** The GPU went away; the run completes on Wasm (layers already sent are not sent again), and later runs too. */
  | { type: 'fallback'; reason: string }
  /** A kept run's layer (RunRequest.keep): its overview; the map stays in the worker. */
  | { type: 'kept'; overview: KeptLayerOverview }
  /** Encoder–decoder models, before the decoder and cross layers: the target (given or translated), the
   * log-probability of each of its tokens, and why a translation ended. */
  | { type: 'target'; ids: number[]; logprobs: number[]; end?: 'stop' | 'length'; beams?: number }
  /** Encoder–decoder greedy translations asked with `steps`: each token as its step returns, with its query's rows
   * (per decoder layer: self [heads, index + 1], cross [heads, source length]). */
  | { type: 'targetStep'; step: TargetStepPayload };

export interface TargetStepPayload {
  index: number;
  id: number;
  logprob: number;
  selfRows: Float32Array[];
  crossRows: Float32Array[];
}

export interface RunDone {
  /** [query, hidden]. */
  lastHidden: Float32Array;
  /** Inference time of each stage, in milliseconds. */
  stageMs: number[];
}

/** A continuation of `ids` over the KV cache (runtime/generate/kv-generator.ts), with the model already loaded. */
export interface GenerateRequest {
  /** The prompt (and any earlier output to continue from). */
  ids: number[];
  /** Most tokens to generate. */
  maxNew: number;
  /** Absent or 0: greedy. */
  temperature?: number;
  topP?: number;
  seed?: number;
  /** Tokens that end the output (EOS, end of turn). */
  stopIds: number[];
  /** Each token's attention rows (false: tokens only, e.g. explain --generate). */
  rows: boolean;
}

/** One generated token, as its step returns: per layer its query row over every key up to itself,
 * [heads, position + 1] (empty without rows). */
export interface GeneratedToken {
  /** 0 for the first generated token. */
  index: number;
  id: number;
  /** Its position in prompt + output. */
  position: number;
  rows: Float32Array[];
  /** Set on the last token: a stop token, or maxNew reached. */
  end?: 'stop' | 'length';
}

export interface GenerateDone {
  /** Tokens generated. */
  count: number;
  /** Why it ended ('cancelled' never arrives: a cancelled request fails with CANCELLED). */
  end: 'stop' | 'length';
  /** Milliseconds from the request to the last token (the prefill and building the step graph included). */
  ms: number;
}

export type Empty = Record<string, never>;

/** The requests both inference workers answer; `Load` and `Loaded` are how each obtains its model. */
export interface InferenceCalls<Load, Loaded> {
  load: Call<Load, Loaded, LoadProgressEvent>;
  run: Call<RunRequest, RunDone, RunEvent>;
  /** Continues token ids with the loaded model (KV-cached), streaming each token as its step returns. */
  generate: Call<GenerateRequest, GenerateDone, GeneratedToken>;
  /** Exact values, rows, columns or windows of the kept run (RunRequest.keep), answered outside the run queue. */
  attention: Call<AttentionQuery, AttentionAnswer>;
  /** Stops the run in flight, drops queued ones and releases the sessions. */
  dispose: Call<Empty, Empty>;
}

// ---- the Node worker thread

export interface NodeLoadRequest {
  source: ModelSourceSpec;
  backend: BackendName | 'auto';
  threads: number;
  /** CancelFlags' shared buffer: the calling thread marks cancelled requests there (by request id), read between
   * stages without the worker turning its event loop. */
  cancelFlags?: SharedArrayBuffer;
}

export interface NodeLoaded {
  facts: PlanFacts;
  backend: BackendName;
  threads: number;
  timings: LoadTimings;
  /** Things the user should know about the model that do not stop it (e.g. weights with unused layers). */
  warnings?: string[];
  /** 'auto' ran on Wasm: why native did not load (e.g. no native binary in this package). */
  fallbackReason?: string;
}

/** A batched forward pass (inspector.forward). */
export interface ForwardPayload {
  batch: Batch;
  read: HeadRead;
  attention: boolean;
  norms: boolean | number[];
  mixing?: boolean | 'outputs';
  valueKeep?: Float32Array;
}

export interface ForwardDone {
  rows: number;
  seq: number;
  /** [rows, width]. */
  head: Float32Array;
  width: number;
  /** Per layer [rows, heads, seq, seq]. */
  attention?: Float32Array[];
  /** Per layer [rows, seq, heads, heads] or null where not asked for. */
  grams?: (Float32Array | null)[];
  mixing?: MixingTensors[];
  stageMs: number[];
}

/** What the Node worker answers (it asks nothing and hears no notes). */
export interface NodeWorkerEnd {
  calls: InferenceCalls<NodeLoadRequest, NodeLoaded> & {
    forward: Call<ForwardPayload, ForwardDone>;
    /** Gradients of a target w.r.t. the token embeddings (runtime/grad), in the run queue. */
    gradients: Call<GradientRequest, GradientReply>;
    /** An encoder–decoder's gradients (runtime/grad/seq2seq-gradients.ts), in the run queue. */
    'seq2seq-gradients': Call<Seq2SeqGradientRequest, Seq2SeqGradientReply>;
    /** An encoder–decoder's context mixing (ALTI+, cross value zeroing: seq2seq-mixing-service.ts), in the run queue. */
    'seq2seq-mixing': Call<Seq2SeqMixingRequest, Seq2SeqMixingReply>;
  };
  notes: Record<never, never>;
}
