// The perturbation batches' size rule (runtime/explain/evaluator.ts rowsPerBatch): the largest activation of a
// layer within BATCH_CACHE_FLOATS, the intermediate tensors within BATCH_FLOAT_BUDGET, at most BATCH_MAX_ROWS rows.
// Every expected size below is worked by hand from the model's shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowsPerBatch } from '../../../../runtime/explain/evaluator';

const minilm = { hidden: 384, heads: 12 };
const stories = { hidden: 64, heads: 8 };

test('a batch keeps its largest activation within 2^21 floats (8 MB)', () => {
  // 64 tokens: the MLP's 64 × 4·384 = 98,304 floats a row (the scores' 12 × 64 = 768 a query are fewer): 21 rows
  assert.equal(rowsPerBatch(minilm, 64), 21);
  // 128 tokens: 128 × 1,536 = 196,608 floats a row (the scores' 12 × 128 equal it): 10 rows
  assert.equal(rowsPerBatch(minilm, 128), 10);
  // a narrow model at 64 tokens: the scores' 64 × 8 × 64 = 32,768 floats a row pass the MLP's 16,384: 64 rows
  assert.equal(rowsPerBatch(stories, 64), 64);
});

test('the row cap and the memory budget still bound a batch; a row that passes them runs alone', () => {
  // stories260K at 16 tokens: 16 × 256 = 4,096 floats a row would fit 512 rows in the cache budget; the 64-row cap
  // holds, or a smaller one asked for
  assert.equal(rowsPerBatch(stories, 16), 64);
  assert.equal(rowsPerBatch(stories, 16, 8), 8);
  // 2,048 tokens of a 12-head model: the scores alone are 12 × 2,048² floats a row, past the 2^21 cache budget
  assert.equal(rowsPerBatch(minilm, 2048), 1);
});
