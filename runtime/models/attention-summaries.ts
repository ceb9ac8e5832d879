// The per-head summaries of a layer's attention computed inside its graph, so that a long run fetches O(n) values
// per head instead of the [heads, n, n] map (which then never leaves onnxruntime): per query the top-k keys and
// weights, the entropy, the weight on special keys, the mean key position and the previous token's weight; per head
// an overview of the map, its max and mean over blocks of POOL × POOL entries (MaxPool / AveragePool, ceil mode, so
// a single strong cell is not averaged away). Inputs it adds: top_k int64 [1] (k, at most the length) and
// special_keys float32 [S] (1 at special positions, 0 elsewhere). See runtime/attention/kept-run.ts for their use.
import { LensError } from '../errors';
import { MASKED } from './feeds';
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
  /** [heads, S, headDim]. */
  q: Float32Array;
  /** [kvHeads, S, headDim]: once per key/value head. */
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

/** Asks a layer for blocked attention (long inputs): query-row blocks in an ONNX Loop, rows per block fed as
 * `query_rows`; the layer fills `result` with the summaries' tensor names, and its `attn` is then empty (no
 * [B,H,S,S] tensor exists in the graph). */
export interface BlockedRequest {
  /** The mask, built in the graph from positions (no n × n bias is fed): keyMask float32 [B,S] (1 = a real token,
   * 0 = padding), query i sees key j when j ≤ i (causal) and i − j < window. */
  mask: BlockedMask;
  result?: SummaryTensors;
}

export interface BlockedMask {
  keyMask: string;
  causal: boolean;
  window: number | null;
}

/** The graph input of the blocked variant's padding mask: float32 [B,S], 1 for a real token, 0 for padding. */
export const KEY_MASK_INPUT = 'key_mask';

/** The summaries' tensor names in the graph, before they become outputs. */
export type SummaryTensors = Record<keyof SummaryNames, string>;

/** The graph input of the blocked variant: rows per query block, int64 [1] (queryRows). */
export const QUERY_ROWS_INPUT = 'query_rows';

/** Rows a query block has (fewer when its scores would pass BLOCK_BYTES). */
export const QUERY_ROWS = 64;

/** Bytes one block's scores [heads, rows, S] float32 may take; fewer rows above it. */
export const BLOCK_BYTES = 128 * 2 ** 20;

/**
 * The rows of each query block of a run of `seq` tokens over `heads` heads (the blocked variant's `query_rows`):
 * QUERY_ROWS, fewer if a block's scores [heads, rows, seq] would pass BLOCK_BYTES, never more than seq. A causal
 * block sees the keys up to its last row only, so fewer rows waste less of the square (up to rows / seq of it), and
 * a block's tensors stay in cache: one SmolLM2 layer at 8,192 tokens costs 0.53× the layer without its map in
 * blocks of 64 rows, 0.70× in 128, 0.80× in 256 (bench/long-layer.ts --rows 64,128,256, CPU time); at 512 tokens
 * 64 rows still beat 128 and 256 (more iterations, each with its fixed costs, cost less than the waste).
 */
export function queryRows(seq: number, heads: number): number {
  const fit = Math.floor(BLOCK_BYTES / (heads * Math.max(1, seq) * 4));
  return Math.max(1, Math.min(seq, QUERY_ROWS, fit));
}

/**
 * Attention in blocks of query rows, as an ONNX Loop: one body (one block's scores, mask, softmax, context and
 * summaries) runs ceil(S / R) times, R rows each from the `query_rows` input, so the layer's graph — and the time
 * onnxruntime takes to create its session — does not grow with the block count, and one session serves every
 * length and block count. The body reads q, k and v of the outer graph and slices its block at run time; every
 * iteration gives R rows (the last block's missing rows are zero queries, dropped after the loop: the Loop's scan
 * outputs must have one shape). Iterations run one after another, so one block's scores are alive at a time.
 * What does not depend on the block is made once before the Loop (q padded to whole blocks, the rows' positions and
 * previous positions, k and v once per key/value head), so the body is ~50 nodes, not ~70: its small nodes cost a
 * few µs each, eight times a layer at 512 tokens. `kvHeads` (grouped-query models): see below.
 */
export function blockedAttention(
  g: GraphBuilder,
  q: string,
  k: string,
  v: string,
  heads: number,
  headDim: number,
  options: { scale?: number; softcap?: number | null; kvHeads?: number },
  req: BlockedRequest,
): string {
  const causal = req.mask.causal;
  // Grouped-query models: the block reads k and v once per key/value head (k, v arrive repeated per query head: the
  // first head of each group is taken), and a group's query heads are one MatMul's rows, [B,KV,G·R,D] (a view of q's
  // [B,H,R,D]): the keys and values a block slices are copied once per group, not once per head.
  const KV = options.kvHeads ?? heads;
  const groups = heads / KV;
  if (!Number.isInteger(groups))
    throw new LensError('INFERENCE_FAILED', `${heads} query heads do not split into ${KV} key/value groups.`);
  const perKv = (x: string) =>
    groups === 1
      ? x
      : g.op('Gather', [x, g.constI64(Array.from({ length: KV }, (_, i) => i * groups))], { axis: A.int(1) }); // [B,KV,S,D]
  const kKv = perKv(k);
  const topK = g.hasTensor('top_k') ? 'top_k' : g.input('top_k', 'int64', [1]);
  const special = g.hasTensor('special_keys') ? 'special_keys' : g.input('special_keys', 'float32', ['seq']);
  const rowsIn = g.hasTensor(QUERY_ROWS_INPUT) ? QUERY_ROWS_INPUT : g.input(QUERY_ROWS_INPUT, 'int64', [1]);
  const i64 = (x: number) => g.constI64([x], []);
  const shape = g.op('Shape', [q]); // [4]: B,H,S,D
  const S = g.op('Gather', [shape, i64(2)], { axis: A.int(0) }); // scalar
  const R = g.op('Min', [g.op('ReduceMax', [rowsIn], { keepdims: A.int(0) }), S]); // scalar: rows per block
  const NB = g.op('Div', [g.op('Add', [S, g.op('Sub', [R, i64(1)])]), R]); // scalar: ceil(S / R)
  const positions = g.op('Range', [i64(0), S, i64(1)]); // [S]
  const keyPos = g.op('Unsqueeze', [g.op('Cast', [positions], { to: A.int(1) }), g.constI64([1])]); // [S,1]
  const specialCol = g.op('Unsqueeze', [special, g.constI64([1])]); // [S,1]
  const extra = g.op('Expand', [
    g.op('Concat', [specialCol, keyPos], { axis: A.int(1) }), // [S,2]
    g.op('Concat', [g.op('Slice', [g.op('Shape', [kKv]), g.constI64([0]), g.constI64([3])]), g.constI64([2])], {
      axis: A.int(0),
    }),
  ]); // [B,KV,S,2]
  const vx = g.op('Concat', [perKv(v), extra], { axis: A.int(3) }); // [B,KV,S,D+2]
  const keyOk = g.op('Greater', [g.op('Unsqueeze', [req.mask.keyMask, g.constI64([1])]), g.constF([0.5], [], 'half')]); // [B,1,S] bool
  const scale = g.constF([options.scale ?? 1 / Math.sqrt(headDim)], [], 'scale');
  const cap = options.softcap ? g.constF([options.softcap], [], 'cap') : undefined;
  const zero = g.constF([0], [], 'zero');
  const masked = g.constF([MASKED], [], 'masked');

  // Per-row tensors of every block, made once (the Loop's body slices them): q padded with zero rows to NB·R, the
  // rows' positions [NB·R,1] and keys' [1,S] for the mask, and each row's previous position (within [0, S)).
  const NBR = g.op('Mul', [NB, R]); // scalar
  const padRows = g.op('Unsqueeze', [g.op('Sub', [NBR, S]), g.constI64([0])]); // [1]
  const qPads = g.op('Concat', [g.constI64([0, 0, 0, 0, 0, 0]), padRows, g.constI64([0])], { axis: A.int(0) }); // [8]
  const qPad = g.op('Pad', [q, qPads]); // [B,H,NB·R,D]
  const allRows = g.op('Range', [i64(0), NBR, i64(1)]); // [NB·R]
  const rowCol = g.op('Unsqueeze', [allRows, g.constI64([1])]); // [NB·R,1]
  const keyRow = g.op('Unsqueeze', [positions, g.constI64([0])]); // [1,S]
  const prevAll = g.op('Min', [g.op('Max', [g.op('Sub', [allRows, i64(1)]), i64(0)]), g.op('Sub', [S, i64(1)])]); // [NB·R]
  const prevRows = g.op('Expand', [
    g.op('Reshape', [prevAll, g.constI64([1, 1, -1, 1])]),
    g.op('Concat', [g.op('Slice', [shape, g.constI64([0]), g.constI64([2])]), g.constI64([1, 1])], { axis: A.int(0) }),
  ]); // [B,H,NB·R,1]

  // Each block's row range [start, end), causal key end and overview padding as tables [NB, X], so that the body
  // reads them with one Gather each instead of computing them from its iteration number (~10 small nodes).
  const ceilDiv = (x: string, d: number) => g.op('Div', [g.op('Add', [x, i64(d - 1)]), i64(d)]);
  const col = (x: string) => g.op('Unsqueeze', [x, g.constI64([1])]); // [NB] → [NB,1]
  const starts = g.op('Mul', [g.op('Range', [i64(0), NB, i64(1)]), R]); // [NB]
  const ends = g.op('Add', [starts, R]); // [NB], the last may pass S
  // Causal: keys [0, min(S, end rounded up to POOL)); bidirectional: all of them.
  const keyEnds = causal ? g.op('Min', [g.op('Mul', [ceilDiv(ends, POOL), i64(POOL)]), S]) : ''; // [NB]
  // The overview cells past a block's keys are masked for its rows (max and mean 0): Pad's pads, [NB,8].
  const cellPads = causal
    ? g.op('Mul', [
        col(g.op('Sub', [ceilDiv(S, POOL), ceilDiv(keyEnds, POOL)])),
        g.constI64([0, 0, 0, 0, 0, 0, 0, 1], [1, 8]),
      ])
    : ''; // [NB,8]

  const body = g.subgraph('block');
  const iter = body.input(`${body.name}_iter`, 'int64', []);
  const condIn = body.input(`${body.name}_cond`, 'bool', []);
  const b64 = (x: number) => body.constI64([x], []);
  const row = (table: string) => body.op('Gather', [table, iter], { axis: A.int(0) }); // [NB,X] → [X]
  const startV = row(col(starts)); // [1]
  const endV = row(col(ends)); // [1]
  const blockRows = (x: string, axis: number) => body.op('Slice', [x, startV, endV, body.constI64([axis])]);
  const keysV = causal ? row(col(keyEnds)) : ''; // [1]
  const upTo = (x: string, axis = 2) =>
    causal ? body.op('Slice', [x, body.constI64([0]), keysV, body.constI64([axis])]) : x;
  const qb = blockRows(qPad, 2); // [B,H,R,D]: the last block's rows past S are zeros
  // [B,H,R,X] ↔ [B,KV,G·R,X]: a group's query heads as one matrix's rows (views: Reshape copies nothing).
  const byKv = (x: string) => (groups === 1 ? x : body.op('Reshape', [x, body.constI64([0, KV, -1, 0])]));
  const byHead = (x: string) => (groups === 1 ? x : body.op('Reshape', [x, body.constI64([0, heads, -1, 0])]));
  const kt = body.op('Transpose', [upTo(kKv)], { perm: A.ints([0, 1, 3, 2]) }); // [B,KV,D,keys]
  let s = byHead(body.op('Mul', [body.op('MatMul', [byKv(qb), kt]), scale])); // [B,H,R,keys]
  if (cap) s = body.op('Mul', [body.op('Tanh', [body.op('Div', [s, cap])]), cap]);
  // The additive mask of rows [start, end) over keys [0, keys): [B,1,R,keys].
  const diff = body.op('Sub', [blockRows(rowCol, 0), upTo(keyRow, 1)]); // [R,keys]: i − j
  const okKeys = upTo(keyOk); // [B,1,keys]
  let ok = body.op('Unsqueeze', [okKeys, body.constI64([2])]); // [B,1,1,keys]
  if (causal) ok = body.op('And', [ok, body.op('Greater', [diff, b64(-1)])]); // [B,1,R,keys]
  if (req.mask.window !== null) ok = body.op('And', [ok, body.op('Less', [diff, b64(req.mask.window)])]);
  if (!causal && req.mask.window === null) ok = body.op('And', [ok, body.op('Equal', [diff, diff])]);
  const z = body.op('Add', [s, body.op('Where', [ok, zero, masked])]); // [B,H,R,keys]
  const p = body.op('Softmax', [z], { axis: A.int(-1) }); // [B,H,R,keys]
  const outs: [string, number | string][] = [];
  outs.push([byHead(body.op('MatMul', [byKv(p), upTo(vx)])), headDim + 2]); // [B,H,R,D+2]
  const [values, indices] = body.opN('TopK', [p, topK], 2, { axis: A.int(-1), largest: A.int(1), sorted: A.int(1) });
  outs.push([values, 'k'], [body.op('Cast', [indices], { to: A.int(1) }), 'k']); // [B,H,R,K]
  const firstOf = (x: string) => body.op('Slice', [x, body.constI64([0]), body.constI64([1]), body.constI64([3])]);
  const zTop = body.op('GatherElements', [z, firstOf(indices)], { axis: A.int(3) }); // [B,H,R,1]
  const lse = body.op('Sub', [zTop, body.op('Log', [firstOf(values)])]);
  const pz = body.op('ReduceSum', [body.op('Mul', [p, z]), body.constI64([-1])], { keepdims: A.int(1) }); // [B,H,R,1]
  outs.push([body.op('Sub', [lse, pz]), 1]); // entropy [B,H,R,1]
  // p[i, max(i − 1, 0)] (a padded row past S reads key S − 1, which its block has).
  const prevIdx = blockRows(prevRows, 2); // [B,H,R,1]
  outs.push([body.op('GatherElements', [p, prevIdx], { axis: A.int(3) }), 1]); // [B,H,R,1]
  const rowPool = { kernel_shape: A.ints([1, POOL]), strides: A.ints([1, POOL]), ceil_mode: A.int(1) };
  let rowMax = body.op('MaxPool', [p], rowPool); // [B,H,R,keys/POOL]
  let rowMean = body.op('AveragePool', [p], { ...rowPool, count_include_pad: A.int(0) });
  if (causal) {
    const pads = row(cellPads); // [8]
    rowMax = body.op('Pad', [rowMax, pads]); // [B,H,R,cells]
    rowMean = body.op('Pad', [rowMean, pads]);
  }
  outs.push([rowMax, 'cells'], [rowMean, 'cells']);
  body.output(body.op('Identity', [condIn]), `${body.name}_cond_out`, 'bool', []);
  outs.forEach(([t, last], i) => body.output(t, `${body.name}_scan${i}`, 'float32', ['batch', heads, 'rows', last]));
  const scans = g.opN('Loop', [NB, ''], outs.length, { body: A.graph(body) }); // each [NB,B,H,R,X]
  // [NB,B,H,R,X] → [B,H,NB·R,X] → the first S rows.
  const rowsOf = (y: string) => {
    const t = g.op('Transpose', [y], { perm: A.ints([1, 2, 0, 3, 4]) }); // [B,H,NB,R,X]
    const ts = g.op('Shape', [t]);
    const dims = g.op(
      'Concat',
      [
        g.op('Slice', [ts, g.constI64([0]), g.constI64([2])]),
        g.constI64([-1]),
        g.op('Slice', [ts, g.constI64([4]), g.constI64([5])]),
      ],
      { axis: A.int(0) },
    ); // [4]
    const flat = g.op('Reshape', [t, dims]); // [B,H,NB·R,X]
    return g.op('Slice', [flat, g.constI64([0]), g.op('Unsqueeze', [S, g.constI64([0])]), g.constI64([2])]); // [B,H,S,X]
  };
  const [contextX, topWeights, topKeys, entropy, previous, rowMaxAll, rowMeanAll] = scans.map(rowsOf);
  const colPool = { kernel_shape: A.ints([POOL, 1]), strides: A.ints([POOL, 1]), ceil_mode: A.int(1) };
  const [ctx, specialMass, keyMean] = g.opN('Split', [contextX, g.constI64([headDim, 1, 1])], 3, {
    axis: A.int(3),
  }); // [B,H,S,D], [B,H,S,1] × 2
  req.result = {
    topWeights,
    topKeys,
    entropy,
    special: specialMass,
    keyMean,
    previous,
    blockMax: g.op('MaxPool', [rowMaxAll], colPool), // [B,H,cells,cells]
    blockMean: g.op('AveragePool', [rowMeanAll], { ...colPool, count_include_pad: A.int(0) }),
  };
  const t = g.op('Transpose', [ctx], { perm: A.ints([0, 2, 1, 3]) }); // [B,S,H,D]
  return g.op('Reshape', [t, g.constI64([0, 0, heads * headDim], [3], 'shape')]); // [B,S,H·D]
}

/** Declares the summaries' tensors as the graph outputs `names`. */
export function outputSummaries(g: GraphBuilder, t: SummaryTensors, heads: number, names: SummaryNames): void {
  for (const key of ['topWeights', 'topKeys'] as const)
    g.output(t[key], names[key], 'float32', ['batch', heads, 'seq', 'k']);
  for (const key of ['entropy', 'special', 'keyMean', 'previous'] as const)
    g.output(t[key], names[key], 'float32', ['batch', heads, 'seq', 1]);
  for (const key of ['blockMax', 'blockMean'] as const)
    g.output(t[key], names[key], 'float32', ['batch', heads, 'cells', 'cells']);
}
