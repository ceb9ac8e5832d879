// The panel's in-webview inference (backend webgpu, or auto with a GPU), as requests the host makes of the webview
// over the panel's channel (panel-channel.ts): probe for a WebGPU adapter, load a model from URLs the host serves
// (asWebviewUri of the model folder and of dist/), run token ids — streaming every layer back as an ArrayBuffer, so the
// host holds the same run data (hover, export, analysis) whichever side computed it — continue ids (Continue: each
// generated token with its rows, as the Node worker's `generate`), dispose, and (tests) lose the GPU device. The webview relays them to its inference worker (webview/inference/bridge.ts); both sides check what they
// receive (inference-validate.ts). Names start with 'infer' so they never collide with the panel's own.
import type { Call } from '../runtime/channel/types';
import type { PlanFacts } from '../runtime/models/plan';
import type { LayerMessage } from './messages';

export type WebviewBackend = 'webgpu' | 'wasm';

export type Empty = Record<string, never>;

/** Is there a WebGPU adapter? (Answered from the page itself: nothing is fetched.) The adapter's name, or null with
 * the reason there is none. */
export interface InferProbed {
  adapter: string | null;
  reason?: string;
}

export interface InferLoadRequest {
  /** asWebviewUri of the model folder (config.json, model.safetensors or its shards). */
  modelBase: string;
  /** asWebviewUri of dist/webview-inference.js and of onnxruntime's .wasm. */
  workerUrl: string;
  wasmUrl: string;
  backend: WebviewBackend;
  /** Without a usable GPU: Wasm in the webview, or fail (BACKEND_UNAVAILABLE) so the host runs the model. */
  fallback: 'wasm' | 'fail';
  maxTokens: number;
}

export interface InferProgress {
  phase: string;
  fraction?: number;
}

export interface InferLoaded {
  facts: PlanFacts;
  backend: WebviewBackend;
  /** Why this backend runs (and why not the other), for the status bar. */
  note: string;
  adapter?: string;
}

export interface InferRunRequest {
  ids: number[];
  withVectors: boolean | number[];
}

/** What a run streams: each layer, float32 [heads, queryLength, keyLength] in `data` (q/k [heads, length, headDim]
 * when asked for); and the move from WebGPU to Wasm when the GPU went away (the run completes on Wasm). */
export type InferRunEvent =
  (Omit<LayerMessage, 'runId'> & { q?: ArrayBuffer; k?: ArrayBuffer }) | { type: 'fallback'; reason: string };

export interface InferRunDone {
  /** float32 [query, hidden]. */
  lastHidden: ArrayBuffer;
  stageMs: number[];
}

/** A continuation of `ids` by the panel's model (its worker's `generate`: runtime/inspector/served-generator.ts), so
 * Continue runs where the run ran. */
export interface InferGenerateRequest {
  ids: number[];
  maxNew: number;
  /** Absent or 0: greedy. */
  temperature?: number;
  topP?: number;
  seed?: number;
  /** Tokens that end the output (EOS, end of turn). */
  stopIds: number[];
  /** Each token's attention rows (false: tokens only). */
  rows: boolean;
}

/** One generated token as its step returns: per layer its query row float32 [heads, position + 1] (none without
 * rows). */
export interface InferGeneratedToken {
  index: number;
  id: number;
  position: number;
  rows: ArrayBuffer[];
  end?: 'stop' | 'length';
}

export interface InferGenerateDone {
  count: number;
  end: 'stop' | 'length';
  ms: number;
}

/** What the webview answers. */
export interface InferenceCalls {
  inferProbe: Call<Empty, InferProbed>;
  inferLoad: Call<InferLoadRequest, InferLoaded, InferProgress>;
  inferRun: Call<InferRunRequest, InferRunDone, InferRunEvent>;
  inferGenerate: Call<InferGenerateRequest, InferGenerateDone, InferGeneratedToken>;
  /** Ends the webview's inference worker (after it released its sessions). */
  inferDispose: Call<Empty, Empty>;
  /** Tests: destroy the GPU device now, or after layer `afterLayer` of the next run. */
  inferLoseDevice: Call<{ afterLayer?: number }, Empty>;
}

/** What the host hears without asking: the webview's inference worker crashed after it loaded. */
export interface InferenceNotes {
  inferEnded: { reason: string };
}
