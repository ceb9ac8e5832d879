// Analytic matmul FLOPs of one encoder forward pass, for GFLOP/s figures: per layer QKV, QKᵀ, AV, the output
// projection and the MLP (2 FLOPs per multiply-add). Elementwise ops, softmax and norms are not counted.
export interface Dims {
  layers: number;
  hidden: number;
  intermediate: number;
  /** Key/value width (hidden without grouped-query attention). */
  kvHidden?: number;
}

export function forwardFlops(d: Dims, seq: number): number {
  const E = d.hidden;
  const KV = d.kvHidden ?? E;
  const qkv = 2 * seq * E * (E + 2 * KV); // [S,E]·[E,E+2KV]
  const scores = 2 * seq * seq * E; // QKᵀ over all heads
  const mix = 2 * seq * seq * E; // AV
  const out = 2 * seq * E * E;
  const mlp = 2 * 2 * seq * E * d.intermediate;
  return d.layers * (qkv + scores + mix + out + mlp);
}
