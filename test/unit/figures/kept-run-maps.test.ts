// KeptRunMaps (a run kept for long inputs: q, k and summaries, no maps) against MemoryRunMaps over the dense maps of
// the same input from the independent reference forward pass (test/reference/run-plan.ts): every value, row,
// column and exact tile equal within float32 rounding, and the overview's block max equals pooling the dense map
// over 64-aligned bins — on stories260K (causal) and hf-tiny mistral (causal with a sliding window of 8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeptRun } from '../../../runtime/attention/kept-run';
import { POOL } from '../../../runtime/models/attention-summaries';
import { buildPlan, readModel, type ModelSource } from '../../../runtime/models/read-model';
import type { Batch } from '../../../runtime/models/plan';
import { KeptRunMaps } from '../../../figures/kept-run-maps';
import { MemoryRunMaps, type HeadChoice } from '../../../figures/run-maps';
import { runPlan } from '../../reference/run-plan';
import { fixtureModel, hfTinyModel } from '../../helpers/fixtures';

const TOL = 1e-5;

function close(a: ArrayLike<number>, b: ArrayLike<number>, where: string): void {
  assert.equal(a.length, b.length, where);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(worst <= TOL, `${where}: max difference ${worst}`);
}

async function check(label: string, source: ModelSource, n: number) {
  const plan = buildPlan(source);
  let x = 11;
  const ids = Array.from({ length: n }, () => 3 + ((x = (x * 48271) % 2147483647) % (source.config.vocabSize - 3)));
  const batch: Batch = { ids: [ids], mask: [Array(n).fill(1)] };
  const run = await runPlan(plan, batch, 'native');
  const { heads, layers } = plan.facts;
  const kept = new KeptRun(plan.facts, { topK: 3, specials: [0], block: POOL });
  const tokens = ids.map((i) => ({ text: String(i) }));
  const windows = plan.facts.slidingWindows ?? [];
  const dense = new MemoryRunMaps('m', tokens, layers, heads, windows);
  for (let l = 0; l < layers; l++) {
    const attention = { layer: l, kind: plan.facts.attentionKinds[l], heads, queryLength: n, keyLength: n };
    kept.add({ ...attention, data: run.attn[l] }, run.q[l], run.k[l]);
    dense.add({ ...attention, data: run.attn[l] });
  }
  // A small exact limit so that the whole matrix is drawn from the overview and a 40 × 30 window exactly.
  const maps = new KeptRunMaps('m', tokens, kept, 40 * 30 * heads);
  const all = { start: 0, end: n };
  for (let l = 0; l < layers; l++) {
    assert.deepEqual(maps.shape(l), dense.shape(l), `${label} layer ${l} shape`);
    for (const head of [...Array.from({ length: heads }, (_, h): HeadChoice => h), 'mean', 'max'] as HeadChoice[]) {
      const where = `${label} layer ${l} head ${head}`;
      for (const i of [0, 1, Math.floor(n / 2), n - 1])
        close(maps.row(l, head, i), dense.row(l, head, i), `${where} row ${i}`);
      for (const j of [0, 7, n - 1]) close(maps.column(l, head, j), dense.column(l, head, j), `${where} column ${j}`);
      for (const [i, j] of [
        [5, 3],
        [n - 1, n - 2],
        [n - 1, 0],
        [2, 9],
      ])
        assert.ok(Math.abs(maps.value(l, head, i, j) - dense.value(l, head, i, j)) <= TOL, `${where} value ${i},${j}`);
      const rows = { start: 50, end: 90 };
      const cols = { start: 20, end: 50 };
      for (const reduce of ['max', 'mean'] as const) {
        const a = maps.tile(l, head, rows, cols, 7, 5, reduce);
        const b = dense.tile(l, head, rows, cols, 7, 5, reduce);
        close(a.values, b.values, `${where} exact tile (${reduce})`);
        assert.deepEqual(a.masked, b.masked, `${where} exact tile's masked cells`);
      }
      if (head !== 'mean') {
        // The overview over 64-aligned bins: block max is the max of those entries.
        const aligned = { start: 0, end: 2 * POOL };
        const a = maps.tile(l, head, aligned, aligned, 2, 2);
        const b = dense.tile(l, head, aligned, aligned, 2, 2);
        close(a.values, b.values, `${where} overview`);
        assert.deepEqual(a.masked, b.masked, `${where} overview's masked cells`);
        assert.ok(Math.abs(maps.maximum(l, head) - dense.maximum(l, head)) <= TOL, `${where} maximum`);
        // The whole matrix's overview bins are not 64-aligned: each cell is at least the dense pooled max.
        const whole = maps.tile(l, head, all, all, 3, 3).values;
        dense
          .tile(l, head, all, all, 3, 3)
          .values.forEach((v, c) => assert.ok(whole[c] >= v - TOL, `${where} cell ${c}`));
      }
    }
  }
}

test("stories260K: KeptRunMaps gives the dense maps' values, rows, columns, tiles and overview", async () => {
  await check('stories260K', await readModel(fixtureModel('stories260K')), 150);
});

test("hf-tiny mistral (sliding window 8): KeptRunMaps gives the dense maps' values, rows, columns, tiles and overview", async () => {
  await check('mistral', await readModel(hfTinyModel('mistral')), 140);
});
