// The Wasm heap check (runtime/models/wasm-heap.ts), by hand for a SmolLM2-shaped model: where a run that returns
// every map stops in the 4 GiB heap, that a kept run reaches the 8,192-token cap, and the one-line refusals. The CLI
// path (a real SmolLM2 run on Wasm refused before its first layer) is a row of the CLI bad-input catalogue.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLensError } from '../../../../runtime/errors';
import { checkWasmHeap, heapNeed, wasmReach } from '../../../../runtime/models/wasm-heap';

const SMOL = { layers: 30, heads: 9, kvHeads: 3, headDim: 64, hidden: 576 };
const HEAP = 2 ** 32;
const OWN = 256 * 2 ** 20;

test('a run that returns every map: three [9, n, n] float32 and the n × n mask, by hand', () => {
  // 600 MB of graphs; at 5,000 tokens the layer needs (3 × 9 + 1) × 5,000² × 4 = 2.8 GB.
  const need = heapNeed(SMOL, 600e6, 5000, false);
  assert.equal(need.layerBytes, 112 * 25e6);
  assert.equal(need.totalBytes, 600e6 + 2.8e9 + OWN);
  // 112 n² ≤ 2^32 − 600e6 − 256 MiB = 3,426,531,840 → n² ≤ 30,594,034.3: n = 5,531 (5,532² = 30,603,024).
  assert.equal(wasmReach(SMOL, 600e6, false, 8192), 5531);
  assert.ok(heapNeed(SMOL, 600e6, 5531, false).totalBytes <= HEAP);
  assert.ok(heapNeed(SMOL, 600e6, 5532, false).totalBytes > HEAP);
});

test("a stage of four layers returning maps also holds its three earlier layers' [9, n, n] maps", () => {
  const four = { ...SMOL, stageLayers: 4 };
  // (3 × 9 + 1 + 3 × 9) × 4 bytes = 220 n²; at 1,000 tokens 220 MB.
  assert.equal(heapNeed(four, 600e6, 1000, false).layerBytes, 220e6);
  // 220 n² ≤ 3,426,531,840 → n² ≤ 15,575,144.7: n = 3,946 (3,946² = 15,570,916; 3,947² = 15,578,809).
  assert.equal(wasmReach(four, 600e6, false, 8192), 3946);
  // A kept run's stage outputs are small: its reach is the single layer's.
  assert.equal(wasmReach(four, 1.1e9, true, 8192), 8192);
});

test('a kept run reaches the 8,192-token cap: its layer is the blocked Loop (0.5 GB at 8,192)', () => {
  // memory-estimate.test.ts counts it by hand: 503,513,088 bytes (the feed-forward at 4 × 576 is 339,738,624).
  const need = heapNeed(SMOL, 1.1e9, 8192, true);
  assert.equal(need.layerBytes, 503_513_088);
  assert.equal(wasmReach(SMOL, 1.1e9, true, 8192), 8192);
  assert.doesNotThrow(() => checkWasmHeap(SMOL, 1.1e9, 8192, true, 8192));
});

test('the refusals: one line, the need, the length it reaches and what to do', () => {
  assert.throws(
    () => checkWasmHeap(SMOL, 600e6, 6000, false, 8192),
    (e: unknown) => {
      assert.ok(isLensError(e) && e.code === 'TOO_LONG');
      assert.equal(
        e.message,
        "On the Wasm backend a run that returns every map of 6000 tokens needs about 4.9 GB of its 4 GiB heap (the model's graphs 600 MB, the running layer 4.0 GB); it reaches 5531 tokens there: select at most 5531 tokens, or keep the run for long inputs (long: auto or kept), or use the native backend.",
      );
      return true;
    },
  );
  // Graphs alone past the heap: no length fits.
  assert.throws(
    () => checkWasmHeap(SMOL, 4.2e9, 100, true, 8192),
    /On the Wasm backend a run kept for long inputs of 100 tokens needs about 4\.5 GB .* this model does not fit there at any length: use the native backend\./,
  );
});
