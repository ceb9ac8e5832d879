import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellAt, headHue, matrixCellSize, neuronScores, thumbResolution } from '../../../webview/layout';

test('matrixCellSize fills the width within [3, 28]', () => {
  assert.equal(matrixCellSize(10, 600), 28);
  assert.equal(matrixCellSize(50, 600), 12);
  assert.equal(matrixCellSize(512, 600), 3);
  assert.equal(matrixCellSize(0, 600), 28);
});

test('cellAt maps CSS pixels to cells and rejects the outside', () => {
  assert.deepEqual(cellAt(0, 0, 0, 0, 10, 3, 3), { row: 0, col: 0 });
  assert.deepEqual(cellAt(25, 14.9, 0, 0, 10, 3, 3), { row: 1, col: 2 });
  assert.equal(cellAt(30, 0, 0, 0, 10, 3, 3), null);
  assert.equal(cellAt(-1, 0, 0, 0, 10, 3, 3), null);
  assert.deepEqual(cellAt(15, 15, 5, 5, 10, 3, 3), { row: 1, col: 1 });
});

test('thumbResolution caps at 48 pixels', () => {
  assert.equal(thumbResolution(7), 7);
  assert.equal(thumbResolution(512), 48);
  assert.equal(thumbResolution(0), 1);
});

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

test('headHue spreads 12 heads over the hue circle', () => {
  assert.equal(headHue(0, 12), 0);
  assert.equal(headHue(6, 12), 180);
  assert.equal(headHue(13, 16), 30);
});
