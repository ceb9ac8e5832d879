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
test('neuronScores with a model scale and soft-cap (gemma2): score = cap·tanh(q·k·scale / cap)', () => {
  const q = new Float32Array([1, 0]);
  const keys = [new Float32Array([3, 0]), new Float32Array([1, 0]), new Float32Array([2, 0])];
  // scale 0.5, cap 1: scores tanh(1.5), tanh(0.5), tanh(1); key 0 outside a window of 2 for query 2.
  const s = neuronScores(q, keys, 2, (j) => 2 - j >= 2, { scale: 0.5, softcap: 1 });
  assert.deepEqual(s.scaled, [Math.tanh(1.5), Math.tanh(0.5), Math.tanh(1)]);
  const z = Math.exp(Math.tanh(0.5)) + Math.exp(Math.tanh(1));
  assert.equal(s.softmax[0], 0);
  assert.ok(Math.abs(s.softmax[1] - Math.exp(Math.tanh(0.5)) / z) < 1e-12);
  assert.ok(Math.abs(s.softmax[2] - Math.exp(Math.tanh(1)) / z) < 1e-12);
});

test("a window of a longer row: with the row's log-sum-exp, the softmax is the whole row's weights of those keys", () => {
  // d = 4, q·k = 2, 4, 0, 6 for four keys: scores 1, 2, 0, 3 (÷√4); the row's lse = ln(e + e² + 1 + e³).
  const q = Float32Array.from([1, 1, 0, 0]);
  const keys = [
    [1, 1, 0, 0],
    [2, 2, 0, 0],
    [0, 0, 5, 5],
    [3, 3, 0, 0],
  ].map((k) => Float32Array.from(k));
  const whole = neuronScores(q, keys, 4, () => false);
  const lse = Math.log(Math.E + Math.E ** 2 + 1 + Math.E ** 3);
  const part = neuronScores(q, keys.slice(1, 3), 4, () => false, {}, lse);
  assert.deepEqual(part.scaled, [2, 0]);
  assert.ok(Math.abs(part.softmax[0] - Math.E ** 2 / Math.exp(lse)) < 1e-12);
  assert.ok(Math.abs(part.softmax[0] - whole.softmax[1]) < 1e-12);
  assert.ok(Math.abs(part.softmax[1] - whole.softmax[2]) < 1e-12);
  // A masked key of the window is 0.
  assert.deepEqual(neuronScores(q, keys.slice(1, 3), 4, (j) => j === 1, {}, lse).softmax[1], 0);
});
