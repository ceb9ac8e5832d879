import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colorAt, colorHex, colorLut, diverging } from '../../../../webview/render/colormap';
import { aggregateHeads, maxValue, rasterize } from '../../../../webview/render/heatmap';

test('colour maps: ends and midpoints match the reference tables', () => {
  // matplotlib viridis[0] = (0.267004, 0.004874, 0.329415), viridis[255] = (0.993248, 0.906157, 0.143936)
  assert.deepEqual(colorAt('viridis', 0), [68, 1, 84]);
  assert.deepEqual(colorAt('viridis', 1), [253, 231, 37]);
  // viridis[128] = (0.127568, 0.566949, 0.550556) → (33, 145, 140)
  assert.deepEqual(colorAt('viridis', 128 / 255), [33, 145, 140]);
  assert.deepEqual(colorAt('magma', 0), [0, 0, 4]);
  assert.deepEqual(colorAt('magma', 1), [252, 253, 191]);
  assert.deepEqual(colorAt('greys', 0), [255, 255, 255]);
  assert.deepEqual(colorAt('greys', 1), [0, 0, 0]);
  assert.deepEqual(colorAt('blues', 0.5), [107, 174, 214]); // ColorBrewer Blues class 5 of 9: #6baed6
  // Halfway between greys' first two stops (ffffff, f0f0f0): 247.5 → 248
  assert.deepEqual(colorAt('greys', 1 / 16), [248, 248, 248]);
  assert.equal(colorHex('greys', 1), '#000000');
});

test('colour maps: clamping and NaN', () => {
  assert.deepEqual(colorAt('viridis', -3), colorAt('viridis', 0));
  assert.deepEqual(colorAt('viridis', 7), colorAt('viridis', 1));
  assert.deepEqual(colorAt('magma', NaN), colorAt('magma', 0));
});

test('colour LUT: 256 RGBA entries equal to colorAt(i/255)', () => {
  const lut = colorLut('magma');
  assert.equal(lut.length, 1024);
  assert.deepEqual([...lut.subarray(200 * 4, 200 * 4 + 4)], [...colorAt('magma', 200 / 255), 255]);
});

test('diverging: white at 0, RdBu ends at ±1', () => {
  assert.deepEqual(diverging(0), [247, 247, 247]);
  assert.deepEqual(diverging(-1), [33, 102, 172]);
  assert.deepEqual(diverging(1), [178, 24, 43]);
  assert.deepEqual(diverging(0.5), [213, 136, 145]);
});

test('aggregateHeads: mean and max over heads (hand-computed)', () => {
  // 2 heads of 2×2: h0 = [1,0,0.5,0.5], h1 = [0,1,0.25,0.75]
  const data = new Float32Array([1, 0, 0.5, 0.5, 0, 1, 0.25, 0.75]);
  assert.deepEqual([...aggregateHeads(data, 2, 2, 2, 'mean')], [0.5, 0.5, 0.375, 0.625]);
  assert.deepEqual([...aggregateHeads(data, 2, 2, 2, 'max')], [1, 1, 0.5, 0.75]);
  assert.equal(maxValue(data, 4, 4), 1);
  assert.equal(maxValue(new Float32Array(4), 0, 4), 1e-12);
});

test('rasterize: one pixel per cell, causal mask above the diagonal', () => {
  const lut = colorLut('greys');
  // 2×2 causal: [[1, 0], [0.5, 0.5]], vmax 1 → greys(1)=black, greys(0.5), mask for (0,1)
  const data = new Float32Array([1, 0, 0.5, 0.5]);
  const px = rasterize(data, 0, 2, 2, 2, 2, { lut, vmax: 1, causal: true, maskColor: [1, 2, 3, 4] });
  const at = (i: number) => [...px.subarray(i * 4, i * 4 + 4)];
  assert.deepEqual(at(0), [0, 0, 0, 255]);
  assert.deepEqual(at(1), [1, 2, 3, 4]);
  const half = lut[Math.round(0.5 * 255) * 4];
  assert.deepEqual(at(2), [half, half, half, 255]);
  assert.deepEqual(at(3), [half, half, half, 255]);
});

test('rasterize: downsampling keeps the max of each block', () => {
  const lut = colorLut('greys');
  // 4×4 non-causal, one strong cell at (3, 0); 2×2 output: block (1, 0) shows it
  const data = new Float32Array(16).fill(0);
  data[3 * 4 + 0] = 0.8;
  const px = rasterize(data, 0, 4, 4, 2, 2, { lut, vmax: 0.8 });
  assert.deepEqual([...px.subarray(2 * 4, 2 * 4 + 3)], [0, 0, 0]); // (row 1, col 0) = max 0.8 / 0.8 → black
  assert.deepEqual([...px.subarray(0, 3)], [255, 255, 255]);
});
