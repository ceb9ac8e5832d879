// The gradient service (what the worker answers gradient requests with): points on an Integrated Gradients path in
// batches of a few rows (the last batch padded) give the same targets and gradients as one row at a time; the pad
// baseline is the pad token's embedding except where the input's is kept; requests over the token limit stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readModel } from '../../../../runtime/models/read-model';
import { batchRows, evenChunk, GradientService } from '../../../../runtime/grad/gradient-service';
import { isLensError } from '../../../../runtime/errors';
import { fixtureModel } from '../../../helpers/fixtures';

const ids = [1, 403, 407, 261, 378, 1];
const target = { measure: 'log-prob' as const, readout: 5, token: 3 };

test('batched path points equal one-row runs; the last batch is padded; the baseline keeps what it is told', async () => {
  const source = await readModel(fixtureModel('stories260K'));
  const S = ids.length;
  const perRow = source.config.layers * source.config.heads * S * S;
  const batched = new GradientService(source, 'native', 1, 3 * perRow); // 3 rows per batch: 7 points → 3 + 3 + 1
  const single = new GradientService(source, 'native', 1, perRow);
  try {
    const alphas = [0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 1];
    const keep = ids.map((_, i) => i === 0);
    const a = await batched.compute({ ids, target, alphas, baseline: 'pad', padId: 0, keep });
    const b = await single.compute({ ids, target, alphas, baseline: 'pad', padId: 0, keep });
    assert.equal(a.target.length, alphas.length);
    const E = a.hidden;
    for (let i = 0; i < alphas.length; i++)
      assert.ok(Math.abs(a.target[i] - b.target[i]) <= 1e-5 * Math.abs(b.target[i]));
    let d = 0;
    let n = 0;
    a.grad.forEach((v, i) => ((d += (v - b.grad[i]) ** 2), (n += b.grad[i] ** 2)));
    assert.ok(Math.sqrt(d / n) <= 1e-5, `gradients differ by ${Math.sqrt(d / n)}`);
    // The row at α = 1 is the input itself: its target is the plain request's.
    const plain = await single.compute({ ids, target });
    assert.ok(Math.abs(a.target[alphas.length - 1] - plain.target[0]) <= 1e-5 * Math.abs(plain.target[0]));
    // Baseline: position 0 kept (the input's embedding), the others the pad token's (id 0).
    const base = a.baseline!;
    assert.deepEqual(Array.from(base.subarray(0, E)), Array.from(a.embedding.subarray(0, E)));
    const pad = (await single.compute({ ids: [0, 0, 0, 0, 0, 0], target })).embedding;
    assert.deepEqual(Array.from(base.subarray(E)), Array.from(pad.subarray(E)));
  } finally {
    await batched.release();
    await single.release();
  }
});

test('a gradient request over the token limit stops with what to do', async () => {
  const source = await readModel(fixtureModel('stories260K'));
  const service = new GradientService(source, 'native', 1);
  await assert.rejects(
    service.compute({ ids: new Array(513).fill(1), target }),
    (e: unknown) => isLensError(e) && e.code === 'TOO_LONG' && /at most 512 tokens/.test(e.message),
  );
});

test('rows are spread evenly over the batches a cap needs (fewest repeated rows)', () => {
  assert.equal(evenChunk(34, 8), 7); // 5 batches of 7 (35 rows), not 5 of 8 (40)
  assert.equal(evenChunk(33, 64), 33); // under the cap: one batch
  assert.equal(evenChunk(7, 3), 3); // 3 + 3 + 1
  assert.equal(evenChunk(33, 16.5), 11); // a fractional cap (budget ÷ per-row floats) rounds down: 3 × 11
  assert.equal(evenChunk(5, 0.2), 1); // a row over the budget still runs, alone
});

test('a batch holds as many rows as keep its widest activation within 4.5 MiB of floats', () => {
  const minilm = { layers: 6, heads: 12, hidden: 384, intermediate: 1536 };
  // IG's 33 rows at 64 tokens: [rows, 64, 1536] is 98,304 floats a row; 1,179,648 / 98,304 = 12 at most, so 3
  // batches, spread evenly as 11 rows each
  assert.equal(batchRows(33, 64, minilm), 11);
  // 32 tokens: 49,152 floats a row, at most 24 a batch → 2 batches of 17 (one row repeated)
  assert.equal(batchRows(33, 32, minilm), 17);
  // the bench's before: one batch of every row
  assert.equal(batchRows(33, 64, minilm, undefined, true), 33);
  // 512 tokens: 786,432 floats a row, one row a batch
  assert.equal(batchRows(33, 512, minilm), 1);
  // a narrow model keeps every row in one batch: width 172 at 64 tokens (stories260K) is 11,008 floats a row
  assert.equal(batchRows(33, 64, { layers: 5, heads: 8, hidden: 64, intermediate: 172 }), 33);
  // the attention budget still caps it
  assert.equal(batchRows(33, 8, { layers: 5, heads: 8, hidden: 64, intermediate: 172 }, 5 * 8 * 64 * 4), 4);
});
