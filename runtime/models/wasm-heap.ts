// The Wasm backend's one limit that the machine's memory does not set: onnxruntime-web runs in one WebAssembly heap
// per process (wasm32: at most 4 GiB), which holds every session's weights and the running layer's tensors, while a
// run's results (maps, or what a kept run holds) are copied out to JS. A run that would pass it fails deep inside
// onnxruntime with an allocation error after minutes of work; this estimate refuses it before the first stage, in
// one line, with the longest input that fits. Terms (bytes): the sessions' serialized graphs (their weights), the
// layers' second variant a run creates (the summaries variant for a kept run), the running layer at its largest
// (memory-estimate.ts keptRunMemory for a kept run; three [heads, n, n] float32 — scores, probabilities, the map
// output — and the n × n additive mask for a run that returns its maps, plus the maps of the stage's earlier layers,
// which are its outputs too) and onnxruntime's own share.
import { LensError } from '../errors';
import { keptRunMemory } from './memory-estimate';

/** The heap's size: wasm32 addresses 4 GiB, onnxruntime-web's maximum. */
export const WASM_HEAP_BYTES = 2 ** 32;

/** onnxruntime-web's own share of the heap beside weights and tensors (measured 216 MiB for SmolLM2 kept at 512
 * tokens: the heap at 1,260 MiB against 1,026 MiB of graphs — two variants of 538 MB — and 18 MiB of the layer's
 * tensors; bench/long-memory.ts). */
export const WASM_OWN_BYTES = 256 * 2 ** 20;

export interface HeapShape {
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  hidden: number;
  /** Layers a stage computes at most (family.ts layerGroups; default 1): a run that returns its maps holds the
   * stage's earlier layers' maps as outputs while its last layer runs. */
  stageLayers?: number;
}

/** The running layer's tensors at their largest in a run of `n` tokens (the feed-forward taken as 4 × hidden). */
export function layerPeakBytes(shape: HeapShape, n: number, kept: boolean): number {
  if (kept) return keptRunMemory({ ...shape, intermediate: 4 * shape.hidden }, n).transientBytes;
  const ffn = (3 * 4 * shape.hidden + 6 * shape.hidden) * n * 4;
  const earlierMaps = ((shape.stageLayers ?? 1) - 1) * shape.heads * n * n * 4; // [heads, n, n] outputs held
  return Math.max(3 * shape.heads * n * n * 4 + n * n * 4, ffn) + earlierMaps;
}

export interface HeapNeed {
  /** The sessions' graphs, the second variant included. */
  graphBytes: number;
  layerBytes: number;
  totalBytes: number;
}

export function heapNeed(shape: HeapShape, graphBytes: number, n: number, kept: boolean): HeapNeed {
  const layerBytes = layerPeakBytes(shape, n, kept);
  return { graphBytes, layerBytes, totalBytes: graphBytes + layerBytes + WASM_OWN_BYTES };
}

/** The longest input (≤ `limit`) whose run fits the heap, or 0 when none does. */
export function wasmReach(shape: HeapShape, graphBytes: number, kept: boolean, limit: number): number {
  const fits = (n: number) => heapNeed(shape, graphBytes, n, kept).totalBytes <= WASM_HEAP_BYTES;
  if (!fits(1)) return 0;
  let lo = 1;
  let hi = limit;
  if (fits(hi)) return hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

const gb = (b: number) => (b >= 1e9 ? `${(b / 1e9).toFixed(1)} GB` : `${Math.round(b / 1e6)} MB`);

/** Refuses (TOO_LONG) a Wasm run of `n` tokens that would pass the heap, saying the length it reaches. */
export function checkWasmHeap(shape: HeapShape, graphBytes: number, n: number, kept: boolean, limit: number): void {
  const need = heapNeed(shape, graphBytes, n, kept);
  if (need.totalBytes <= WASM_HEAP_BYTES) return;
  const reach = wasmReach(shape, graphBytes, kept, limit);
  const what = kept ? 'a run kept for long inputs' : 'a run that returns every map';
  const instead = kept
    ? 'or use the native backend'
    : 'or keep the run for long inputs (long: auto or kept), or use the native backend';
  throw new LensError(
    'TOO_LONG',
    `On the Wasm backend ${what} of ${n} tokens needs about ${gb(need.totalBytes)} of its 4 GiB heap (the model's graphs ${gb(need.graphBytes)}, the running layer ${gb(need.layerBytes)}); ` +
      (reach > 0
        ? `it reaches ${reach} tokens there: select at most ${reach} tokens, ${instead}.`
        : `this model does not fit there at any length: use the native backend.`),
  );
}
