// What the encoder–decoder import and inspector tests do with a run's layers: collect them, and compare one layer's
// [heads, query, key] data with a reference's nested [head][query][key] arrays.
import assert from 'node:assert/strict';
import type { LayerResult } from '../../runtime/inspector/api';

/** Every layer of a run, in the order they came. */
export async function allLayers(run: AsyncIterable<LayerResult>): Promise<LayerResult[]> {
  const out: LayerResult[] = [];
  for await (const l of run) out.push(l);
  return out;
}

/** The largest |a - b| between a [H,Q,K] entry and a reference [head][query][key] (their sizes must agree). */
export function worstAbs(data: Float32Array, want: number[][][]): number {
  const flat = want.flat(2);
  assert.equal(data.length, flat.length);
  let w = 0;
  flat.forEach((x, i) => (w = Math.max(w, Math.abs(data[i] - x))));
  return w;
}
