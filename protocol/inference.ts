// The panel's second channel: in-webview inference (backend webgpu, or auto with a GPU). The host asks the webview to
// probe for a WebGPU adapter, to load a model from URLs it serves (asWebviewUri of the model folder and of dist/),
// and to run token ids; the webview answers with the load's outcome and streams every layer back as an ArrayBuffer,
// so the host holds the same run data (hover, export, analysis) whichever side computed it. Every message type starts
// with 'infer' and is routed before the panel protocol (messages.ts); both sides validate what they receive here.
import type { LensErrorCode } from '../runtime/errors';
import type { PlanFacts } from '../runtime/models/plan';
import type { AttentionKind } from '../runtime/types';

export type WebviewBackend = 'webgpu' | 'wasm';

// ---------------------------------------------------------------------------------------------------------------
// Host -> webview

/** Is there a WebGPU adapter? (Answered from the page itself: nothing is fetched.) */
export interface InferProbeMessage {
  type: 'inferProbe';
  probeId: number;
}

export interface InferLoadMessage {
  type: 'inferLoad';
  loadId: number;
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

export interface InferRunMessage {
  type: 'inferRun';
  runId: number;
  ids: number[];
  withVectors: boolean | number[];
}

export interface InferCancelMessage {
  type: 'inferCancel';
  runId: number;
}

export interface InferDisposeMessage {
  type: 'inferDispose';
}

/** Tests: destroy the GPU device now, or after layer `afterLayer` of the next run. */
export interface InferLoseDeviceMessage {
  type: 'inferLoseDevice';
  afterLayer?: number;
}

export type InferHostMessage =
  | InferProbeMessage
  | InferLoadMessage
  | InferRunMessage
  | InferCancelMessage
  | InferDisposeMessage
  | InferLoseDeviceMessage;

// ---------------------------------------------------------------------------------------------------------------
// Webview -> host

export interface InferProbedMessage {
  type: 'inferProbed';
  probeId: number;
  /** The adapter's name, or null with the reason there is none. */
  adapter: string | null;
  reason?: string;
}

export interface InferProgressMessage {
  type: 'inferProgress';
  loadId: number;
  phase: string;
  fraction?: number;
}

export interface InferLoadedMessage {
  type: 'inferLoaded';
  loadId: number;
  facts: PlanFacts;
  backend: WebviewBackend;
  /** Why this backend runs (and why not the other), for the status bar. */
  note: string;
  adapter?: string;
}

export interface InferLoadFailedMessage {
  type: 'inferLoadFailed';
  loadId: number;
  code: LensErrorCode;
  message: string;
}

/** One layer, float32 [heads, queryLength, keyLength] in `data`; q/k [heads, length, headDim] when asked for. */
export interface InferLayerMessage {
  type: 'inferLayer';
  runId: number;
  layer: number;
  kind: AttentionKind;
  heads: number;
  queryLength: number;
  keyLength: number;
  data: ArrayBuffer;
  q?: ArrayBuffer;
  k?: ArrayBuffer;
}

export interface InferDoneMessage {
  type: 'inferDone';
  runId: number;
  /** float32 [query, hidden]. */
  lastHidden: ArrayBuffer;
  stageMs: number[];
}

export interface InferFailedMessage {
  type: 'inferFailed';
  runId: number;
  code: LensErrorCode;
  message: string;
}

/** The GPU went away; the webview now runs the model on Wasm (the interrupted run, if any, completes there). */
export interface InferFallbackMessage {
  type: 'inferFallback';
  runId?: number;
  reason: string;
}

/** The inference worker ended (disposed, or crashed: `reason`). */
export interface InferEndedMessage {
  type: 'inferEnded';
  reason?: string;
}

export type InferWebviewMessage =
  | InferProbedMessage
  | InferProgressMessage
  | InferLoadedMessage
  | InferLoadFailedMessage
  | InferLayerMessage
  | InferDoneMessage
  | InferFailedMessage
  | InferFallbackMessage
  | InferEndedMessage;

/** True for a message of this channel (its type starts with 'infer'); it is then validated here, not by messages.ts. */
export function isInferMessage(raw: unknown): raw is { type: string } {
  return (
    typeof raw === 'object' &&
    raw !== null &&
    typeof (raw as { type?: unknown }).type === 'string' &&
    (raw as { type: string }).type.startsWith('infer')
  );
}
