// How figures write tokens and numbers (figures/labels.ts): cut labels, text fitted to a width, table numbers, and
// the shortest float32 decimal (checked against toPrecision, an independent way to the same digits).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { f32String, fitText, formatValue, headText, shortLabel } from '../../../figures/labels';
import * as labelsModule from '../../../figures/labels';

function shortestByToPrecision(x: number): string {
  const f = Math.fround(x);
  if (f === 0) return '0';
  for (let p = 1; p < 9; p++) if (Math.fround(Number(f.toPrecision(p))) === f) return String(Number(f.toPrecision(p)));
  return String(Number(f.toPrecision(9)));
}

test('labels: cut with an ellipsis at 16 characters (code points, not UTF-16 units); fitted to a width', () => {
  assert.equal(shortLabel('abcdefghijklmnopq'), 'abcdefghijklmno…');
  assert.equal(shortLabel('東京'.repeat(8)), '東京'.repeat(8));
  assert.equal(shortLabel('😀'.repeat(17)), '😀'.repeat(15) + '…');
  // Each character 5 px: 'abcdef' is 30 px; in 22 px fit 'abc…' (4 × 5 = 20).
  const measure = (t: string, size: number) => [...t].length * size * 0.5;
  assert.equal(fitText('abcdef', 30, 10, measure), 'abcdef');
  assert.equal(fitText('abcdef', 22, 10, measure), 'abc…');
  assert.equal(headText(3), 'head 3');
  assert.equal(headText('mean'), 'mean of heads');
});

test('value text: two decimals, a real minus sign, no negative zero, a dash for NaN', () => {
  assert.equal(formatValue(-0.52), '−0.52');
  assert.equal(formatValue(-0.004), '0.00');
  assert.equal(formatValue(NaN), '—');
});

test('f32String: shortest decimal that reads back as the same float32 (against toPrecision)', () => {
  assert.equal(f32String(Math.fround(0.1)), '0.1');
  assert.equal(f32String(0), '0');
  assert.equal(f32String(1), '1');
  assert.equal(f32String(Math.fround(1 / 3)), '0.33333334');
  assert.equal(f32String(Math.fround(1.5e-7)), '1.5e-7');
  assert.equal(f32String(-0.25), '-0.25');
  // Deterministic pseudo-random values over the range of attention weights, plus tiny and subnormal ones.
  let seed = 12345;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const values = [1e-30, 1.4e-45, 3.4e-5, 0.999999, 123456, 7e22];
  for (let i = 0; i < 20000; i++) values.push(i % 2 ? rand() : Math.exp(-rand() * 40));
  for (const x of values) {
    const got = f32String(x);
    assert.equal(Math.fround(Number(got)), Math.fround(x), `${x}: ${got} reads back`);
    assert.equal(got, shortestByToPrecision(x), `${x}: shortest`);
  }
});

test('formatSig: about 4 significant digits, true minus, no float tail (the values the issue quotes)', () => {
  const { formatSig } = labelsModule;
  assert.equal(formatSig(0.0014958222163841128), '0.001496');
  assert.equal(formatSig(0.05251357704401016), '0.05251');
  assert.equal(formatSig(0.5), '0.5');
  assert.equal(formatSig(1), '1');
  assert.equal(formatSig(12.3456), '12.35');
  assert.equal(formatSig(-0.123456), '−0.1235');
  assert.equal(formatSig(0.99999), '1');
  assert.equal(formatSig(0.000099996), '1e−4');
  assert.equal(formatSig(3.2e-7), '3.2e−7');
  assert.equal(formatSig(-1234567), '−1.235e6');
  assert.equal(formatSig(0), '0');
  assert.equal(formatSig(NaN), '—');
  assert.equal(formatSig(Infinity), '—');
  assert.equal(formatSig(0.123456, 2), '0.12');
});

test('labelStep: every n-th token so labels stay `pitch` px apart; never zero labels', () => {
  const { labelStep } = labelsModule;
  assert.equal(labelStep(12, 10), 1); // 12 px per token: every label fits
  assert.equal(labelStep(10, 10), 1);
  assert.equal(labelStep(6, 10), 2); // 74 tokens in ~450 px: every second label
  assert.equal(labelStep(1, 10), 10); // 451 tokens in ~450 px: every tenth
  assert.equal(labelStep(0.25, 10), 40);
  assert.equal(labelStep(0, 10), 1);
});
