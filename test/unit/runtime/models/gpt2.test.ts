// The gpt2 family on tiny-gpt2 (real GPT-2 weight layout: Conv1D [in, out], fused c_attn, tied lm_head): attention,
// hidden state and logits equal the independent naive forward pass, causal entries are exactly 0, right padding
// leaves the shorter row unchanged, and the full graph equals the staged plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFullGraph, buildPlan, readModel } from '../../../../runtime/models/read-model';
import { naiveForward } from '../../../reference/naive-forward';
import { maxAbsDiff, row, runFull, runPlan } from '../../../reference/run-plan';
import { fixtureModel } from '../../../helpers/fixtures';

const dir = fixtureModel('tiny-gpt2');
// "The quick brown fox jumps over the lazy dogs." with the GPT-2 tokenizer (ids given in the project's issue).
const ids = [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 6844, 13];
const S = ids.length;
const H = 2;

for (const backend of ['native', 'wasm'] as const) {
  test(`tiny-gpt2 equals the naive forward pass (${backend})`, async () => {
    const plan = buildPlan(await readModel(dir));
    assert.deepEqual(
      [plan.facts.family, plan.facts.layers, plan.facts.heads, plan.facts.headDim, plan.facts.hasLmHead],
      ['gpt2', 2, 2, 1, true],
    );
    assert.deepEqual(plan.facts.attentionKinds, ['causal', 'causal']);
    const out = await runPlan(plan, { ids: [ids], mask: [ids.map(() => 1)] }, backend);
    const naive = naiveForward(dir, ids);
    for (let l = 0; l < 2; l++) {
      assert.ok(
        maxAbsDiff(out.attn[l], naive.attention[l]) <= 1e-5,
        `layer ${l}: ${maxAbsDiff(out.attn[l], naive.attention[l])}`,
      );
      for (let h = 0; h < H; h++)
        for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) assert.ok(out.attn[l][(h * S + i) * S + j] === 0);
    }
    assert.ok(maxAbsDiff(out.lastHidden, naive.lastHidden) <= 1e-5);
    assert.ok(maxAbsDiff(out.logits!, naive.logits!) <= 1e-5, `logits ${maxAbsDiff(out.logits!, naive.logits!)}`);
  });
}

test('tiny-gpt2 right padding: the shorter row equals running it alone; padded keys are exactly 0', async () => {
  const plan = buildPlan(await readModel(dir));
  const n = 6;
  const padded = [...ids.slice(0, n), ...Array(S - n).fill(50256)];
  const mask = padded.map((_, i) => (i < n ? 1 : 0));
  const out = await runPlan(plan, { ids: [ids, padded], mask: [ids.map(() => 1), mask] }, 'native');
  const alone = await runPlan(plan, { ids: [ids.slice(0, n)], mask: [mask.slice(0, n)] }, 'native');
  for (let l = 0; l < 2; l++) {
    const a = row(out.attn[l], 1, H * S * S);
    for (let h = 0; h < H; h++)
      for (let i = 0; i < S; i++)
        for (let j = 0; j < S; j++) {
          const p = a[(h * S + i) * S + j];
          if (j >= n) assert.ok(p === 0, `padded key ${j}: ${p}`);
          else if (i < n) assert.ok(Math.abs(p - alone.attn[l][(h * n + i) * n + j]) <= 1e-5);
        }
  }
});

test('tiny-gpt2 full graph equals the staged plan', async () => {
  const source = await readModel(dir);
  const plan = buildPlan(source);
  const full = buildFullGraph(source, { attentionOutputs: true });
  assert.deepEqual(full.inputNames, ['input_ids', 'position_ids', 'attn_bias']);
  const batch = { ids: [ids], mask: [ids.map(() => 1)] };
  const staged = await runPlan(plan, batch, 'native');
  const f = await runFull(full, plan, batch, 'native');
  for (let l = 0; l < 2; l++) assert.ok(maxAbsDiff(f[`attn_${l}`], staged.attn[l]) <= 1e-6);
  assert.ok(maxAbsDiff(f.last_hidden, staged.lastHidden) <= 1e-6);
  assert.ok(maxAbsDiff(f.logits, staged.logits!) <= 1e-6);
});
