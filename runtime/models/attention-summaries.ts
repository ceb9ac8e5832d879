// The per-head summaries of a layer's attention computed inside its graph, so that a long run fetches O(n) values
// per head instead of the [heads, n, n] map (which then never leaves onnxruntime): per query the top-k keys and
// weights, the entropy, the weight on special keys, the mean key position and the previous token's weight; per head
// an overview of the map, its max and mean over blocks of POOL × POOL entries (MaxPool / AveragePool, ceil mode, so
// a single strong cell is not averaged away). Inputs it adds: top_k int64 [1] (k, at most the length) and
// special_keys float32 [S] (1 at special positions, 0 elsewhere). See runtime/attention/kept-run.ts for their use.
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

/** Asks a layer for blocked attention (long inputs): `blocks` query-row blocks; the layer fills `result` with the
 * summaries' tensor names, and its `attn` is then empty (no [B,H,S,S] tensor exists in the graph). */
export interface BlockedRequest {
  blocks: number;
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

/** The blocked variant needs every block non-empty: rows ceil(S / blocks) a block, so S > blocks · (blocks − 1). */
export function blockedFits(seq: number, blocks: number): boolean {
  return seq > blocks * (blocks - 1);
}

/** Query-row blocks at least (and the blocked variant only where 16 blocks fit: n > 240; below, the map whole). */
export const QUERY_BLOCKS = 16;

/** Bytes one block's scores [heads, rows, S] float32 may take; more blocks above it. */
export const BLOCK_BYTES = 128 * 2 ** 20;

/** The block counts a long run uses: few, since each is a set of layer sessions, created on first use and kept,
 * and creating one grows faster than its node count (bench/long-inputs.ts prints it: 16 blocks ~3 s a layer on the
 * loaded 2-core machine, 32 ~5–9 s, 64 ~18–26 s). */
export const BLOCK_COUNTS = [QUERY_BLOCKS, 32, 64] as const;
export const MAX_QUERY_BLOCKS = 64;

/**
 * The query-row blocks of a run of `seq` tokens over `heads` heads, undefined below the blocked variant (n ≤ 240):
 * the fewest of BLOCK_COUNTS whose block scores fit BLOCK_BYTES (the transient a layer holds a few of at once,
 * instead of the whole map). SmolLM2 (9 heads): 16 blocks up to ~7,700 tokens (38 MB a block at 4,096), 32 at 8,192
 * (75 MB instead of the map's 2.4 GB). More blocks cost nodes and session time, not work: a causal block's keys
 * stop at its last row, so the work is (blocks + 1) / (2 · blocks) of the square at any count.
 */
export function queryBlocks(seq: number, heads: number): number | undefined {
  if (!blockedFits(seq, QUERY_BLOCKS)) return undefined;
  const fits = BLOCK_COUNTS.filter((b) => blockedFits(seq, b));
  return fits.find((b) => heads * Math.ceil(seq / b) * seq * 4 <= BLOCK_BYTES) ?? fits[fits.length - 1];
}

/**
 * Attention in `req.blocks` blocks of query rows: per block its scores [B,H,rows,keys], softmax, context and the
 * summaries, so that no [B,H,S,S] tensor is built (the largest is one block's); blocks are concatenated along the
 * query axis. The overview is pooled in two steps (over 64 keys per row in each block, then over 64 rows), which
 * gives the same max and mean as pooling 64 × 64 cells at once. Needs blockedFits(S, blocks).
 * Each block's additive mask [B,1,rows,keys] is built from its query positions and the key positions (0 where the
 * query may see the key, MASKED elsewhere, as feeds.ts's dense bias), so no n × n array is built in JS.
 * Fewer passes over a block's scores than one op per summary (onnxruntime's profile of one layer showed Softmax, Log,
 * the mask's Add, TopK, Mul and the pools each costing 5–15 % of it):
 * - causal: a block's rows see keys below its last row only, so its keys are sliced to the first POOL-aligned end
 *   past that row (the cells beyond are all masked: the overview is padded with zeros there) — about half the
 *   work of the whole square at many blocks;
 * - the special mass and the mean key position ride the context MatMul as two extra columns of v ([S,2]);
 * - the entropy is lse − Σ p·z (z the masked logits, lse = z_top − ln p_top from the top key), one Mul and one
 *   ReduceSum instead of Max, Log, Mul and ReduceSum.
 * q, k, v [B,H,S,D] → context [B,S,H·D].
 */
export function blockedAttention(
  g: GraphBuilder,
  q: string,
  k: string,
  v: string,
  heads: number,
  headDim: number,
  options: { scale?: number; softcap?: number | null },
  req: BlockedRequest,
): string {
  const NB = req.blocks;
  const causal = req.mask.causal;
  const topK = g.hasTensor('top_k') ? 'top_k' : g.input('top_k', 'int64', [1]);
  const special = g.hasTensor('special_keys') ? 'special_keys' : g.input('special_keys', 'float32', ['seq']);
  const shape = g.op('Shape', [q]); // [4]: B,H,S,D
  const S = g.op('Gather', [shape, g.constI64([2], [])], { axis: A.int(0) }); // scalar
  const one = g.constI64([1], []);
  const i64 = (x: number) => g.constI64([x], []);
  const vec = (x: string) => g.op('Unsqueeze', [x, g.constI64([0])]); // scalar → [1]
  const chunk = g.op('Div', [g.op('Add', [S, i64(NB - 1)]), i64(NB)]); // ceil(S/NB)
  const last = g.op('Sub', [S, g.op('Mul', [chunk, i64(NB - 1)])]);
  const chunk1 = vec(chunk); // [1]
  const sizes = g.op('Concat', [...Array.from({ length: NB - 1 }, () => chunk1), vec(last)], { axis: A.int(0) }); // [NB]
  const split = (x: string) => g.opN('Split', [x, sizes], NB, { axis: A.int(2) });
  const cellsAll = g.op('Div', [g.op('Add', [S, i64(POOL - 1)]), i64(POOL)]); // ceil(S/POOL)

  const kt = g.op('Transpose', [k], { perm: A.ints([0, 1, 3, 2]) }); // [B,H,D,S]
  const scale = g.constF([options.scale ?? 1 / Math.sqrt(headDim)], [], 'scale');
  const cap = options.softcap ? g.constF([options.softcap], [], 'cap') : undefined;
  const positions = g.op('Range', [i64(0), S, one]); // [S]
  const keyPos = g.op('Unsqueeze', [g.op('Cast', [positions], { to: A.int(1) }), g.constI64([1])]); // [S,1]
  const specialCol = g.op('Unsqueeze', [special, g.constI64([1])]); // [S,1]
  // v with two more columns per key, the special flag and the key position: p · vx gives the context, the special
  // mass and the mean key position in one MatMul.
  const extra = g.op('Expand', [
    g.op('Concat', [specialCol, keyPos], { axis: A.int(1) }), // [S,2]
    g.op('Concat', [g.op('Slice', [shape, g.constI64([0]), g.constI64([3])]), g.constI64([2])], { axis: A.int(0) }),
  ]); // [B,H,S,2]
  const vx = g.op('Concat', [v, extra], { axis: A.int(3) }); // [B,H,S,D+2]
  const prev = g.op('Max', [g.op('Sub', [positions, one]), i64(0)]); // [S]
  const prevIdx = g.op('Expand', [
    g.op('Reshape', [prev, g.constI64([1, 1, -1, 1])]),
    g.op('Concat', [g.op('Slice', [shape, g.constI64([0]), g.constI64([3])]), g.constI64([1])], { axis: A.int(0) }),
  ]); // [B,H,S,1]
  const rowPool = { kernel_shape: A.ints([1, POOL]), strides: A.ints([1, POOL]), ceil_mode: A.int(1) };
  const first = { starts: g.constI64([0]), ends: g.constI64([1]), axes: g.constI64([3]) };

  const keyOk = g.op('Greater', [g.op('Unsqueeze', [req.mask.keyMask, g.constI64([1])]), g.constF([0.5], [], 'half')]); // [B,1,S] bool
  const zero = g.constF([0], [], 'zero');
  const masked = g.constF([MASKED], [], 'masked');
  /** The additive mask of rows [start, end) over keys [0, keys): [B,1,rows,keys]. */
  const blockBias = (start: string, end: string, keys: string, keysVec: string): string => {
    const rows = g.op('Range', [start, end, one]); // [rows]
    const keyRange = g.op('Range', [i64(0), keys, one]); // [keys]
    const diff = g.op('Sub', [
      g.op('Unsqueeze', [rows, g.constI64([1])]),
      g.op('Unsqueeze', [keyRange, g.constI64([0])]),
    ]); // [rows,keys]: i − j
    const okKeys = keys === S ? keyOk : g.op('Slice', [keyOk, g.constI64([0]), keysVec, g.constI64([2])]); // [B,1,keys]
    let ok = g.op('Unsqueeze', [okKeys, g.constI64([2])]); // [B,1,1,keys]
    if (causal) ok = g.op('And', [ok, g.op('Greater', [diff, i64(-1)])]); // [B,1,rows,keys]
    if (req.mask.window !== null) ok = g.op('And', [ok, g.op('Less', [diff, i64(req.mask.window)])]);
    if (!causal && req.mask.window === null) ok = g.op('And', [ok, g.op('Equal', [diff, diff])]); // [B,1,rows,keys]
    return g.op('Where', [ok, zero, masked]); // [B,1,rows,keys]
  };

  const qs = split(q); // NB × [B,H,rows,D]
  const ps = split(prevIdx); // NB × [B,H,rows,1]
  const parts: Record<string, string[]> = {};
  const add = (key: string, t: string) => (parts[key] ??= []).push(t);
  // Block b + 1 starts after every use of block b's scores: its q is q + 0 · (a sum over block b's results). Without
  // this, onnxruntime's order (a depth-first walk from the outputs) computed every block's probabilities before
  // their other uses, so all of them were alive at once (one layer session at 2,048 tokens in 32 blocks: peak RSS
  // +200 MB, more than the 151 MB map; +120 MB with it, about the same for 16 to 64 blocks, so the rest is not the
  // blocks). A non-finite summary would make the next block's q NaN: the run stops on it anyway.
  let after: string | undefined;
  const zeroF = g.constF([0], [], 'zero_dep');
  for (let b = 0; b < NB; b++) {
    const qb = after ? g.op('Add', [qs[b], g.op('Mul', [after, zeroF])]) : qs[b]; // [B,H,rows,D]
    const start = g.op('Mul', [chunk, i64(b)]); // scalar
    const end = b === NB - 1 ? S : g.op('Add', [start, chunk]);
    // Causal: keys [0, min(S, end rounded up to POOL)); the last block (and a bidirectional one) sees them all.
    const whole = !causal || b === NB - 1;
    const keys = whole
      ? S
      : g.op('Min', [S, g.op('Mul', [g.op('Div', [g.op('Add', [end, i64(POOL - 1)]), i64(POOL)]), i64(POOL)])]);
    const keysVec = whole ? '' : vec(keys); // [1]
    const upTo = (x: string, axis: number) =>
      whole ? x : g.op('Slice', [x, g.constI64([0]), keysVec, g.constI64([axis])]);
    let s = g.op('Mul', [g.op('MatMul', [qb, upTo(kt, 3)]), scale]); // [B,H,rows,keys]
    if (cap) s = g.op('Mul', [g.op('Tanh', [g.op('Div', [s, cap])]), cap]);
    const z = g.op('Add', [s, blockBias(start, end, keys, keysVec)]); // [B,H,rows,keys]
    const p = g.op('Softmax', [z], { axis: A.int(-1) }); // [B,H,rows,keys]
    add('contextX', g.op('MatMul', [p, upTo(vx, 2)])); // [B,H,rows,D+2]
    const [values, indices] = g.opN('TopK', [p, topK], 2, { axis: A.int(-1), largest: A.int(1), sorted: A.int(1) });
    add('topWeights', values); // [B,H,rows,K]
    add('topKeys', g.op('Cast', [indices], { to: A.int(1) }));
    // −Σ p ln p = lse − Σ p·z, lse = z_top − ln p_top (masked keys: p = 0 exactly, z finite).
    const zTop = g.op('GatherElements', [z, g.op('Slice', [indices, first.starts, first.ends, first.axes])], {
      axis: A.int(3),
    }); // [B,H,rows,1]
    const lse = g.op('Sub', [zTop, g.op('Log', [g.op('Slice', [values, first.starts, first.ends, first.axes])])]);
    const pz = g.op('ReduceSum', [g.op('Mul', [p, z]), g.constI64([-1])], { keepdims: A.int(1) }); // [B,H,rows,1]
    add('entropy', g.op('Sub', [lse, pz]));
    add('previous', g.op('GatherElements', [p, ps[b]], { axis: A.int(3) })); // [B,H,rows,1]
    let rowMax = g.op('MaxPool', [p], rowPool); // [B,H,rows,keys/POOL]
    let rowMean = g.op('AveragePool', [p], { ...rowPool, count_include_pad: A.int(0) });
    if (!whole) {
      // The cells past this block's keys are masked for its rows: max and mean 0.
      const missing = vec(g.op('Sub', [cellsAll, g.op('Div', [g.op('Add', [keys, i64(POOL - 1)]), i64(POOL)])]));
      const pads = g.op('Concat', [g.constI64([0, 0, 0, 0, 0, 0, 0]), missing], { axis: A.int(0) }); // [8]
      rowMax = g.op('Pad', [rowMax, pads]); // [B,H,rows,cells]
      rowMean = g.op('Pad', [rowMean, pads]);
    }
    add('rowMax', rowMax);
    add('rowMean', rowMean);
    if (b < NB - 1) {
      // One scalar from every result of this block (each a reduction of p or z): the next block waits for it.
      const last = (key: string) => parts[key][parts[key].length - 1];
      const sums = ['contextX', 'topWeights', 'entropy', 'previous', 'rowMax', 'rowMean'].map((key) =>
        g.op('ReduceSum', [last(key)], { keepdims: A.int(0) }),
      ); // scalars
      after = sums.reduce((a, x) => g.op('Add', [a, x]));
    }
  }
  const cat = (key: string) => g.op('Concat', parts[key], { axis: A.int(2) });
  const colPool = { kernel_shape: A.ints([POOL, 1]), strides: A.ints([POOL, 1]), ceil_mode: A.int(1) };
  const [ctx, specialMass, keyMean] = g.opN('Split', [cat('contextX'), g.constI64([headDim, 1, 1])], 3, {
    axis: A.int(3),
  }); // [B,H,S,D], [B,H,S,1] × 2
  req.result = {
    topWeights: cat('topWeights'),
    topKeys: cat('topKeys'),
    entropy: cat('entropy'),
    special: specialMass,
    keyMean,
    previous: cat('previous'),
    blockMax: g.op('MaxPool', [cat('rowMax')], colPool), // [B,H,cells,cells]
    blockMean: g.op('AveragePool', [cat('rowMean')], { ...colPool, count_include_pad: A.int(0) }),
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
