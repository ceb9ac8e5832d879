// Norm-based attention analysis (Kobayashi et al. 2020, "Attention is Not Only a Weight"): a head moves
// α_h,ij · f_h(x_j) from token j into token i, with f_h(x) = (x W_V + b_V)_h W_O,h the value vector carried through
// the head's rows of the output projection. The size of what moves, ‖Σ_h α_h,ij f_h(x_j)‖, can disagree with the
// weight α: a large weight on a token with a small transformed vector moves little.
//
// The model graphs return, per layer, the Gram matrices G_j[h, h'] = ⟨f_h(x_j), f_h'(x_j)⟩ ([seq, heads, heads],
// the `norms` layer variant of models/plan.ts), from which every norm follows without the [heads, seq, hidden]
// vectors themselves:
//   per head      ‖α_h,ij f_h(x_j)‖ = α_h,ij · √G_j[h, h]
//   all heads     ‖Σ_h α_h,ij f_h(x_j)‖ = √(α_ijᵀ G_j α_ij)          α_ij = (α_0,ij … α_H−1,ij)
// Rows are one query's contributions; a [seq, seq] map like attention, but not summing to 1.
import type { LayerAttention } from '../types';

function checkGram(layer: LayerAttention, gram: ArrayLike<number>): void {
  const { heads, queryLength: nq, keyLength: nk, data } = layer;
  if (data.length !== heads * nq * nk) {
    throw new RangeError(`attention data has ${data.length} values; expected ${heads}×${nq}×${nk}`);
  }
  if (gram.length !== nk * heads * heads) {
    throw new RangeError(`value Gram has ${gram.length} values; expected ${nk}×${heads}×${heads}`);
  }
}

/** ‖f_h(x_j)‖ from the Gram diagonal: [heads, key]. */
export function valueNormsFromGram(gram: ArrayLike<number>, heads: number, keys: number): Float64Array {
  if (gram.length !== keys * heads * heads) throw new RangeError(`value Gram has ${gram.length} values`);
  const out = new Float64Array(heads * keys); // [heads, key]
  for (let j = 0; j < keys; j++)
    for (let h = 0; h < heads; h++) out[h * keys + j] = Math.sqrt(Math.max(0, gram[(j * heads + h) * heads + h]));
  return out;
}

/** Row `query` of the all-heads norm map: [key] with entry j = ‖Σ_h α_h,query,j f_h(x_j)‖. */
export function normRow(layer: LayerAttention, gram: ArrayLike<number>, query: number): Float64Array {
  checkGram(layer, gram);
  const { heads: H, queryLength: nq, keyLength: nk, data } = layer;
  if (!Number.isInteger(query) || query < 0 || query >= nq)
    throw new RangeError(`query ${query} is outside 0..${nq - 1}`);
  const out = new Float64Array(nk); // [key]
  const a = new Float64Array(H);
  for (let j = 0; j < nk; j++) {
    for (let h = 0; h < H; h++) a[h] = data[(h * nq + query) * nk + j]; // α_h,query,j
    let sq = 0;
    const g = j * H * H; // offset of G_j
    for (let h = 0; h < H; h++) {
      if (a[h] === 0) continue;
      let inner = 0;
      for (let k = 0; k < H; k++) inner += gram[g + h * H + k] * a[k];
      sq += a[h] * inner;
    }
    out[j] = Math.sqrt(Math.max(0, sq));
  }
  return out;
}

/** The all-heads norm map: [query, key]. */
export function normMap(layer: LayerAttention, gram: ArrayLike<number>): Float64Array {
  const { queryLength: nq, keyLength: nk } = layer;
  const out = new Float64Array(nq * nk); // [query, key]
  for (let i = 0; i < nq; i++) out.set(normRow(layer, gram, i), i * nk);
  return out;
}

/** Row `query` of one head's norm map: [key] with entry j = α_h,query,j · ‖f_h(x_j)‖. */
export function headNormRow(layer: LayerAttention, gram: ArrayLike<number>, head: number, query: number): Float64Array {
  checkGram(layer, gram);
  const { heads: H, queryLength: nq, keyLength: nk, data } = layer;
  if (!Number.isInteger(head) || head < 0 || head >= H) throw new RangeError(`head ${head} is outside 0..${H - 1}`);
  if (!Number.isInteger(query) || query < 0 || query >= nq)
    throw new RangeError(`query ${query} is outside 0..${nq - 1}`);
  const out = new Float64Array(nk); // [key]
  for (let j = 0; j < nk; j++) {
    const norm = Math.sqrt(Math.max(0, gram[(j * H + head) * H + head]));
    out[j] = data[(head * nq + query) * nk + j] * norm;
  }
  return out;
}

/** A norm map as a one-head LayerAttention with rows renormalised to sum to 1, for rollout over norm maps. */
export function normAsAttention(layer: LayerAttention, gram: ArrayLike<number>): LayerAttention {
  const { queryLength: nq, keyLength: nk } = layer;
  const map = normMap(layer, gram);
  const data = new Float32Array(nq * nk); // [1, query, key]
  for (let i = 0; i < nq; i++) {
    let sum = 0;
    for (let j = 0; j < nk; j++) sum += map[i * nk + j];
    for (let j = 0; j < nk; j++) data[i * nk + j] = sum > 0 ? map[i * nk + j] / sum : 0;
  }
  return { layer: layer.layer, kind: layer.kind, heads: 1, queryLength: nq, keyLength: nk, data };
}
