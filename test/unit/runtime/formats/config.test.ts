// Tests for runtime/formats/config.ts: every supported model_type's field names normalise to the same ModelConfig
// (values written by hand from the HF config classes' field meanings), and bad folders / JSON / fields / types fail
// with the right LensError code and a message naming what is wrong.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { normaliseConfig, readConfig } from '../../../../runtime/formats/config';
import { isLensError } from '../../../../runtime/errors';
import { fixtureModel } from '../../../helpers/fixtures';

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function dirWith(config?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-cfg-'));
  made.push(dir);
  if (config !== undefined) fs.writeFileSync(path.join(dir, 'config.json'), config);
  return dir;
}

const lensError = (code: string, pattern: RegExp) => (e: unknown) => {
  assert.ok(isLensError(e), String(e));
  assert.equal(e.code, code, e.message);
  assert.match(e.message, pattern);
  return true;
};

test('bert', () => {
  const c = normaliseConfig({
    model_type: 'bert',
    hidden_size: 384,
    num_hidden_layers: 6,
    num_attention_heads: 12,
    intermediate_size: 1536,
    vocab_size: 30522,
    max_position_embeddings: 512,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    hidden_act: 'gelu',
  });
  assert.equal(c.family, 'bert');
  assert.deepEqual(
    [c.hidden, c.layers, c.heads, c.kvHeads, c.headDim, c.intermediate, c.vocabSize, c.maxPositions, c.typeVocabSize],
    [384, 6, 12, 12, 32, 1536, 30522, 512, 2],
  );
  assert.equal(c.act, 'gelu');
  assert.equal(c.normEps, 1e-12);
  assert.equal(c.robertaPositions, false);
});

test('roberta: positions offset by padding_idx, max positions shrink accordingly', () => {
  const c = normaliseConfig({
    model_type: 'roberta',
    hidden_size: 768,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    intermediate_size: 3072,
    vocab_size: 50265,
    max_position_embeddings: 514,
    type_vocab_size: 1,
    pad_token_id: 1,
    layer_norm_eps: 1e-5,
  });
  assert.equal(c.family, 'bert');
  assert.equal(c.robertaPositions, true);
  assert.equal(c.padTokenId, 1);
  assert.equal(c.maxPositionEmbeddings, 514);
  assert.equal(c.maxPositions, 512); // 514 - padding_idx (1) - 1
  assert.equal(c.typeVocabSize, 1);
  assert.equal(c.normEps, 1e-5);
});

test('distilbert field names: dim, n_layers, n_heads, hidden_dim, activation', () => {
  const c = normaliseConfig({
    model_type: 'distilbert',
    dim: 768,
    n_layers: 6,
    n_heads: 12,
    hidden_dim: 3072,
    vocab_size: 30522,
    max_position_embeddings: 512,
    activation: 'gelu',
  });
  assert.deepEqual(
    [c.hidden, c.layers, c.heads, c.headDim, c.intermediate, c.typeVocabSize],
    [768, 6, 12, 64, 3072, 0],
  );
  assert.equal(c.act, 'gelu');
});

test('gpt2 field names: n_embd, n_layer, n_head, n_positions, layer_norm_epsilon, n_inner default 4·E', () => {
  const c = normaliseConfig({
    model_type: 'gpt2',
    n_embd: 768,
    n_layer: 12,
    n_head: 12,
    n_positions: 1024,
    n_inner: null,
    vocab_size: 50257,
    layer_norm_epsilon: 1e-5,
    activation_function: 'gelu_new',
  });
  assert.equal(c.family, 'gpt2');
  assert.deepEqual(
    [c.hidden, c.layers, c.heads, c.headDim, c.intermediate, c.maxPositions],
    [768, 12, 12, 64, 3072, 1024],
  );
  assert.equal(c.act, 'gelu_new');
  assert.equal(c.normEps, 1e-5);
  assert.equal(c.tieWordEmbeddings, true);
});

test('llama: grouped-query heads, head_dim, rope_theta, rms_norm_eps, tie_word_embeddings', () => {
  const c = normaliseConfig(JSON.parse(fs.readFileSync(path.join(fixtureModel('stories260K'), 'config.json'), 'utf8')));
  assert.equal(c.family, 'llama');
  assert.deepEqual(
    [c.hidden, c.layers, c.heads, c.kvHeads, c.headDim, c.intermediate, c.vocabSize],
    [64, 5, 8, 4, 8, 172, 512],
  );
  assert.equal(c.ropeTheta, 10000);
  assert.equal(c.normEps, 1e-5);
  assert.equal(c.tieWordEmbeddings, true);
  assert.equal(c.act, 'silu');
  assert.equal(c.qkvBias, false);
});

test('mistral sliding window and qwen2 q/k/v biases', () => {
  const base = {
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 128,
    vocab_size: 100,
    max_position_embeddings: 256,
  };
  const m = normaliseConfig({
    ...base,
    model_type: 'mistral',
    num_key_value_heads: 2,
    sliding_window: 16,
    rope_theta: 1e6,
  });
  assert.equal(m.slidingWindow, 16);
  assert.equal(m.kvHeads, 2);
  assert.equal(m.ropeTheta, 1e6);
  assert.equal(m.headDim, 16);
  assert.equal(m.tieWordEmbeddings, false);
  const q = normaliseConfig({
    ...base,
    model_type: 'qwen2',
    tie_word_embeddings: true,
    use_sliding_window: false,
    sliding_window: 8,
  });
  assert.equal(q.qkvBias, true);
  assert.equal(q.oBias, false);
  assert.equal(q.slidingWindow, null);
  assert.equal(q.kvHeads, 4);
  assert.equal(q.tieWordEmbeddings, true);
});

test('unsupported model_type names the type and lists the supported ones', () => {
  assert.throws(
    () => normaliseConfig({ model_type: 'xlnet' }),
    lensError(
      'UNSUPPORTED_MODEL',
      /model_type "xlnet" is not supported; supported: bert, roberta, distilbert, gpt2, llama, mistral, qwen2.*, and the encoder–decoders marian, bart, mbart, t5\./,
    ),
  );
});

test('missing or invalid fields name the field', () => {
  assert.throws(() => normaliseConfig({ hidden_size: 4 }), lensError('BAD_CONFIG', /model_type/));
  assert.throws(
    () => normaliseConfig({ model_type: 'gpt2', n_embd: 8, n_head: 2, n_positions: 16, vocab_size: 10 }),
    lensError('BAD_CONFIG', /missing field n_layer/),
  );
  assert.throws(
    () =>
      normaliseConfig({
        model_type: 'bert',
        hidden_size: '384',
        num_hidden_layers: 1,
        num_attention_heads: 1,
        intermediate_size: 1,
        vocab_size: 1,
        max_position_embeddings: 1,
      }),
    lensError('BAD_CONFIG', /hidden_size must be a positive integer/),
  );
  assert.throws(
    () =>
      normaliseConfig({
        model_type: 'bert',
        hidden_size: 10,
        num_hidden_layers: 1,
        num_attention_heads: 3,
        intermediate_size: 1,
        vocab_size: 1,
        max_position_embeddings: 1,
      }),
    lensError('BAD_CONFIG', /not divisible/),
  );
  assert.throws(
    () =>
      normaliseConfig({
        model_type: 'llama',
        hidden_size: 8,
        num_hidden_layers: 1,
        num_attention_heads: 4,
        num_key_value_heads: 3,
        intermediate_size: 1,
        vocab_size: 1,
        max_position_embeddings: 1,
      }),
    lensError('BAD_CONFIG', /num_key_value_heads/),
  );
  assert.throws(
    () =>
      normaliseConfig({
        model_type: 'gpt2',
        n_embd: 8,
        n_layer: 1,
        n_head: 2,
        n_positions: 16,
        vocab_size: 10,
        activation_function: 'mish',
      }),
    lensError('UNSUPPORTED_MODEL', /activation "mish"/),
  );
});

test('readConfig: NO_CONFIG for a folder without config.json, BAD_CONFIG for invalid JSON', async () => {
  await assert.rejects(readConfig(dirWith()), lensError('NO_CONFIG', /has no config\.json/));
  await assert.rejects(readConfig(dirWith('{"model_type": "bert",')), lensError('BAD_CONFIG', /not valid JSON/));
  const c = await readConfig(
    dirWith(JSON.stringify({ model_type: 'gpt2', n_embd: 4, n_layer: 1, n_head: 2, n_positions: 8, vocab_size: 10 })),
  );
  assert.equal(c.headDim, 2);
});
