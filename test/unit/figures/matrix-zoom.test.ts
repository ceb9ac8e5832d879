// The matrix zoom as windows of tokens (figures/matrix-zoom.ts), on hand-computed cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clampZoom, fitCell, follow, maxZoom, zoomWindow } from '../../../figures/matrix-zoom';

test('zoomWindow: 1/z of the tokens around the centre, kept inside the map', () => {
  assert.deepEqual(zoomWindow(100, 1, 50), { start: 0, end: 100 });
  assert.deepEqual(zoomWindow(100, 4, 50), { start: 38, end: 63 }); // 25 tokens around 50
  assert.deepEqual(zoomWindow(100, 4, 2), { start: 0, end: 25 });
  assert.deepEqual(zoomWindow(100, 4, 99), { start: 75, end: 100 });
  // 512 of 8k tokens: token 4000's middle is 4000.5, minus 256 is 3744.5, rounded up.
  assert.deepEqual(zoomWindow(8192, 16, 4000), { start: 3745, end: 4257 });
  // Clamped to zoom 13 / 4: 4 tokens, from 6.5 − 2 = 4.5 rounded up.
  assert.deepEqual(zoomWindow(13, 1000, 6), { start: 5, end: 9 });
});

test('zoom bounds: 1 to total / 4', () => {
  assert.equal(maxZoom(13), 3.25);
  assert.equal(maxZoom(3), 1);
  assert.equal(clampZoom(0.5, 100), 1);
  assert.equal(clampZoom(100, 100), 25);
  assert.equal(clampZoom(NaN, 100), 1);
});

test('follow: the window moves just enough to hold the keyboard cell', () => {
  const w = { start: 10, end: 20 };
  assert.deepEqual(follow(w, 15, 100), w);
  assert.deepEqual(follow(w, 20, 100), { start: 11, end: 21 });
  assert.deepEqual(follow(w, 3, 100), { start: 3, end: 13 });
  assert.deepEqual(follow({ start: 90, end: 100 }, 99, 100), { start: 90, end: 100 });
});

test('fitCell: whole px that fit both sides, within [min, max]', () => {
  assert.equal(fitCell(13, 13, 1200, 560), 40); // capped
  assert.equal(fitCell(74, 74, 1200, 560), 7); // 560 / 74 = 7.6
  assert.equal(fitCell(451, 451, 1200, 560), 1);
  assert.equal(fitCell(10, 20, 200, 500), 10); // width-bound
});
