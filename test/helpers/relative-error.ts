// ‖a − ref‖ / ‖ref‖ over two arrays of the same length: how the gradient tests compare a result with its reference.
import assert from 'node:assert/strict';

export function relativeError(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  assert.equal(a.length, ref.length, 'the result and its reference have the same length');
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - ref[i]) ** 2;
    n += ref[i] ** 2;
  }
  return Math.sqrt(d / Math.max(n, 1e-300));
}
