// Distances between attention distributions (e.g. a head's row vs. another head's, or vs. uniform attention), and
// the uniform-attention baseline itself, so views can say how far a head is from "attending to everything".
//
// Conventions:
//   jsDivergence(p, q, base)  the Jensen–Shannon DIVERGENCE ½KL(p‖m) + ½KL(q‖m), m = ½(p + q), in nats by default
//                             (base e) or bits with base 2. It equals scipy.spatial.distance.jensenshannon(p, q,
//                             base)², since scipy returns the distance (the square root). Range [0, ln 2] nats,
//                             [0, 1] bits.
//   jsDistance(p, q, base)    its square root: the value scipy.spatial.distance.jensenshannon returns.
//   totalVariation(p, q)      ½ Σ |p_i − q_i|, in [0, 1].
// Like scipy, every function first divides p and q by their sums, so unnormalised non-negative weights work.
import { isCausalKind, type LayerAttention } from '../types';

type Dist = ArrayLike<number>;

function normalised(p: Dist, name: string): Float64Array {
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    if (!(p[i] >= 0)) throw new RangeError(`${name}[${i}] = ${p[i]} is not a non-negative number`);
    sum += p[i];
  }
  if (!(sum > 0)) throw new RangeError(`${name} sums to ${sum}; a distribution needs a positive sum`);
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = p[i] / sum;
  return out;
}

function pair(p: Dist, q: Dist): [Float64Array, Float64Array] {
  if (p.length !== q.length) throw new RangeError(`distributions differ in length: ${p.length} vs ${q.length}`);
  return [normalised(p, 'p'), normalised(q, 'q')];
}

/** Jensen–Shannon divergence (not its square root) in the given log base; default e (nats). */
export function jsDivergence(p: Dist, q: Dist, base: number = Math.E): number {
  const [a, b] = pair(p, q);
  let js = 0;
  for (let i = 0; i < a.length; i++) {
    const m = (a[i] + b[i]) / 2;
    if (a[i] > 0) js += 0.5 * a[i] * Math.log(a[i] / m);
    if (b[i] > 0) js += 0.5 * b[i] * Math.log(b[i] / m);
  }
  return Math.max(0, js) / Math.log(base);
}

/** Jensen–Shannon distance: sqrt of jsDivergence, what scipy.spatial.distance.jensenshannon returns. */
export function jsDistance(p: Dist, q: Dist, base: number = Math.E): number {
  return Math.sqrt(jsDivergence(p, q, base));
}

/** Total variation distance ½ Σ |p_i − q_i| of the normalised distributions. */
export function totalVariation(p: Dist, q: Dist): number {
  const [a, b] = pair(p, q);
  let tv = 0;
  for (let i = 0; i < a.length; i++) tv += Math.abs(a[i] - b[i]);
  return tv / 2;
}

/**
 * Uniform attention of one query row over the keys it may see: keys 0..query when causal, all keys otherwise,
 * minus keys whose `allowedKeys` flag is false (padding). [keys]
 */
export function uniformRow(
  keys: number,
  query: number,
  causal: boolean,
  allowedKeys?: readonly boolean[],
): Float64Array {
  if (allowedKeys && allowedKeys.length !== keys) {
    throw new RangeError(`allowedKeys has ${allowedKeys.length} flags; expected ${keys}`);
  }
  const row = new Float64Array(keys);
  const last = causal ? Math.min(query, keys - 1) : keys - 1;
  let count = 0;
  for (let j = 0; j <= last; j++) if (!allowedKeys || allowedKeys[j]) count++;
  if (count === 0) return row; // a query that may see nothing: an all-zero row
  for (let j = 0; j <= last; j++) if (!allowedKeys || allowedKeys[j]) row[j] = 1 / count;
  return row;
}

/**
 * The uniform-attention baseline for a whole layer's shape: [query, key] row-major. Causal with fewer queries than
 * keys (cached prefix) aligns the last query with the last key: query i sees keys 0..i + keys − queries.
 */
export function uniformAttention(
  queries: number,
  keys: number,
  causal: boolean,
  allowedKeys?: readonly boolean[],
): Float64Array {
  const out = new Float64Array(queries * keys); // [query, key]
  for (let i = 0; i < queries; i++)
    out.set(uniformRow(keys, i + Math.max(0, keys - queries), causal, allowedKeys), i * keys);
  return out;
}

/**
 * Per head, the mean over query rows of jsDivergence(row, uniform row) in the given base: 0 for a head that spreads
 * evenly over what it may see. Causal when the layer's kind is 'causal' or 'decoder'. [heads]
 */
export function divergenceFromUniform(layer: LayerAttention, base: number = Math.E): Float64Array {
  const { heads, queryLength: nq, keyLength: nk, data } = layer;
  if (data.length !== heads * nq * nk) {
    throw new RangeError(`attention data has ${data.length} values; expected ${heads}×${nq}×${nk}`);
  }
  const causal = isCausalKind(layer.kind);
  const uniform = uniformAttention(nq, nk, causal); // [query, key]
  const out = new Float64Array(heads); // [heads]
  for (let h = 0; h < heads; h++) {
    let sum = 0;
    for (let q = 0; q < nq; q++) {
      const row = data.subarray((h * nq + q) * nk, (h * nq + q + 1) * nk); // [key] of [h, q, :]
      sum += jsDivergence(row, uniform.subarray(q * nk, (q + 1) * nk), base);
    }
    out[h] = nq > 0 ? sum / nq : 0;
  }
  return out;
}
