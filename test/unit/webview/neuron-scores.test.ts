import { test } from 'node:test';
import assert from 'node:assert/strict';
import { neuronScores } from '../../../webview/neuron-scores';

test('neuronScores: q·k, q·k/√d and softmax (hand-computed, causal mask)', () => {
  const q = new Float32Array([1, 0, 0, 0]);
  const keys = [new Float32Array([2, 0, 0, 0]), new Float32Array([0, 0, 0, 0]), new Float32Array([4, 0, 0, 0])];
  const s = neuronScores(q, keys, 4, (j) => j > 1);
  assert.deepEqual(s.dot, [2, 0, 4]);
  assert.deepEqual(s.scaled, [1, 0, 2]);
  // softmax over [1, 0] (key 2 masked): e/(e+1), 1/(e+1), 0
  assert.ok(Math.abs(s.softmax[0] - Math.E / (Math.E + 1)) < 1e-12);
  assert.ok(Math.abs(s.softmax[1] - 1 / (Math.E + 1)) < 1e-12);
  assert.equal(s.softmax[2], 0);
});
