// The bert family on all-MiniLM-L6-v2 (a real 6 × 12 BERT): attention and hidden states equal the independent naive
// forward pass on both backends, padding leaves a shorter row unchanged with exact zeros at padded keys, the full
// graph equals the staged plan, and the mean-pooled sentence embeddings have real semantic structure.
// Token ids are written by hand from test/fixtures/tokenizers/all-MiniLM-L6-v2/vocab.txt (id = 0-based line number),
// lowercased WordPiece: [CLS]=101, [SEP]=102, [PAD]=0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFullGraph, buildPlan, readModel } from '../../../../runtime/models/read-model';
import { naiveForward } from '../../../reference/naive-forward';
import { maxAbsDiff, row, runFull, runPlan } from '../../../reference/run-plan';
import { miniLmDir } from '../../../helpers/fixtures';

const dir = miniLmDir();
// [CLS] the cat sat on the mat . [SEP]
const catSat = [101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 102];
// [CLS] a cat was sitting on a mat . [SEP]
const catSitting = [101, 1037, 4937, 2001, 3564, 2006, 1037, 13523, 1012, 102];
// [CLS] stock markets fell sharply today . [SEP]
const stocks = [101, 4518, 6089, 3062, 9249, 2651, 1012, 102];
const H = 12;
const E = 384;

for (const backend of ['native', 'wasm'] as const) {
  test(`all-MiniLM-L6-v2 equals the naive forward pass (${backend})`, async () => {
    const plan = buildPlan(await readModel(dir));
    assert.deepEqual(
      [
        plan.facts.family,
        plan.facts.layers,
        plan.facts.heads,
        plan.facts.headDim,
        plan.facts.hasLmHead,
        plan.facts.maxPositions,
      ],
      ['bert', 6, 12, 32, false, 512],
    );
    const out = await runPlan(plan, { ids: [catSat], mask: [catSat.map(() => 1)] }, backend);
    const naive = naiveForward(dir, catSat);
    const S = catSat.length;
    for (let l = 0; l < 6; l++) {
      assert.ok(
        maxAbsDiff(out.attn[l], naive.attention[l]) <= 1e-5,
        `layer ${l}: ${maxAbsDiff(out.attn[l], naive.attention[l])}`,
      );
      for (let r = 0; r < H * S; r++) {
        const sum = out.attn[l].subarray(r * S, (r + 1) * S).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) <= 1e-5);
      }
    }
    assert.ok(
      maxAbsDiff(out.lastHidden, naive.lastHidden) <= 1e-4,
      `last hidden ${maxAbsDiff(out.lastHidden, naive.lastHidden)}`,
    );
  });
}

test('all-MiniLM-L6-v2 padding: the shorter row equals running it alone; padded keys are exactly 0', async () => {
  const plan = buildPlan(await readModel(dir));
  const S = catSitting.length;
  const n = catSat.length;
  const padded = [...catSat, ...Array(S - n).fill(0)];
  const mask = padded.map((_, i) => (i < n ? 1 : 0));
  const out = await runPlan(plan, { ids: [catSitting, padded], mask: [catSitting.map(() => 1), mask] }, 'native');
  const alone = naiveForward(dir, catSat);
  for (let l = 0; l < 6; l++) {
    const a = row(out.attn[l], 1, H * S * S);
    for (let h = 0; h < H; h++)
      for (let i = 0; i < S; i++)
        for (let j = 0; j < S; j++) {
          const p = a[(h * S + i) * S + j];
          if (j >= n) assert.ok(p === 0, `padded key ${j}: ${p}`);
          else if (i < n) assert.ok(Math.abs(p - alone.attention[l][(h * n + i) * n + j]) <= 1e-5);
        }
  }
  const hidden = row(out.lastHidden, 1, S * E).subarray(0, n * E);
  assert.ok(maxAbsDiff(hidden, alone.lastHidden) <= 1e-4);
});

test('all-MiniLM-L6-v2 full graph equals the staged plan', async () => {
  const source = await readModel(dir);
  const plan = buildPlan(source);
  const full = buildFullGraph(source, { attentionOutputs: true });
  assert.deepEqual(full.inputNames, ['input_ids', 'position_ids', 'token_type_ids', 'attn_bias']);
  assert.equal(full.outputNames.length, 7);
  const batch = { ids: [catSat], mask: [catSat.map(() => 1)] };
  const staged = await runPlan(plan, batch, 'native');
  const f = await runFull(full, plan, batch, 'native');
  for (let l = 0; l < 6; l++) assert.ok(maxAbsDiff(f[`attn_${l}`], staged.attn[l]) <= 1e-6);
  assert.ok(maxAbsDiff(f.last_hidden, staged.lastHidden) <= 1e-5);
});

test('all-MiniLM-L6-v2 sentence embeddings: similar sentences are close, unrelated ones are not', async () => {
  const plan = buildPlan(await readModel(dir));
  const S = Math.max(catSat.length, catSitting.length, stocks.length);
  const rows = [catSat, catSitting, stocks];
  const ids = rows.map((r) => [...r, ...Array(S - r.length).fill(0)]);
  const mask = rows.map((r) => ids[0].map((_, i) => (i < r.length ? 1 : 0)));
  const out = await runPlan(plan, { ids, mask }, 'native');
  // Mask-weighted mean of last_hidden, then L2 normalisation (sentence-transformers' pooling for this model).
  const emb = rows.map((r, b) => {
    const v = new Float64Array(E);
    for (let s = 0; s < r.length; s++)
      for (let e = 0; e < E; e++) v[e] += out.lastHidden[(b * S + s) * E + e] / r.length;
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
  const cos = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + x * b[i], 0);
  assert.ok(cos(emb[0], emb[1]) > 0.5, `cos(cat sat, cat sitting) = ${cos(emb[0], emb[1])}`);
  assert.ok(cos(emb[0], emb[2]) < 0.3, `cos(cat sat, stocks) = ${cos(emb[0], emb[2])}`);
});
