// Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers"): how much each input token
// contributes to each position at the top of the network, when attention is followed through every layer and the
// residual connection is modelled as half of each layer's mixing. Pure functions over one run's attention; the
// head-mixed matrix built here is shared with attention flow (flow.ts).
//
//   Ã_l = rownorm(0.5 · reduce_heads(A_l) + 0.5 · I)        reduce = mean (the paper) or max over heads
//   R   = Ã_L · … · Ã_{s+1} · Ã_s                            s = start layer; the first layer is rightmost
//
// R[i, j] is the share of position i at the top that comes from input token j; rows of R sum to 1.
import type { AttentionKind, LayerAttention } from '../types';

/** How the heads of a layer are combined into one matrix. */
export type HeadReduce = 'mean' | 'max';

export interface RolloutOptions {
  /** Combine heads by their mean (Abnar & Zuidema) or their elementwise max. Default 'mean'. */
  heads?: HeadReduce;
  /** First layer (index into the list) included in the product; earlier layers are skipped. Default 0. */
  startLayer?: number;
  /** Weight of the identity (residual) in Ã = (1 − r)·A + r·I before renormalising. Default 0.5. */
  residual?: number;
}

/**
 * Wraps plain per-layer arrays as LayerAttention, for callers that hold `layers: Float32Array[]` with `heads` and
 * `seq` known (self-attention: query length = key length = seq).
 */
export function layersFromArrays(
  layers: readonly Float32Array[],
  heads: number,
  seq: number,
  kind: AttentionKind = 'self',
): LayerAttention[] {
  return layers.map((data, layer) => ({ layer, kind, heads, queryLength: seq, keyLength: seq, data }));
}

/** Checks that every layer is square self-attention of the same length and returns that length. */
export function checkSelfAttention(layers: readonly LayerAttention[]): number {
  if (layers.length === 0) throw new RangeError('no attention layers given');
  const seq = layers[0].queryLength;
  for (const a of layers) {
    if (a.kind === 'cross') throw new RangeError(`layer ${a.layer} is cross-attention; rollout needs self-attention`);
    if (a.queryLength !== seq || a.keyLength !== seq) {
      throw new RangeError(`layer ${a.layer} is ${a.queryLength}×${a.keyLength}; expected ${seq}×${seq}`);
    }
    if (a.data.length !== a.heads * seq * seq) {
      throw new RangeError(`layer ${a.layer} has ${a.data.length} values; expected ${a.heads}×${seq}×${seq}`);
    }
  }
  return seq;
}

/** Combines the heads of one layer: [heads, seq, seq] → [seq, seq] (float64). */
export function reduceHeads(layer: LayerAttention, how: HeadReduce = 'mean'): Float64Array {
  const { heads, queryLength: n, data } = layer;
  const out = new Float64Array(n * n); // [query, key]
  if (how === 'max') out.fill(-Infinity);
  for (let h = 0; h < heads; h++) {
    const base = h * n * n; // offset of [h, 0, 0]
    for (let x = 0; x < n * n; x++) {
      const v = data[base + x];
      if (how === 'max') {
        if (v > out[x]) out[x] = v;
      } else out[x] += v;
    }
  }
  if (how === 'mean') for (let x = 0; x < n * n; x++) out[x] /= heads;
  return out;
}

/**
 * The residual-mixed, row-normalised matrix of one layer: Ã = rownorm((1 − r)·reduce(A) + r·I).
 * [heads, seq, seq] → [seq, seq]. Also the edge capacities of attention flow.
 */
export function mixedAttention(layer: LayerAttention, how: HeadReduce = 'mean', residual = 0.5): Float64Array {
  const n = layer.queryLength;
  const m = reduceHeads(layer, how); // [query, key]
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const v = (1 - residual) * m[i * n + j] + (i === j ? residual : 0);
      m[i * n + j] = v;
      sum += v;
    }
    if (sum > 0) for (let j = 0; j < n; j++) m[i * n + j] /= sum;
  }
  return m;
}

/** C = A · B for n×n row-major matrices. */
function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  }
  return c;
}

/**
 * Attention rollout over layers[startLayer..]: R = Ã_L · … · Ã_start, a [seq, seq] row-major float64 matrix whose
 * row i says how much of top position i comes from each input token.
 */
export function attentionRollout(layers: readonly LayerAttention[], options: RolloutOptions = {}): Float64Array {
  const n = checkSelfAttention(layers);
  const start = options.startLayer ?? 0;
  if (!Number.isInteger(start) || start < 0 || start >= layers.length) {
    throw new RangeError(`startLayer ${start} is outside 0..${layers.length - 1}`);
  }
  let r = mixedAttention(layers[start], options.heads, options.residual); // [seq, seq]
  for (let l = start + 1; l < layers.length; l++) {
    r = matmul(mixedAttention(layers[l], options.heads, options.residual), r, n); // Ã_l · R
  }
  return r;
}

/** Row `target` of a [seq, seq] matrix: the importance of each input token for that position. [seq] */
export function rolloutRow(rollout: Float64Array, seq: number, target: number): Float64Array {
  if (rollout.length !== seq * seq) throw new RangeError(`matrix has ${rollout.length} values; expected ${seq}×${seq}`);
  if (!Number.isInteger(target) || target < 0 || target >= seq) {
    throw new RangeError(`target ${target} is outside 0..${seq - 1}`);
  }
  return rollout.slice(target * seq, (target + 1) * seq);
}

/** Rollout importance of every input token for one target position: row `target` of attentionRollout. [seq] */
export function rolloutScores(
  layers: readonly LayerAttention[],
  target: number,
  options: RolloutOptions = {},
): Float64Array {
  const seq = checkSelfAttention(layers);
  return rolloutRow(attentionRollout(layers, options), seq, target);
}
