// A LensError's message is one line whatever it quotes, and quoted() shows a file's value escaped and cut: the
// promise that every bad input gets one clear line holds even where a message interpolates a value as it is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LensError, quoted } from '../../../runtime/errors';

test('a LensError message with line breaks and control characters is one line, those characters escaped', () => {
  const e = new LensError('BAD_CONFIG', 'model_type bert\nxlnet\r\u2028\u2029 a\u0000b\u001b[31m\u0085\tend');
  assert.equal(
    e.message,
    'model_type bert\\nxlnet\\r\\u2028\\u2029 a\\u0000b\\u001b[31m\\u0085\tend',
    'escaped, the tab kept',
  );
  assert.equal(new LensError('BAD_INPUT', 'plain é ✓ text').message, 'plain é ✓ text', 'printable text unchanged');
});

test('quoted: JSON for short values, cut at 80 characters with the length said, non-finite numbers by name', () => {
  assert.equal(quoted('llama'), '"llama"', 'a short string');
  assert.equal(quoted('a\nb'), '"a\\nb"', 'a line break escaped');
  assert.equal(quoted({ a: 1 }), '{"a":1}', 'an object as JSON');
  assert.equal(quoted(NaN), 'NaN', 'NaN by name, not JSON null');
  assert.equal(quoted(-Infinity), '-Infinity', '-Infinity by name');
  assert.equal(quoted(2n ** 64n), '18446744073709551616', 'a bigint');
  // 100 x's are 102 characters of JSON: the first 80 (the quote and 79 x's), then the length.
  assert.equal(quoted('x'.repeat(100)), `"${'x'.repeat(79)}… (102 characters)`, 'cut');
  assert.equal(quoted('x'.repeat(78)), `"${'x'.repeat(78)}"`, 'exactly 80 characters: not cut');
  // Cut between characters, not inside a surrogate pair.
  assert.equal(quoted('😀'.repeat(100), 3), '"😀😀… (102 characters)', 'astral characters counted whole');
});
