// How much memory a model will take in this design, before it is loaded, and a refusal with the estimate and what
// to do when it will not fit. In this design every weight is held as float32 inside the onnxruntime sessions,
// whatever the file stores (a Q4_K_M GGUF of 8B parameters is ~4.9 GB on disk and ~32 GB held; grouped-query k/v
// projections once per key/value head, repeated per query head in the graph), and tied embeddings are held twice (the embedding in the
// first layer's graph, the LM head in the head's); while loading, one stage's serialized graph exists beside the
// sessions. A run then keeps every layer's attention [heads, S, S] and one layer's activations; above 1 GiB of maps a
// run is kept (keptRunMemory: q, k, lse, summaries, overview, and one layer's blocked graph at its largest), and
// its layers' summaries variant holds their weights a second time.
import { KEPT_ABOVE_BYTES, KEPT_TOP_K } from '../inspector/long-runs';
import { LensError } from '../errors';
import type { ModelConfig } from '../formats/config-normalise';
import { POOL, queryRows } from './attention-summaries';

export interface MemoryEstimate {
  /** Float32 weights as the sessions hold them. */
  weightsBytes: number;
  /** Largest single stage graph while loading, activations and attention maps of a run of `tokens` (a kept run:
   * what it holds, one layer's blocked graph and the layers' weights again in their summaries variant). */
  runtimeBytes: number;
  totalBytes: number;
  tokens: number;
}

/** Node, onnxruntime and the worker before any model (measured ~150–250 MB; the larger figure). */
const BASE_BYTES = 250e6;

/** What a run kept for long inputs allocates for attention at `n` tokens (runtime/models/attention-summaries.ts
 * `blockedAttention`, runtime/attention/kept-run.ts), bytes. */
export interface KeptRunMemory {
  /** Rows of each query block (queryRows: 64 unless a block's scores would pass 128 MiB). */
  rows: number;
  /** Held by the run for every layer: q and k in float32 (k once per key/value head), each row's log-sum-exp in
   * float64, the summaries (entropy, special mass, top-k keys and weights) and the overview (block max and mean). */
  heldBytes: number;
  /** One block's scores [heads, rows, n] float32: the largest tensor the layer's Loop body makes. */
  blockBytes: number;
  /** Alive while one layer runs, at its largest (the layer graph's own tensors, freed after it). */
  transientBytes: number;
}

/**
 * The memory of a kept run of `n` tokens. One layer runs at a time; its largest moment is the Loop: four block
 * tensors [heads, rows, n] alive in the body (scores, masked logits z, probabilities p, p·z), the block's keys and
 * values sliced and transposed [heads, n, headDim] (k repeated per query head, v with the two summary columns), the
 * additive mask of the block [rows, n] (its i − j int64 and the float), beside the outer graph's q, k, v and v with
 * its columns [heads, n, headDim (+2)], and the scan outputs the Loop gathers per row — context (headDim + 2), top-k
 * weights and keys, entropy, previous weight, the row's overview max and mean (ceil(n / POOL) cells each) — which
 * exist three times at the end (each iteration's, their concatenation, the rows transposed and sliced); then the
 * feed-forward's three [n, intermediate] and six [n, hidden]. The block's keys and values are counted per query head,
 * as measured; the Loop now slices them once per key/value head, so that term over-counts grouped-query models.
 */
export function keptRunMemory(
  config: Pick<ModelConfig, 'layers' | 'heads' | 'kvHeads' | 'hidden' | 'intermediate' | 'headDim'>,
  n: number,
  topK: number = KEPT_TOP_K,
): KeptRunMemory {
  const H = config.heads;
  const D = config.headDim ?? config.hidden / config.heads;
  const R = queryRows(n, H);
  const cells = Math.ceil(n / POOL);
  const rowsAll = Math.ceil(n / R) * R;
  const perLayer = n * (4 * H * D + 4 * config.kvHeads * D + 8 * H + H * (8 + 8 * topK)) + 2 * H * cells * cells * 4;
  const blockBytes = H * R * n * 4;
  const body = 4 * blockBytes + 2 * H * n * D * 4 + H * n * (D + 2) * 4 + R * n * 12;
  const outer = 3 * H * n * D * 4 + H * n * (D + 2) * 4;
  const scans = 3 * H * rowsAll * (D + 2 + 2 * topK + 2 + 2 * cells) * 4;
  const ffn = (3 * config.intermediate + 6 * config.hidden) * n * 4;
  return {
    rows: R,
    heldBytes: config.layers * perLayer,
    blockBytes,
    transientBytes: Math.max(body + outer + scans, ffn),
  };
}

/** The estimate for a family model from its config and the shapes of the tensors it will use. */
export function estimateFamilyMemory(
  config: ModelConfig,
  tensors: Iterable<{ name: string; shape: number[] }>,
  tokens: number,
): MemoryEstimate {
  let weights = 0;
  let largestLayer = 0;
  const perLayer = new Map<string, number>();
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const bytes = n * 4;
    weights += bytes;
    const layer = /layers?\.(\d+)\./.exec(t.name)?.[1];
    if (layer !== undefined) perLayer.set(layer, (perLayer.get(layer) ?? 0) + bytes);
  }
  for (const b of perLayer.values()) largestLayer = Math.max(largestLayer, b);
  const embedding = config.vocabSize * config.hidden * 4;
  if (config.tieWordEmbeddings && config.family !== 'bert') weights += embedding;
  const S = tokens;
  // Every layer's [H,S,S] kept for the run (twice: worker and caller) and one layer's activations with its [H,S,S]
  // scores — or, for a run kept for long inputs (runtime/inspector/long-runs.ts), what keptRunMemory counts, and the
  // layers' weights a second time (the summaries variant's sessions beside the plain ones).
  const maps = config.layers * config.heads * S * S * 4;
  const long = maps > KEPT_ABOVE_BYTES;
  let attention: number;
  let activations: number;
  if (long) {
    const kept = keptRunMemory(config, S);
    attention = kept.heldBytes;
    activations = kept.transientBytes;
    for (const b of perLayer.values()) activations += b;
  } else {
    attention = 2 * maps;
    activations = (6 * config.hidden + 3 * config.intermediate) * S * 4 + 3 * config.heads * S * S * 4;
  }
  const runtime = BASE_BYTES + Math.max(largestLayer, embedding) + attention + activations;
  return { weightsBytes: weights, runtimeBytes: runtime, totalBytes: weights + runtime, tokens };
}

/** An ONNX export: its weights held as stored (float32 exports) plus the run. */
export function estimateOnnxMemory(fileBytes: number, tokens: number): MemoryEstimate {
  return {
    weightsBytes: fileBytes,
    runtimeBytes: BASE_BYTES + fileBytes * 0.1,
    totalBytes: fileBytes * 1.1 + BASE_BYTES,
    tokens,
  };
}

const gb = (b: number) => (b >= 1e9 ? `${(b / 1e9).toFixed(1)} GB` : `${Math.round(b / 1e6)} MB`);

/** Fails with one line (the estimate, what is available, what to do) when the model will not fit. */
export function checkFits(estimate: MemoryEstimate, availableBytes: number, name: string): void {
  if (estimate.totalBytes <= availableBytes) return;
  throw new LensError(
    'MODEL_TOO_LARGE',
    `${name} needs about ${gb(estimate.totalBytes)} of memory here (its weights held as float32: ${gb(estimate.weightsBytes)}; ` +
      `the run at ${estimate.tokens} tokens: ${gb(estimate.runtimeBytes)}), but ${gb(availableBytes)} is available — ` +
      'close other programs, or pick a smaller model (Attention Lens holds every weight as float32, so a model of N ' +
      'billion parameters needs about 4·N GB whatever its quantisation).',
  );
}

/**
 * The largest single tensor of a kept run's layer graph at `n` tokens, by shape (float32): WebGPU binds each buffer
 * under the adapter's maxStorageBufferBindingSize (128 MiB by the spec's default), so this is the length a kept run
 * could reach there. Candidates: one block's scores [heads, rows, n]; the Loop's gathered overview rows [heads,
 * blocks·rows, ceil(n / POOL)] (max and mean, each its own tensor), which grow as n²/64 and pass the block first; the
 * gathered context [heads, blocks·rows, headDim + 2]; the keys transposed [heads, headDim, n]; the feed-forward
 * [n, intermediate]. Weights do not grow with n (webview/inference/gpu.ts largestBuffer counts them).
 */
export function keptLargestBuffer(
  config: Pick<ModelConfig, 'heads' | 'hidden' | 'intermediate' | 'headDim'>,
  n: number,
): { bytes: number; what: string } {
  const H = config.heads;
  const D = config.headDim ?? config.hidden / config.heads;
  const R = queryRows(n, H);
  const rowsAll = Math.ceil(n / R) * R;
  const candidates: [number, string][] = [
    [H * R * n * 4, `one block's scores [${H}, ${R}, ${n}]`],
    [H * rowsAll * Math.ceil(n / POOL) * 4, `the gathered overview rows [${H}, ${rowsAll}, ${Math.ceil(n / POOL)}]`],
    [H * rowsAll * (D + 2) * 4, `the gathered context [${H}, ${rowsAll}, ${D + 2}]`],
    [H * D * n * 4, `the keys [${H}, ${D}, ${n}]`],
    [n * config.intermediate * 4, `the feed-forward [${n}, ${config.intermediate}]`],
  ];
  const [bytes, what] = candidates.reduce((a, b) => (b[0] > a[0] ? b : a));
  return { bytes, what };
}

/** The longest input (≤ `limit`) whose kept run's every tensor fits `bindingBytes` (keptLargestBuffer). */
export function keptReachOnGpu(
  config: Pick<ModelConfig, 'heads' | 'hidden' | 'intermediate' | 'headDim'>,
  bindingBytes: number,
  limit: number,
): number {
  let n = 0;
  // The largest buffer grows with n (rows per block only shrink where a block would pass 128 MiB itself).
  for (let step = 2 ** 20; step >= 1; step >>= 1)
    if (n + step <= limit && keptLargestBuffer(config, n + step).bytes <= bindingBytes) n += step;
  return n;
}
