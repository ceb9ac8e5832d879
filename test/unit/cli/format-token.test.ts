// The CLI's one-line token label (cli/format.ts tokenLabel), on T5's tokens of "Hello world" as its tokenizer gives
// them (transformers: ▁ at offsets (0, 1) beside H at (0, 1), then ell, o, ▁wor, ld): the input's text where the
// piece spells it, the piece where it is a word marker alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenLabel } from '../../../cli/format';

test('tokenLabel: the text a piece covers, and a lone word marker as itself', () => {
  const text = 'Hello world';
  const token = (t: string, start: number | null, end: number | null, special = false) => ({
    id: 0,
    text: t,
    start,
    end,
    special,
  });
  const labels = [
    token('▁', 0, 1),
    token('H', 0, 1),
    token('ell', 1, 4),
    token('o', 4, 5),
    token('▁wor', 6, 9),
    token('ld', 9, 11),
    token('</s>', null, null, true),
  ].map((t) => tokenLabel(t, text));
  assert.deepEqual(labels, ['▁', 'H', 'ell', 'o', 'wor', 'ld', '</s>']);
  assert.equal(tokenLabel(token('Ġ', 5, 6), 'Hello world'), 'Ġ');
  assert.equal(tokenLabel(token('Ġworld', 5, 11), 'Hello world'), 'world');
});
