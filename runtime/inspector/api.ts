// The inspector API: what the extension host, the CLI and benchmarks call to load a model and stream its attention.
// Implementations run inference off the calling thread (a worker), so callers' event loops stay responsive.
import type { BackendName, LayerAttention, ModelFacts, RunTimings, Token } from '../types';

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
}

export interface RunOptions {
  /** Aborting stops the run between layers; iteration then rejects with LensError CANCELLED. */
  signal?: AbortSignal;
  /** Cut inputs longer than the model's positions (or maxTokens) instead of failing with TOO_LONG. */
  truncate?: boolean;
  /** A lower limit than the model's positions. */
  maxTokens?: number;
  /** Also return query and key vectors (for the neuron view): of every layer (true) or of the listed layers.
   * The first request for a layer builds that layer's q/k variant (kept for later runs). */
  withVectors?: boolean | number[];
}

/** A layer of attention, plus its query/key vectors when the run asked for them. */
export interface LayerResult extends LayerAttention {
  /** [heads, query, headDim], after RoPE where the model has it, unscaled. */
  q?: Float32Array;
  /** [heads, key, headDim]. */
  k?: Float32Array;
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
}

export interface Inspector {
  readonly facts: ModelFacts;
  readonly backend: BackendName;
  readonly threads: number;
  /** Milliseconds spent loading (config, weights, graphs, sessions). */
  readonly loadMs: number;
  tokenize(text: string): Token[];
  /** Starts a run on text or on token ids (ids are used as given, no template added). */
  run(input: string | number[], options?: RunOptions): AttentionRun;
  /** Releases the worker and every session. Further calls fail with LensError DISPOSED. */
  dispose(): Promise<void>;
}
