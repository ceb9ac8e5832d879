// The imported graphs' feeds (runtime/onnx/feeds.ts): int64 values written through 32-bit words must be the same
// int64s BigInt gives, and a batch's ids, mask, positions and encoder mask land row by row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFeeds, int64Of, type InputPlan } from '../../../../runtime/onnx/feeds';

test('int64Of gives the int64s BigInt gives, inside and outside 32 bits', () => {
  const values = [0, 1, -1, 7, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 40 + 3, -(2 ** 53) + 1];
  assert.deepEqual([...int64Of(values)], values.map(BigInt));
  assert.deepEqual([...int64Of([])], []);
  assert.throws(() => int64Of([1.5]), RangeError);
});

test('buildFeeds fills ids, mask, token types, positions and the encoder mask row by row', () => {
  const plans: InputPlan[] = [
    { name: 'input_ids', role: 'ids', type: 'int64' },
    { name: 'attention_mask', role: 'mask', type: 'int64' },
    { name: 'token_type_ids', role: 'token_types', type: 'int64' },
    { name: 'position_ids', role: 'positions', type: 'int64' },
    { name: 'encoder_attention_mask', role: 'encoder_mask', type: 'float32' },
    { name: 'encoder_hidden_states', role: 'encoder_hidden', type: 'float32' },
  ];
  const hidden = { type: 'float32' as const, dims: [2, 3, 1], data: new Float32Array(6) }; // [B,S_enc,E]
  const batch = {
    ids: [
      [5, 6, 7, 8],
      [9, 10, 0, 0],
    ],
    mask: [
      [1, 1, 1, 1],
      [1, 1, 0, 0],
    ],
  };
  const f = buildFeeds(plans, batch, { encoderHidden: hidden, causal: true }, 'test');
  assert.deepEqual(f.input_ids.dims, [2, 4]);
  assert.deepEqual([...f.input_ids.data], [5n, 6n, 7n, 8n, 9n, 10n, 0n, 0n]);
  assert.deepEqual([...f.attention_mask.data], [1n, 1n, 1n, 1n, 1n, 1n, 0n, 0n]);
  assert.deepEqual([...f.token_type_ids.data], new Array(8).fill(0n));
  assert.deepEqual([...f.position_ids.data], [0n, 1n, 2n, 3n, 0n, 1n, 1n, 1n]); // padded slots: 1, as HF generate
  assert.deepEqual(f.encoder_attention_mask.dims, [2, 3]);
  assert.deepEqual([...f.encoder_attention_mask.data], [1, 1, 1, 1, 1, 1]);
  assert.equal(f.encoder_hidden_states, hidden);
  const masked = buildFeeds(
    plans,
    batch,
    {
      encoderHidden: hidden,
      encoderMask: [
        [1, 1, 0],
        [1, 0, 0],
      ],
    },
    'test',
  );
  assert.deepEqual([...masked.encoder_attention_mask.data], [1, 1, 0, 1, 0, 0]);
  assert.deepEqual([...masked.position_ids.data], [0n, 1n, 2n, 3n, 0n, 1n, 2n, 3n]);
});
