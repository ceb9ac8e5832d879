// The head view's line selection (figures/head-figure.ts strongestLinks) against a brute-force second implementation:
// every weight of the chosen heads, queries and keys sorted by strength. The selection must keep the strongest
// weights (nothing left out is stronger than something kept, up to the histogram's 1/1024 bin), at most MAX_LINES,
// in (head, query, key) order, with the right indices after a focus narrows the keys or queries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_LINES, strongestLinks } from '../../../figures/head-figure';
import { MemoryRunMaps } from '../../../figures/run-maps';
import type { LayerAttention } from '../../../runtime/types';

function randomLayer(heads: number, n: number, seed: number, peak: number): LayerAttention {
  let s = seed;
  const rand = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const data = new Float32Array(heads * n * n); // [heads, query, key]
  for (let h = 0; h < heads; h++)
    for (let q = 0; q < n; q++) {
      const at = (h * n + q) * n;
      let z = 0;
      for (let k = 0; k <= q; k++) z += data[at + k] = Math.exp(peak * rand());
      for (let k = 0; k <= q; k++) data[at + k] /= z;
    }
  return { layer: 0, kind: 'causal', heads, queryLength: n, keyLength: n, data } as LayerAttention;
}

function bruteForce(l: LayerAttention, heads: number[], queries: number[], kFrom: number, kTo: number, t: number) {
  const all: [number, number, number, number][] = [];
  for (const h of heads)
    for (const q of queries)
      for (let k = kFrom; k < kTo; k++) {
        const w = l.data[(h * l.queryLength + q) * l.keyLength + k];
        if (w >= t) all.push([h, q, k, w]);
      }
  return all;
}

test('strongestLinks keeps the strongest weights, at most MAX_LINES, in head/query/key order', () => {
  const l = randomLayer(4, 120, 7, 6);
  const maps = new MemoryRunMaps(
    'm',
    Array.from({ length: 120 }, () => ({ text: 't' })),
    [l],
    4,
  );
  const heads = [0, 1, 2, 3];
  const queries = Array.from({ length: 120 }, (_, i) => i);
  const all = bruteForce(l, heads, queries, 0, 120, 0.01);
  assert.ok(all.length > MAX_LINES, `the case must need a cut (${all.length} candidates)`);
  const { links, cutoff, count } = strongestLinks(maps, 0, heads, queries, 0, 120, 0.01);
  assert.equal(count, all.length);
  // Exactly the MAX_LINES strongest candidates (no two weights are equal here), in (head, query, key) order: the
  // strongest of the last queries too (a cut in index order dropped them).
  const strongest = new Set([...all].sort((a, b) => b[3] - a[3]).slice(0, MAX_LINES));
  assert.deepEqual(
    links,
    all.filter((x) => strongest.has(x)),
  );
  assert.equal(cutoff, Math.min(...links.map((x) => x[3])), 'the cut is the weakest line drawn');
});

test('strongestLinks under a focus: one key column, or one query row, with their real indices', () => {
  const l = randomLayer(3, 40, 11, 3);
  const maps = new MemoryRunMaps(
    'm',
    Array.from({ length: 40 }, () => ({ text: 't' })),
    [l],
    3,
  );
  const queries = Array.from({ length: 40 }, (_, i) => i);
  // Focus on key 17: every query's weight on key 17 of heads 1 and 2.
  const col = strongestLinks(maps, 0, [1, 2], queries, 17, 18, 0.001);
  assert.deepEqual(col.links, bruteForce(l, [1, 2], queries, 17, 18, 0.001));
  assert.ok(col.links.length > 10 && col.links.every(([, , k]) => k === 17));
  // Focus on query 33 of head 2.
  const row = strongestLinks(maps, 0, [2], [33], 0, 40, 0.001);
  assert.deepEqual(row.links, bruteForce(l, [2], [33], 0, 40, 0.001));
  assert.ok(row.links.every(([h, q]) => h === 2 && q === 33));
});

test('the head view: max draws, of each query and key, the strongest head alone; mean every head', async () => {
  const { headFigure } = await import('../../../figures/head-figure');
  const { PAPER } = await import('../../../figures/theme');
  const { EXPORT_OPTIONS } = await import('../../../figures/figure-kit');
  // Hand-made, 2 heads × 2 tokens, causal. Row 1: head 0 → [0.3, 0.7], head 1 → [0.6, 0.4]; so by max, query 1's
  // line to key 0 is head 1's (0.6) and to key 1 head 0's (0.7); row 0 is 1 in both heads (a tie: head 0's line).
  const data = Float32Array.from([1, 0, 0.3, 0.7, 1, 0, 0.6, 0.4]); // [heads, query, key]
  const l = { layer: 0, kind: 'causal', heads: 2, queryLength: 2, keyLength: 2, data } as LayerAttention;
  const maps = new MemoryRunMaps('m', [{ text: 'a' }, { text: 'b' }], [l], 2);
  const lines = (head: 'mean' | 'max') =>
    headFigure(maps, { layer: 0, head }, { maxHeight: 100 }, PAPER, EXPORT_OPTIONS)
      .scene.items.flatMap((it) =>
        it.kind === 'line' && it.role === 'link'
          ? [[it.attrs!['data-head'], it.attrs!['data-query'], it.attrs!['data-key'], Number(it.opacity.toFixed(6))]]
          : [],
      )
      .sort();
  assert.deepEqual(lines('max'), [
    ['0', '0', '0', 1],
    ['0', '1', '1', 0.7],
    ['1', '1', '0', 0.6],
  ]);
  // Lines start at max(0.01, 1/keys) = 0.5: 0.3 and 0.4 get none.
  assert.deepEqual(lines('mean'), [
    ['0', '0', '0', 1],
    ['0', '1', '1', 0.7],
    ['1', '0', '0', 1],
    ['1', '1', '0', 0.6],
  ]);
  const title = (head: 'mean' | 'max') =>
    headFigure(maps, { layer: 0, head }, { maxHeight: 100 }, PAPER, EXPORT_OPTIONS).scene.title;
  assert.match(title('max'), /strongest head per pair/);
  assert.match(title('mean'), /every head/);
});
