// Which layers share a stage (family.ts layerGroups) and what a multi-layer stage's outputs are called (plan.ts
// layerOutputs), on the real test models' plans: narrow models stream layer 0 alone and then the rest together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layerGroups } from '../../../../runtime/models/family';
import { layerOutputs } from '../../../../runtime/models/plan';
import { buildPlan, readModel } from '../../../../runtime/models/read-model';
import { syntheticBert } from '../../../../runtime/models/synthetic';
import { fixtureModel } from '../../../helpers/fixtures';

test('layerGroups: narrow models split after layer 0, wide ones four layers a stage after layer 0, two layers never grouped', () => {
  assert.deepEqual(layerGroups(6, 384), [[0], [1, 2, 3, 4, 5]]);
  assert.deepEqual(layerGroups(5, 64), [[0], [1, 2, 3, 4]]);
  assert.deepEqual(layerGroups(2, 64), [[0], [1]]);
  assert.deepEqual(layerGroups(1, 64), [[0]]);
  assert.deepEqual(layerGroups(3, 768), [[0], [1, 2]]);
  assert.deepEqual(layerGroups(3, 512), [[0], [1, 2]]);
  assert.deepEqual(layerGroups(2, 768), [[0], [1]]);
  assert.deepEqual(layerGroups(12, 768), [[0], [1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11]]);
  assert.deepEqual(
    layerGroups(30, 576).map((g) => g.length),
    [1, 4, 4, 4, 4, 4, 4, 4, 1],
  );
  assert.deepEqual(
    layerGroups(30, 576).flat(),
    Array.from({ length: 30 }, (_, l) => l),
  );
  assert.deepEqual(layerGroups(3, 511), [[0], [1, 2]]);
});

test('layerOutputs: plain names for one layer, suffixed names for several', () => {
  assert.deepEqual(layerOutputs({ layer: 4 }), [
    {
      layer: 4,
      attn: 'attn',
      q: 'q',
      k: 'k',
      v: 'v',
      valueGram: 'value_gram',
      mixVectors: 'mix_vectors',
      mixResid: 'mix_resid',
      mixSum: 'mix_sum',
      mixNorm: 'mix_norm',
    },
  ]);
  assert.deepEqual(
    layerOutputs({ layer: 1, layers: [1, 2] }).map((n) => [n.layer, n.attn, n.q, n.valueGram, n.mixResid]),
    [
      [1, 'attn_1', 'q_1', 'value_gram_1', 'mix_resid_1'],
      [2, 'attn_2', 'q_2', 'value_gram_2', 'mix_resid_2'],
    ],
  );
});

test('stories260K plan: layer 0 with the embeddings, layers 1-4 together with the final norm, then the head', async () => {
  const plan = buildPlan(await readModel(fixtureModel('stories260K')));
  assert.deepEqual(
    plan.stages.map((s) => [s.role, s.layers ?? [s.layer]]),
    [
      ['layer', [0]],
      ['layer', [1, 2, 3, 4]],
      ['head', [undefined]],
    ],
  );
  assert.ok(plan.stages[0].inputNames.includes('input_ids'), 'layer 0 embeds the ids');
  assert.deepEqual(plan.stages[1].outputNames, ['hidden_out', 'attn_1', 'attn_2', 'attn_3', 'attn_4', 'last_hidden']);
});

test('a 768-wide model: layer 0 alone, then its later layers four to a stage', () => {
  const spec = { layers: 6, hidden: 768, heads: 12, intermediate: 64, vocab: 50, maxPositions: 16, seed: 1 };
  const plan = buildPlan(syntheticBert(spec));
  assert.deepEqual(
    plan.stages.map((s) => s.outputNames),
    [
      ['hidden_out', 'attn'],
      ['hidden_out', 'attn_1', 'attn_2', 'attn_3', 'attn_4'],
      ['hidden_out', 'attn', 'last_hidden'],
      ['last_hidden'],
    ],
  );
});
