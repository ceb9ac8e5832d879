// How much memory a model will take in this design, before it is loaded, and a refusal with the estimate and what
// to do when it will not fit. In this design every weight is held as float32 inside the onnxruntime sessions,
// whatever the file stores (a Q4_K_M GGUF of 8B parameters is ~4.9 GB on disk and ~32 GB held; grouped-query k/v
// projections once per key/value head, repeated per query head in the graph), and tied embeddings are held twice (the embedding in the
// first layer's graph, the LM head in the head's); while loading, one stage's serialized graph exists beside the
// sessions. A run then keeps every layer's attention [heads, S, S] (or, above 1 GiB of maps, what a kept run holds)
// and one layer's activations.
import { KEPT_ABOVE_BYTES, KEPT_TOP_K } from '../inspector/long-runs';
import { LensError } from '../errors';
import type { ModelConfig } from '../formats/config-normalise';

export interface MemoryEstimate {
  /** Float32 weights as the sessions hold them. */
  weightsBytes: number;
  /** Largest single stage graph while loading, activations and attention maps of a run of `tokens`. */
  runtimeBytes: number;
  totalBytes: number;
  tokens: number;
}

/** Node, onnxruntime and the worker before any model (measured ~150–250 MB; the larger figure). */
const BASE_BYTES = 250e6;

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
  // Every layer's [H,S,S] kept for the run (twice: worker and caller) — or, for a run kept for long inputs
  // (runtime/inspector/long-runs.ts), per layer q and k, each row's lse and summaries, and the layer graph's scores
  // for one block of S/16 query rows instead of all S.
  const maps = config.layers * config.heads * S * S * 4;
  const long = maps > KEPT_ABOVE_BYTES;
  const headDim = config.headDim ?? config.hidden / config.heads;
  const attention = long
    ? config.layers * ((config.heads + config.kvHeads) * S * headDim * 4 + config.heads * S * (16 + KEPT_TOP_K * 8))
    : 2 * maps;
  const scoreRows = long ? Math.ceil(S / 16) : S;
  const activations = (6 * config.hidden + 3 * config.intermediate) * S * 4 + 3 * config.heads * scoreRows * S * 4;
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
