// The messages between a page (the panel's webview, or a test page) and its in-browser inference worker
// (webview/inference/worker.ts → dist/webview-inference.js). Run, cancel, layer, done, failure and progress messages
// are the Node worker's (runtime/inspector/worker-protocol.ts, types only), so both inference paths stream alike;
// loading differs: the page fetches the model's files and onnxruntime's .wasm and transfers the bytes (no copies).
import type { PlanFacts } from '../../runtime/models/plan';
import type { WeightFile } from '../../runtime/formats/safetensors-bytes';
import type {
  CancelRequest,
  DisposeRequest,
  DisposedMessage,
  DoneMessage,
  LayerMessage,
  ProgressMessage,
  RunFailedMessage,
  RunRequest,
  WireError,
} from '../../runtime/inspector/worker-protocol';

export type {
  CancelRequest,
  DisposeRequest,
  DisposedMessage,
  DoneMessage,
  LayerMessage,
  ProgressMessage,
  RunFailedMessage,
  RunRequest,
  WireError,
};

/** What the page asks for. 'webgpu' = the GPU where an adapter is there and the model fits its limits. */
export type WebBackend = 'webgpu' | 'wasm';

/** WebGPU limits the fit check reads (a subset of GPUSupportedLimits). */
export interface GpuLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

/** The model as the page fetched it. */
export interface ModelBytes {
  /** The text of config.json. */
  config: string;
  /** model.safetensors, or the shards named by the index. */
  weights: WeightFile[];
  /** The text of model.safetensors.index.json for sharded weights. */
  index?: string;
}

export interface WebLoadRequest {
  type: 'load';
  model: ModelBytes;
  /** ort-wasm-simd-threaded.asyncify.wasm. */
  wasmBinary: ArrayBuffer;
  backend: WebBackend;
  /** With backend 'webgpu': what to do when there is no usable GPU — run on Wasm here ('wasm'), or fail the load
   * with BACKEND_UNAVAILABLE and the reason ('fail'), so that the caller can run the model elsewhere. */
  fallback: 'wasm' | 'fail';
  /** Longest input the caller will run (sizes the fit check of the attention and logits buffers). */
  maxTokens: number;
  /** Tests: pretend the adapter has these limits. */
  limits?: Partial<GpuLimits>;
}

/** Tests: destroy the WebGPU device, as a GPU reset or a lost adapter would — now, or in the next run right after
 * layer `afterLayer` has been posted. */
export interface LoseDeviceRequest {
  type: 'lose-device';
  afterLayer?: number;
}

export type ToInference = WebLoadRequest | RunRequest | CancelRequest | DisposeRequest | LoseDeviceRequest;

export interface WebLoadedMessage {
  type: 'loaded';
  facts: PlanFacts;
  backend: WebBackend;
  /** Why this backend runs (and why the other one does not), for the status bar. */
  note: string;
  /** The adapter, e.g. "google swiftshader" (when WebGPU runs). */
  adapter?: string;
  timings: { readMs: number; planMs: number; sessionsMs: number };
}

export interface WebLoadFailedMessage {
  type: 'load-failed';
  error: WireError;
}

/** The worker moved from WebGPU to Wasm (device lost, a run failed on the GPU); later runs stay on Wasm. */
export interface FallbackMessage {
  type: 'fallback';
  /** The run that was interrupted (and is completed on Wasm), if any. */
  runId?: number;
  from: 'webgpu';
  to: 'wasm';
  reason: string;
}

export type FromInference =
  | ProgressMessage
  | WebLoadedMessage
  | WebLoadFailedMessage
  | LayerMessage
  | DoneMessage
  | RunFailedMessage
  | DisposedMessage
  | FallbackMessage;
