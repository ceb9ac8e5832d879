// A run's attention grown by one generated token: every layer's [heads, S, S] map becomes [heads, S+1, S+1] with the
// token's query row (its attention over every key up to itself) as the last row and zeros in the new last column of
// the earlier rows (a causal model's earlier queries never see a later key). Pure and Node-free: the extension host
// (the panel's run, hover and export) and the webview (its views) apply the same function to the same rows, so both
// hold the same maps.
import { LensError } from '../errors';
import type { LayerAttention } from '../types';

/** `layer` [heads, S, S] with `row` [heads, S + 1] appended as query S: [heads, S + 1, S + 1]. */
export function appendQueryRow<L extends LayerAttention>(layer: L, row: Float32Array): L {
  const { heads: H, queryLength: Q, keyLength: K } = layer;
  const S = Q + 1;
  if (Q !== K) throw new LensError('BAD_INPUT', `Layer ${layer.layer} is ${Q} × ${K}: only a square (self) map grows.`);
  if (row.length !== H * S)
    throw new LensError(
      'BAD_INPUT',
      `The generated row of layer ${layer.layer} has ${row.length} values, not ${H} heads × ${S} keys.`,
    );
  const data = new Float32Array(H * S * S); // [H, S, S]
  for (let h = 0; h < H; h++) {
    for (let q = 0; q < Q; q++) data.set(layer.data.subarray((h * Q + q) * Q, (h * Q + q + 1) * Q), (h * S + q) * S);
    data.set(row.subarray(h * S, (h + 1) * S), (h * S + Q) * S);
  }
  return { ...layer, queryLength: S, keyLength: S, data };
}
