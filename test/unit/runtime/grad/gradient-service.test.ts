// The gradient service (what the worker answers gradient requests with): points on an Integrated Gradients path in
// batches of a few rows (the last batch padded) give the same targets and gradients as one row at a time; the pad
// baseline is the pad token's embedding except where the input's is kept; points read for their value alone (IG's
// f(baseline)) neither return nor check a gradient; requests over the token limit stop; an input padded to its graph's
// length (a multiple of 8) gives what a graph of its exact length gives, and lengths up to it share that graph.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readModel } from '../../../../runtime/models/read-model';
import { batchRows, evenChunk, GradientService, graphLength } from '../../../../runtime/grad/gradient-service';
import { isLensError } from '../../../../runtime/errors';
import { fixtureModel, miniLmDir } from '../../../helpers/fixtures';
import { relativeError } from '../../../helpers/relative-error';

const ids = [1, 403, 407, 261, 378, 1];
const target = { measure: 'log-prob' as const, readout: 5, token: 3 };

test('batched path points equal one-row runs; the last batch is padded; the baseline keeps what it is told', async () => {
  const source = await readModel(fixtureModel('stories260K'));
  const P = graphLength(ids.length, source.config.maxPositions); // 6 tokens run in a graph of 8
  const perRow = source.config.layers * source.config.heads * P * P;
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

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-grad-service-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('a point read for its value alone returns no gradient, so one past float32 at the zero embedding stops nothing', async () => {
  // stories260K with rms_norm_eps 1e-30: at the zero embedding every hidden state is 0 (no biases: the norms, q, k,
  // v, attention's output and SiLU's product all give 0), so each RMSNorm's gradient is its weight over √ε = 1e15 —
  // eleven of them in a row overflow float32 — while the logits are all 0 and log p of any token is −ln 512.
  const dir = path.join(tmp, 'stories-eps');
  fs.cpSync(fixtureModel('stories260K'), dir, { recursive: true });
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, rms_norm_eps: 1e-30 }));
  const source = await readModel(dir);
  const service = new GradientService(source, 'native', 1);
  try {
    const alphas = [0.125, 0.375, 0.625, 0.875, 0];
    const S = ids.length;
    const r = await service.compute({ ids, target, alphas, valueOnly: 1, baseline: 'zero' });
    const E = r.hidden;
    assert.equal(r.target.length, 5);
    assert.ok(Math.abs(r.target[4] + Math.log(512)) <= 1e-5 * Math.log(512), `f(baseline) = ${r.target[4]}`);
    assert.equal(r.grad.length, 4 * S * E);
    assert.ok(r.grad.every(Number.isFinite));
    // The rows keep their places: row 0 is the gradient at α = 0.125 asked for alone.
    const one = await service.compute({ ids, target, alphas: [0.125], baseline: 'zero' });
    let d = 0;
    let n = 0;
    one.grad.forEach((v, i) => ((d += (v - r.grad[i]) ** 2), (n += v ** 2)));
    assert.ok(Math.sqrt(d / n) <= 1e-5, `row 0 differs by ${Math.sqrt(d / n)}`);
    // In batches of two the last batch holds value-only points alone (f(x) at α = 1 and f(baseline)).
    const perRow = source.config.layers * source.config.heads * S * S;
    const pairs = new GradientService(source, 'native', 1, 2 * perRow);
    try {
      const p = await pairs.compute({
        ids,
        target,
        alphas: [0.125, 0.375, 0.625, 1, 0],
        valueOnly: 2,
        baseline: 'zero',
      });
      assert.equal(p.grad.length, 3 * S * E);
      assert.ok(Math.abs(p.target[4] - r.target[4]) <= 1e-6 * Math.log(512));
      let dd = 0;
      let nn = 0;
      p.grad.forEach((v, i) => ((dd += (v - r.grad[i]) ** 2), (nn += r.grad[i] ** 2)));
      assert.ok(Math.sqrt(dd / nn) <= 1e-5, `batched rows differ by ${Math.sqrt(dd / nn)}`);
    } finally {
      await pairs.release();
    }
    // Asked for its gradient too, the zero embedding's stops in one line that says why.
    await assert.rejects(
      service.compute({ ids, target, alphas, baseline: 'zero' }),
      (e: unknown) =>
        isLensError(e) &&
        e.code === 'NON_FINITE' &&
        /explained value is finite/.test(e.message) &&
        /float32/.test(e.message),
    );
  } finally {
    await service.release();
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
  // a deep model is held by the memory budget: SmolLM2-135M's 30 layers × 64 × 1536 = 2,949,120 floats a row;
  // 16,777,216 / 2,949,120 = 5.7 → at most 5 a batch (the cache's 12 would keep 1.1 GB more), 7 batches of 5
  assert.equal(batchRows(33, 64, { layers: 30, heads: 9, hidden: 576, intermediate: 1536 }), 5);
  // a narrow model keeps every row in one batch: width 172 at 64 tokens (stories260K) is 11,008 floats a row
  assert.equal(batchRows(33, 64, { layers: 5, heads: 8, hidden: 64, intermediate: 172 }), 33);
  // the attention budget still caps it
  assert.equal(batchRows(33, 8, { layers: 5, heads: 8, hidden: 64, intermediate: 172 }, 5 * 8 * 64 * 4), 4);
});

for (const [name, dir, make] of [
  [
    'stories260K (causal)',
    () => fixtureModel('stories260K'),
    (len: number) => ({
      ids: [1, 403, 407, 261, 378, 1, 300, 290, 311, 402, 288].slice(0, len),
      target: { measure: 'log-prob' as const, readout: len - 2, token: 3 },
    }),
  ],
  [
    'all-MiniLM-L6-v2 (bidirectional: the padding bias kept)',
    miniLmDir,
    (len: number) => ({
      ids: [101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 2009, 2001, 102].slice(0, len),
      target: { measure: 'cosine' as const, reference: Array.from({ length: 384 }, (_, i) => Math.sin(i)) },
    }),
  ],
] as const)
  test(`${name}: padded inputs equal exact-length graphs (IG path, attention and its gradient); 9–11 tokens share one graph`, async () => {
    const source = await readModel(dir());
    const padded = new GradientService(source, 'native', 1);
    const exact = new GradientService(source, 'native', 1, undefined, { exactLengths: true });
    try {
      for (const len of [9, 10, 11]) {
        const req = { ...make(len), alphas: [0.3, 0.6, 1], attention: true };
        const a = await padded.compute(req);
        const b = await exact.compute(req);
        a.target.forEach((v, i) =>
          assert.ok(
            Math.abs(v - b.target[i]) <= 1e-5 * Math.abs(b.target[i]),
            `${len} tokens: target ${i}: ${v} vs ${b.target[i]}`,
          ),
        );
        assert.equal(a.grad.length, b.grad.length, 'the gradients of the real tokens only');
        assert.ok(
          relativeError(a.grad, b.grad) <= 1e-5,
          `${len} tokens: gradients differ by ${relativeError(a.grad, b.grad)}`,
        );
        const H = source.config.heads;
        for (let l = 0; l < source.config.layers; l++) {
          assert.equal(a.attention![l].length, H * len * len, `layer ${l}: [H,S,S]`);
          assert.ok(relativeError(a.attention![l], b.attention![l]) <= 1e-5, `${len} tokens, layer ${l}: attention`);
          assert.ok(
            relativeError(a.attentionGrad![l], b.attentionGrad![l]) <= 1e-4,
            `${len} tokens, layer ${l}: its gradient`,
          );
        }
      }
      assert.equal(padded.graphsBuilt, 1, 'one graph of 16 tokens for 9, 10 and 11');
      assert.equal(exact.graphsBuilt, 3, 'one graph per exact length');
    } finally {
      await padded.release();
      await exact.release();
    }
  });

test('the graph length: the next multiple of 8, within the model and the gradient limit', () => {
  assert.equal(graphLength(1, 512), 8);
  assert.equal(graphLength(8, 512), 8);
  assert.equal(graphLength(9, 512), 16);
  assert.equal(graphLength(509, 4096), 512);
  assert.equal(graphLength(509, 510), 510); // no position past the model's
  assert.equal(graphLength(300, 256), 300); // past the model already: not shortened (the run says so)
});
