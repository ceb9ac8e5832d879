// What the in-browser inference worker (webview/inference/worker.ts → dist/webview-inference.js) answers to the page
// that started it (the panel's webview, or a test page). Run and dispose are the Node worker's
// (runtime/inspector/worker-protocol.ts: InferenceCalls), so both inference paths stream alike; loading differs: the
// page fetches the model's files and onnxruntime's .wasm and moves the bytes (no copies); and a test request destroys
// the GPU device.
import type { Call } from '../../runtime/channel/channel';
import type { PlanFacts } from '../../runtime/models/plan';
import type { WeightFile } from '../../runtime/formats/weight-bytes';
import type { Empty, InferenceCalls } from '../../runtime/inspector/worker-protocol';

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
  /** model.safetensors or pytorch_model.bin, or the shards named by the index. */
  weights: WeightFile[];
  /** The text of model.safetensors.index.json (or pytorch_model.bin.index.json) for sharded weights. */
  index?: string;
}

export interface WebLoadRequest {
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

export interface WebLoaded {
  facts: PlanFacts;
  backend: WebBackend;
  /** Why this backend runs (and why the other one does not), for the status bar. */
  note: string;
  /** The adapter, e.g. "google swiftshader" (when WebGPU runs). */
  adapter?: string;
  timings: { readMs: number; planMs: number; sessionsMs: number };
}

/** Tests: destroy the WebGPU device, as a GPU reset or a lost adapter would — now, or in the next run right after
 * layer `afterLayer` has been sent. */
export interface LoseDeviceRequest {
  afterLayer?: number;
}

/** What the in-browser worker answers. */
export interface WebWorkerEnd {
  calls: InferenceCalls<WebLoadRequest, WebLoaded> & { loseDevice: Call<LoseDeviceRequest, Empty> };
  notes: Record<never, never>;
}
