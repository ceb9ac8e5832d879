// firstNonFinite (runtime/finite.ts) sums first and searches only when the sum is not finite: every position of a
// bad value, in the four-way loop and its tail, is still found; +Infinity and -Infinity together (a NaN sum) too;
// finite values whose sum overflows are not reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstNonFinite } from '../../../runtime/finite';

test('the first NaN or ±Infinity is found at every position of arrays of every length mod 4', () => {
  for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 13]) {
    const clean = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    assert.equal(firstNonFinite(clean), -1, `finite, length ${n}`);
    for (let at = 0; at < n; at++)
      for (const bad of [NaN, Infinity, -Infinity]) {
        const d = clean.slice();
        d[at] = bad;
        assert.equal(firstNonFinite(d), at, `${bad} at ${at} of ${n}`);
      }
  }
  assert.equal(firstNonFinite(new Float32Array(0)), -1);
});

test('+Infinity and -Infinity in one array (their sum is NaN) give the first; a finite overflowing sum gives -1', () => {
  assert.equal(firstNonFinite(Float32Array.of(0, -Infinity, 1, Infinity, 2)), 1);
  assert.equal(firstNonFinite([3e38, 3e38, 3e38, 3e38, 3e38, 3e38, 3e38, 3e38, 3e38]), -1);
  assert.equal(firstNonFinite([1.7e308, 1.7e308, 5]), -1, 'plain numbers whose sum is Infinity');
});
