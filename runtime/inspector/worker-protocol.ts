// The messages between the inspector (calling thread) and its inference worker. Kept in one place so both sides
// agree on every field; only structured-cloneable data crosses (typed arrays travel in transfer lists).
import type { BackendName, LayerAttention } from '../types';
import type { LensErrorCode } from '../errors';
import type { Batch, PlanFacts } from '../models/plan';
import type { HeadRead } from './api';
import type { OnnxLayout } from '../onnx/layout';

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

/** Where the worker gets a model: a Hugging Face folder, an ONNX export, or a synthetic BERT built in the worker. */
export type ModelSourceSpec = { dir: string } | { gguf: string } | { onnx: OnnxLayout } | { synthetic: SyntheticSpec };

/** A LensError flattened for the thread boundary (Error objects lose their class and fields when cloned). */
export interface WireError {
  code: LensErrorCode;
  message: string;
}

export interface LoadTimings {
  /** Reading config and weights (or generating synthetic ones). */
  readMs: number;
  /** Building the stage graphs. */
  planMs: number;
  /** Creating one session per stage. */
  sessionsMs: number;
}

// ---- calling thread -> worker

export interface LoadRequest {
  type: 'load';
  source: ModelSourceSpec;
  backend: BackendName | 'auto';
  threads: number;
  /** CancelFlags' shared buffer: the calling thread marks cancelled runs there, read between stages. */
  cancelFlags?: SharedArrayBuffer;
}

export interface RunRequest {
  type: 'run';
  runId: number;
  /** Token ids of one sequence (batch 1). */
  ids: number[];
  withVectors: boolean | number[];
}

/** A batched forward pass (inspector.forward); cancelled with a CancelRequest of the same runId. */
export interface ForwardRequestMessage {
  type: 'forward';
  runId: number;
  batch: Batch;
  read: HeadRead;
  attention: boolean;
  norms: boolean | number[];
}

export interface CancelRequest {
  type: 'cancel';
  runId: number;
}

export interface DisposeRequest {
  type: 'dispose';
}

export type ToWorker = LoadRequest | RunRequest | ForwardRequestMessage | CancelRequest | DisposeRequest;

// ---- worker -> calling thread

export interface ProgressMessage {
  type: 'progress';
  phase: string;
  fraction?: number;
}

export interface LoadedMessage {
  type: 'loaded';
  facts: PlanFacts;
  backend: BackendName;
  threads: number;
  timings: LoadTimings;
  /** Things the user should know about the model that do not stop it (e.g. weights with unused layers). */
  warnings?: string[];
}

export interface LoadFailedMessage {
  type: 'load-failed';
  error: WireError;
}

export interface LayerMessage {
  type: 'layer';
  runId: number;
  /** data: [heads, query, key]. */
  attention: LayerAttention;
  /** [heads, query, headDim] when the run asked for vectors. */
  q?: Float32Array;
  /** [heads, key, headDim]. */
  k?: Float32Array;
}

export interface DoneMessage {
  type: 'done';
  runId: number;
  /** [query, hidden]. */
  lastHidden: Float32Array;
  /** Embeddings, layer 0 .. L-1, head. */
  stageMs: number[];
}

export interface ForwardDoneMessage {
  type: 'forward-done';
  runId: number;
  rows: number;
  seq: number;
  /** [rows, width]. */
  head: Float32Array;
  width: number;
  /** Per layer [rows, heads, seq, seq]. */
  attention?: Float32Array[];
  /** Per layer [rows, seq, heads, heads] or null where not asked for. */
  grams?: (Float32Array | null)[];
  stageMs: number[];
}

/** A run or a forward pass failed (or was cancelled). */
export interface RunFailedMessage {
  type: 'run-failed';
  runId: number;
  error: WireError;
}

export interface DisposedMessage {
  type: 'disposed';
}

export type FromWorker =
  | ProgressMessage
  | LoadedMessage
  | LoadFailedMessage
  | LayerMessage
  | DoneMessage
  | ForwardDoneMessage
  | RunFailedMessage
  | DisposedMessage;
