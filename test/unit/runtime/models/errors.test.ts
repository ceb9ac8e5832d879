// Loading errors and the smaller pieces of the model builders: SHAPE_MISMATCH on a corrupted copy of tiny-gpt2,
// UNSUPPORTED_MODEL, MODEL_NOT_FOUND, feed validation, hand-computed roberta positions / RoPE tables / masks, and
// the synthetic BERT and a renamed distilbert checked against the naive forward pass through safetensors files.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isLensError } from '../../../../runtime/errors';
import { normaliseConfig } from '../../../../runtime/formats/config';
import { memoryWeights } from '../../../../runtime/formats/safetensors';
import { attentionBias, positionIds } from '../../../../runtime/models/feeds';
import { ropeTables } from '../../../../runtime/models/rope';
import { buildPlan, readModel } from '../../../../runtime/models/read-model';
import { syntheticBert } from '../../../../runtime/models/synthetic';
import { naiveForward } from '../../../reference/naive-forward';
import { maxAbsDiff, runPlan } from '../../../reference/run-plan';
import { fixtureModel } from '../../../helpers/fixtures';
import { writeSafetensors } from '../../../helpers/safetensors-writer';

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-models-'));
  made.push(dir);
  return dir;
}

const lensError = (code: string, pattern: RegExp) => (e: unknown) => {
  assert.ok(isLensError(e), String(e));
  assert.equal(e.code, code, e.message);
  assert.match(e.message, pattern);
  return true;
};

test('SHAPE_MISMATCH names the tensor, the expected and the found shape (corrupted copy of tiny-gpt2)', async () => {
  const src = fixtureModel('tiny-gpt2');
  const dir = tempDir();
  fs.copyFileSync(path.join(src, 'config.json'), path.join(dir, 'config.json'));
  // Same bytes, header edited: c_attn.weight [2, 6] declared as [6, 2].
  const bytes = fs.readFileSync(path.join(src, 'model.safetensors'));
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  assert.deepEqual(header['transformer.h.1.attn.c_attn.weight'].shape, [2, 6]);
  header['transformer.h.1.attn.c_attn.weight'].shape = [6, 2];
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(path.join(dir, 'model.safetensors'), Buffer.concat([len, json, bytes.subarray(8 + n)]));
  const source = await readModel(dir);
  assert.throws(
    () => buildPlan(source),
    lensError(
      'SHAPE_MISMATCH',
      /transformer\.h\.1\.attn\.c_attn\.weight has shape \[6, 2\] but the config expects \[2, 6\]/,
    ),
  );
});

test('a missing weight or a checkpoint of another family is SHAPE_MISMATCH', () => {
  const config = normaliseConfig({
    model_type: 'gpt2',
    n_embd: 2,
    n_layer: 1,
    n_head: 1,
    n_positions: 4,
    vocab_size: 3,
  });
  const t = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
  assert.throws(
    () => buildPlan({ config, weights: memoryWeights({ 'model.embed_tokens.weight': t([3, 2]) }) }),
    lensError('SHAPE_MISMATCH', /not a gpt2 checkpoint: no tensor wte\.weight/),
  );
  assert.throws(
    () => buildPlan({ config, weights: memoryWeights({ 'wte.weight': t([3, 2]), 'wpe.weight': t([4, 2]) }) }),
    lensError('SHAPE_MISMATCH', /no tensor h\.0\.attn\.c_attn\.weight \(expected shape \[2, 6\]\)/),
  );
});

test('UNSUPPORTED_MODEL for model_type xlnet; MODEL_NOT_FOUND for a missing folder; NO_CONFIG without config.json', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'xlnet', d_model: 512 }));
  await assert.rejects(
    readModel(dir),
    lensError(
      'UNSUPPORTED_MODEL',
      /model_type "xlnet" is not supported; supported: .*bert.*llama.*marian, bart, mbart, t5/,
    ),
  );
  await assert.rejects(readModel(path.join(dir, 'nope')), lensError('MODEL_NOT_FOUND', /does not exist/));
  await assert.rejects(readModel(path.join(dir, 'config.json')), lensError('MODEL_NOT_FOUND', /not a folder/));
  await assert.rejects(readModel(tempDir()), lensError('NO_CONFIG', /config\.json/));
});

test('feeds reject bad batches and inputs longer than the positions allow', async () => {
  const plan = buildPlan(await readModel(fixtureModel('stories260K')));
  assert.throws(() => plan.feeds({ ids: [[1, 2]], mask: [[1]] }), lensError('BAD_INPUT', /Row 0/));
  assert.throws(() => plan.feeds({ ids: [[1, 600]], mask: [[1, 1]] }), lensError('BAD_INPUT', /600/));
  assert.throws(() => plan.feeds({ ids: [[]], mask: [[]] }), lensError('EMPTY_TEXT', /no tokens/));
  const long = Array(513).fill(1);
  assert.throws(() => plan.feeds({ ids: [long], mask: [long] }), lensError('TOO_LONG', /513 tokens.*at most 512/));
  const f = plan.feeds({ ids: [[1, 5, 9]], mask: [[1, 1, 1]] });
  assert.deepEqual(Object.keys(f.embed), ['input_ids', 'position_ids']);
  assert.deepEqual(Object.keys(f.layer), ['attn_bias', 'rope_cos', 'rope_sin']);
  assert.deepEqual(f.layer.rope_cos.dims, [1, 1, 3, 8]);
});

test('position ids: bert 0..S-1, roberta padding_idx + 1 + cumulative mask, decoders count real tokens', () => {
  const base = {
    hidden_size: 4,
    num_hidden_layers: 1,
    num_attention_heads: 1,
    intermediate_size: 4,
    vocab_size: 10,
    max_position_embeddings: 20,
  };
  const batch = {
    ids: [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ],
    mask: [
      [1, 1, 1, 0],
      [0, 1, 1, 1],
    ],
  };
  assert.deepEqual(positionIds(batch, normaliseConfig({ ...base, model_type: 'bert' })), [
    [0, 1, 2, 3],
    [0, 1, 2, 3],
  ]);
  // HF create_position_ids_from_input_ids: cumsum(mask) * mask + padding_idx (padding_idx = 1).
  assert.deepEqual(positionIds(batch, normaliseConfig({ ...base, model_type: 'roberta', pad_token_id: 1 })), [
    [2, 3, 4, 1],
    [1, 2, 3, 4],
  ]);
  assert.deepEqual(positionIds(batch, normaliseConfig({ ...base, model_type: 'llama' })), [
    [0, 1, 2, 1],
    [1, 0, 1, 2],
  ]);
});

test('attention bias: causal, padding and sliding window', () => {
  const M = -1e9;
  const b = attentionBias({ ids: [[0, 0, 0]], mask: [[1, 1, 0]] }, true, null);
  assert.deepEqual(b.dims, [1, 1, 3, 3]);
  assert.deepEqual([...b.data], [0, M, M, 0, 0, M, 0, 0, M].map(Math.fround));
  const enc = attentionBias({ ids: [[0, 0, 0]], mask: [[1, 1, 0]] }, false, null);
  assert.deepEqual([...enc.data], [0, 0, M, 0, 0, M, 0, 0, M].map(Math.fround));
  const win = attentionBias({ ids: [[0, 0, 0]], mask: [[1, 1, 1]] }, true, 2);
  assert.deepEqual([...win.data], [0, M, M, 0, 0, M, M, 0, 0].map(Math.fround));
});

test('RoPE tables: inv_freq = 1/θ^(2i/D), emb = cat(freqs, freqs)', () => {
  // D = 4, θ = 10000: inv_freq = [1, 1/100]; position 2 → angles [2, 0.02, 2, 0.02].
  const rope = normaliseConfig({
    model_type: 'llama',
    hidden_size: 8,
    num_attention_heads: 2,
    num_hidden_layers: 1,
    intermediate_size: 8,
    vocab_size: 10,
    max_position_embeddings: 16,
  }).rope!;
  const { cos, sin, dims } = ropeTables([[0, 2]], rope);
  assert.deepEqual(dims, [1, 1, 2, 4]);
  const f = Math.fround;
  assert.deepEqual([...cos], [1, 1, 1, 1, Math.cos(2), Math.cos(f(0.02)), Math.cos(2), Math.cos(f(0.02))].map(f));
  assert.deepEqual([...sin], [0, 0, 0, 0, Math.sin(2), Math.sin(f(0.02)), Math.sin(2), Math.sin(f(0.02))].map(f));
});

test('syntheticBert equals the naive pass over the same weights; a distilbert renaming gives the same attention', async () => {
  const options = { layers: 2, hidden: 16, heads: 4, intermediate: 32, vocab: 50, maxPositions: 24, seed: 7 };
  const source = syntheticBert(options);
  assert.equal(source.weights.shape('embeddings.word_embeddings.weight').join(), '50,16');
  // Same seed, same weights.
  assert.deepEqual(
    syntheticBert(options).weights.get('encoder.layer.1.output.dense.weight'),
    source.weights.get('encoder.layer.1.output.dense.weight'),
  );
  const names = source.weights.names();
  const tensors = Object.fromEntries(
    names.map((n) => [n, { shape: source.weights.shape(n), data: source.weights.get(n) }]),
  );
  // Zero token-type row 0, so that bert (token type 0) and distilbert (no token types) compute the same thing.
  tensors['embeddings.token_type_embeddings.weight'].data = new Float32Array(2 * 16);
  const dir = tempDir();
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  const bertConfig = {
    model_type: 'bert',
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 32,
    vocab_size: 50,
    max_position_embeddings: 24,
    type_vocab_size: 2,
    hidden_act: 'gelu',
    layer_norm_eps: 1e-12,
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(bertConfig));
  const ids = [3, 14, 15, 9, 26, 5];
  const naive = naiveForward(dir, ids);
  const bert = await runPlan(buildPlan(await readModel(dir)), { ids: [ids], mask: [ids.map(() => 1)] }, 'native');
  for (let l = 0; l < 2; l++) assert.ok(maxAbsDiff(bert.attn[l], naive.attention[l]) <= 1e-5);
  assert.ok(maxAbsDiff(bert.lastHidden, naive.lastHidden) <= 1e-4);

  const rename: Record<string, string> = {
    'attention.self.query': 'attention.q_lin',
    'attention.self.key': 'attention.k_lin',
    'attention.self.value': 'attention.v_lin',
    'attention.output.dense': 'attention.out_lin',
    'attention.output.LayerNorm': 'sa_layer_norm',
    'intermediate.dense': 'ffn.lin1',
    'output.dense': 'ffn.lin2',
    'output.LayerNorm': 'output_layer_norm',
  };
  const distil: typeof tensors = {};
  for (const [n, t] of Object.entries(tensors)) {
    if (n.startsWith('embeddings.token_type')) continue;
    const m = /^encoder\.layer\.(\d+)\.(.+)\.(weight|bias)$/.exec(n);
    distil['distilbert.' + (m ? `transformer.layer.${m[1]}.${rename[m[2]]}.${m[3]}` : n)] = t;
  }
  const ddir = tempDir();
  writeSafetensors(path.join(ddir, 'model.safetensors'), distil);
  fs.writeFileSync(
    path.join(ddir, 'config.json'),
    JSON.stringify({
      model_type: 'distilbert',
      dim: 16,
      n_layers: 2,
      n_heads: 4,
      hidden_dim: 32,
      vocab_size: 50,
      max_position_embeddings: 24,
      activation: 'gelu',
    }),
  );
  const dplan = buildPlan(await readModel(ddir));
  // Layer 0 carries the embeddings: DistilBERT feeds no token_type_ids.
  assert.deepEqual(dplan.stages[0].inputNames, ['input_ids', 'position_ids', 'attn_bias']);
  const d = await runPlan(dplan, { ids: [ids], mask: [ids.map(() => 1)] }, 'native');
  for (let l = 0; l < 2; l++) assert.ok(maxAbsDiff(d.attn[l], naive.attention[l]) <= 1e-5);
});
