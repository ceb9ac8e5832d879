// The per-head summaries of a layer's attention computed inside its graph, so that a long run fetches O(n) values
// per head instead of the [heads, n, n] map (which then never leaves onnxruntime): per query the top-k keys and
// weights, the entropy, the weight on special keys, the mean key position and the previous token's weight; per head
// an overview of the map, its max and mean over blocks of POOL × POOL entries (MaxPool / AveragePool, ceil mode, so
// a single strong cell is not averaged away). Inputs it adds: top_k int64 [1] (k, at most the length) and
// special_keys float32 [S] (1 at special positions, 0 elsewhere). See runtime/attention/kept-run.ts for their use.
import { A, type GraphBuilder } from './graph-builder';

/** Entries a side of one overview block. 64 keeps SmolLM2's overviews at 8,192 tokens to 35 MB (128² per head). */
export const POOL = 64;

export interface SummaryNames {
  topWeights: string;
  topKeys: string;
  entropy: string;
  special: string;
  keyMean: string;
  previous: string;
  blockMax: string;
  blockMean: string;
}

/** The output names of layer l's summaries (suffixed like layerOutputs' names in a stage of several layers). */
export function summaryNames(suffix: string): SummaryNames {
  return {
    topWeights: `top_weights${suffix}`,
    topKeys: `top_keys${suffix}`,
    entropy: `entropy${suffix}`,
    special: `special_mass${suffix}`,
    keyMean: `key_mean${suffix}`,
    previous: `previous_weight${suffix}`,
    blockMax: `block_max${suffix}`,
    blockMean: `block_mean${suffix}`,
  };
}

export const SUMMARY_INPUTS = ['top_k', 'special_keys'] as const;

/** Adds the summaries of `probs` [B,H,S,S] as graph outputs named by `names`. */
export function addSummaryOutputs(g: GraphBuilder, probs: string, heads: number, names: SummaryNames): void {
  const topK = g.hasTensor('top_k') ? 'top_k' : g.input('top_k', 'int64', [1]);
  const special = g.hasTensor('special_keys') ? 'special_keys' : g.input('special_keys', 'float32', ['seq']);
  const [values, indices] = g.opN('TopK', [probs, topK], 2, { axis: A.int(-1), largest: A.int(1), sorted: A.int(1) });
  g.output(values, names.topWeights, 'float32', ['batch', heads, 'seq', 'k']); // [B,H,S,K]
  // Key positions as float32 (exact below 2^24): the session API reads float32 outputs only.
  g.output(g.op('Cast', [indices], { to: A.int(1) }), names.topKeys, 'float32', ['batch', heads, 'seq', 'k']); // [B,H,S,K]

  // −Σ p ln p; ln of max(p, 1e-30) so that p = 0 adds 0.
  const logp = g.op('Log', [g.op('Max', [probs, g.constF([1e-30], [], 'tiny')])]); // [B,H,S,S]
  const ent = g.op('Neg', [g.op('ReduceSum', [g.op('Mul', [probs, logp]), g.constI64([-1])], { keepdims: A.int(1) })]);
  g.output(ent, names.entropy, 'float32', ['batch', heads, 'seq', 1]); // [B,H,S,1]

  const col = g.op('Unsqueeze', [special, g.constI64([1])]); // [S,1]
  g.output(g.op('MatMul', [probs, col]), names.special, 'float32', ['batch', heads, 'seq', 1]); // [B,H,S,1]

  // Positions 0..S-1 from the map's shape.
  const shape = g.op('Shape', [probs]); // [4]
  const S = g.op('Gather', [shape, g.constI64([3], [])], { axis: A.int(0) }); // scalar
  const positions = g.op('Range', [g.constI64([0], []), S, g.constI64([1], [])]); // [S]
  const keyPos = g.op('Unsqueeze', [g.op('Cast', [positions], { to: A.int(1) }), g.constI64([1])]); // [S,1] float
  g.output(g.op('MatMul', [probs, keyPos]), names.keyMean, 'float32', ['batch', heads, 'seq', 1]); // [B,H,S,1]

  // p[i, max(i − 1, 0)] per row (row 0 reads its own weight; the reader ignores it).
  const prev = g.op('Max', [g.op('Sub', [positions, g.constI64([1], [])]), g.constI64([0], [])]); // [S]
  const prevIdx = g.op('Expand', [
    g.op('Reshape', [prev, g.constI64([1, 1, -1, 1])]),
    g.op('Concat', [g.op('Slice', [shape, g.constI64([0]), g.constI64([3])]), g.constI64([1])], { axis: A.int(0) }),
  ]); // [B,H,S,1]
  const previous = g.op('GatherElements', [probs, prevIdx], { axis: A.int(3) }); // [B,H,S,1]
  g.output(previous, names.previous, 'float32', ['batch', heads, 'seq', 1]);

  const pool = { kernel_shape: A.ints([POOL, POOL]), strides: A.ints([POOL, POOL]), ceil_mode: A.int(1) };
  g.output(g.op('MaxPool', [probs], pool), names.blockMax, 'float32', ['batch', heads, 'cells', 'cells']);
  const mean = g.op('AveragePool', [probs], { ...pool, count_include_pad: A.int(0) }); // over all entries
  g.output(mean, names.blockMean, 'float32', ['batch', heads, 'cells', 'cells']);
}

/** One layer's summaries as fetched (batch 1): [H,S,K] top weights and keys, [H,S] the rest, [H,R,R] the overview. */
export interface LayerSummaryTensors {
  layer: number;
  /** [heads, S, headDim] each, as the vectors variant gives them. */
  q: Float32Array;
  k: Float32Array;
  topK: number;
  topWeights: Float32Array;
  topKeys: Float32Array;
  entropy: Float32Array;
  special: Float32Array;
  keyMean: Float32Array;
  previous: Float32Array;
  /** Cells a side of the overview: ceil(S / POOL). */
  cells: number;
  blockMax: Float32Array;
  /** The mean over every entry of a cell, masked ones (exact zeros) included. */
  blockMean: Float32Array;
}
