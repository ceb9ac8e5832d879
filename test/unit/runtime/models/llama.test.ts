// The llama family on stories260K (a real trained Llama 2 with grouped-query attention): attention equals the
// independent numpy reference (reference_attention.json) on both backends, rows sum to 1, the causal upper triangle is
// exactly 0, hidden states and logits equal the independent naive forward pass, and right padding changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildFullGraph, buildPlan, readModel } from '../../../../runtime/models/read-model';
import { naiveForward } from '../../../reference/naive-forward';
import { maxAbsDiff, row, runFull, runPlan } from '../../../reference/run-plan';
import { fixtureModel } from '../../../helpers/fixtures';

interface Reference {
  input_ids: number[];
  shape: number[];
  /** [layer][head][query][key] */
  attn: number[][][][];
}

const dir = fixtureModel('stories260K');
const ref: Reference = JSON.parse(fs.readFileSync(path.join(dir, 'reference_attention.json'), 'utf8'));
const ids = ref.input_ids;
const S = ids.length;

for (const backend of ['native', 'wasm'] as const) {
  test(`stories260K attention equals reference_attention.json (${backend})`, async () => {
    const plan = buildPlan(await readModel(dir));
    assert.equal(plan.facts.heads, 8);
    assert.equal(plan.facts.kvHeads, 4);
    assert.deepEqual(ref.shape, [plan.facts.layers, plan.facts.heads, S, S]);
    const out = await runPlan(plan, { ids: [ids], mask: [ids.map(() => 1)] }, backend);
    assert.equal(out.attn.length, 5);
    for (let l = 0; l < 5; l++) {
      const a = out.attn[l]; // [1,H,S,S]
      assert.ok(
        maxAbsDiff(a, ref.attn[l].flat(2)) <= 1e-5,
        `layer ${l}: max diff ${maxAbsDiff(a, ref.attn[l].flat(2))}`,
      );
      for (let h = 0; h < 8; h++) {
        for (let i = 0; i < S; i++) {
          let sum = 0;
          for (let j = 0; j < S; j++) {
            const p = a[(h * S + i) * S + j];
            sum += p;
            if (j > i)
              assert.ok(p === 0, `layer ${l} head ${h}: entry (${i}, ${j}) above the diagonal is ${p}, not exactly 0`);
          }
          assert.ok(Math.abs(sum - 1) <= 1e-5, `layer ${l} head ${h} row ${i} sums to ${sum}`);
        }
      }
    }
  });
}

test('stories260K hidden state and logits equal the naive forward pass; q/k reproduce the attention', async () => {
  const plan = buildPlan(await readModel(dir));
  const out = await runPlan(plan, { ids: [ids], mask: [ids.map(() => 1)] }, 'native');
  const naive = naiveForward(dir, ids);
  assert.ok(
    maxAbsDiff(out.lastHidden, naive.lastHidden) <= 1e-4,
    `last hidden: ${maxAbsDiff(out.lastHidden, naive.lastHidden)}`,
  );
  assert.ok(maxAbsDiff(out.logits!, naive.logits!) <= 1e-4, `logits: ${maxAbsDiff(out.logits!, naive.logits!)}`);
  naive.attention.forEach((a, l) => assert.ok(maxAbsDiff(out.attn[l], a) <= 1e-5, `layer ${l}`));
  // softmax(q·kᵀ/√D + causal mask) recomputed here from the q and k outputs ([1,H,S,D]) gives back attn.
  const D = plan.facts.headDim;
  const q = out.q[2];
  const k = out.k[2];
  const recomputed = new Float32Array(8 * S * S);
  for (let h = 0; h < 8; h++) {
    for (let i = 0; i < S; i++) {
      const scores: number[] = [];
      for (let j = 0; j <= i; j++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[(h * S + i) * D + d] * k[(h * S + j) * D + d];
        scores.push(dot / Math.sqrt(D));
      }
      const m = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - m));
      const z = e.reduce((x, y) => x + y, 0);
      e.forEach((v, j) => (recomputed[(h * S + i) * S + j] = v / z));
    }
  }
  assert.ok(maxAbsDiff(recomputed, out.attn[2]) <= 1e-5);
  // Grouped-query: heads 2h and 2h+1 share kv head h, so their k are identical.
  assert.deepEqual(row(k, 0, S * D), row(k, 1, S * D));
});

test('stories260K right padding: the shorter row equals running it alone, padded keys are exactly 0', async () => {
  const plan = buildPlan(await readModel(dir));
  const short = ids.slice(0, 9);
  const padded = [...short, ...Array(S - 9).fill(0)];
  const out = await runPlan(
    plan,
    { ids: [ids, padded], mask: [ids.map(() => 1), padded.map((_, i) => (i < 9 ? 1 : 0))] },
    'native',
  );
  const alone = naiveForward(dir, short);
  for (let l = 0; l < 5; l++) {
    const a = row(out.attn[l], 1, 8 * S * S); // [H,S,S]
    for (let h = 0; h < 8; h++)
      for (let i = 0; i < S; i++)
        for (let j = 0; j < S; j++) {
          const p = a[(h * S + i) * S + j];
          if (j >= 9) assert.ok(p === 0, `padded key ${j} got ${p}`);
          else if (i < 9) assert.ok(Math.abs(p - alone.attention[l][(h * 9 + i) * 9 + j]) <= 1e-5);
        }
    assert.ok(maxAbsDiff(row(out.attn[l], 0, 8 * S * S), ref.attn[l].flat(2)) <= 1e-5);
  }
});

test('stories260K full graph equals the staged plan', async () => {
  const source = await readModel(dir);
  const plan = buildPlan(source);
  const full = buildFullGraph(source, { attentionOutputs: true });
  assert.deepEqual(full.inputNames, ['input_ids', 'position_ids', 'attn_bias', 'rope_cos', 'rope_sin']);
  assert.deepEqual(full.outputNames, ['last_hidden', 'logits', 'attn_0', 'attn_1', 'attn_2', 'attn_3', 'attn_4']);
  const batch = { ids: [ids], mask: [ids.map(() => 1)] };
  const staged = await runPlan(plan, batch, 'native');
  const f = await runFull(full, plan, batch, 'native');
  for (let l = 0; l < 5; l++) assert.ok(maxAbsDiff(f[`attn_${l}`], staged.attn[l]) <= 1e-6);
  assert.ok(maxAbsDiff(f.logits, staged.logits!) <= 1e-5);
  const bare = buildFullGraph(source, { attentionOutputs: false });
  assert.deepEqual(bare.outputNames, ['last_hidden', 'logits']);
  // Without the LM head (the benches' raw baseline: onnxruntime computes every node even unfetched): the same hidden.
  const noHead = buildFullGraph(source, { attentionOutputs: false, logits: false });
  assert.deepEqual(noHead.outputNames, ['last_hidden']);
  const h = await runFull(noHead, plan, batch, 'native');
  assert.deepEqual(Object.keys(h), ['last_hidden']);
  assert.ok(maxAbsDiff(h.last_hidden, f.last_hidden) <= 1e-6);
});
