// Colour maps (figures/colormap.ts) against matplotlib's and ColorBrewer's tables, and the colouring of cells.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colorAt, colorHex, colorLut, colorize, diverging, lutRamp } from '../../../figures/colormap';

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

test('colorize: value / vmax through the LUT, masked cells in their colour, opaque', () => {
  const lut = colorLut('greys');
  // greys: 0 → white, vmax → black; 0.5 / 1 → LUT entry round(127.5) = 128.
  const rgba = colorize(Float32Array.from([1, 0, 0.5, 2]), Uint8Array.from([0, 0, 0, 1]), lut, 1, [9, 8, 7]);
  const at = (i: number) => Array.from(rgba.subarray(i * 4, i * 4 + 4));
  assert.deepEqual(at(0), [0, 0, 0, 255]);
  assert.deepEqual(at(1), [255, 255, 255, 255]);
  assert.deepEqual(at(2), [...Array.from(lut.subarray(128 * 4, 128 * 4 + 3)), 255]);
  assert.deepEqual(at(3), [9, 8, 7, 255]);
  // Above vmax clamps to the last colour; NaN reads as 0.
  assert.deepEqual(
    Array.from(colorize(Float32Array.from([5, NaN]), undefined, lut, 1, [0, 0, 0])),
    [0, 0, 0, 255, 255, 255, 255, 255],
  );
  // A ramp of 3 steps: the map at 0, ½ and 1.
  assert.deepEqual(Array.from(lutRamp(lut, 3)), [
    255,
    255,
    255,
    255,
    ...lut.subarray(128 * 4, 128 * 4 + 4),
    0,
    0,
    0,
    255,
  ]);
});
