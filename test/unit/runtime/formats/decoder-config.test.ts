// The RoPE decoder families' config.json (runtime/formats/decoder-config.ts, rope-config.ts): both forms transformers
// writes (transformers 5's rope_parameters, the older rope_theta / rope_scaling) give the same facts, absent fields
// take the transformers 5.25 class defaults, and every field that would change the math in a way Attention Lens
// does not implement is refused with one line that names it. Expected values are written by hand from the
// transformers config classes and modeling_rope_utils.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLensError } from '../../../../runtime/errors';
import { normaliseConfig } from '../../../../runtime/formats/config';

const base = {
  hidden_size: 64,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  intermediate_size: 128,
  vocab_size: 100,
  max_position_embeddings: 256,
};

const refused = (code: string, pattern: RegExp) => (e: unknown) => {
  assert.ok(isLensError(e), String(e));
  assert.equal(e.code, code, e.message);
  assert.match(e.message, pattern);
  assert.ok(!e.message.includes('\n'), 'one line');
  return true;
};

test('rope_theta 1e6 is read from rope_parameters (transformers 5) and from the top level (older files)', () => {
  for (const model_type of ['mistral', 'llama', 'qwen2']) {
    const v5 = normaliseConfig({ ...base, model_type, rope_parameters: { rope_type: 'default', rope_theta: 1e6 } });
    const v4 = normaliseConfig({ ...base, model_type, rope_theta: 1e6, rope_scaling: null });
    assert.equal(v5.ropeTheta, 1e6, model_type);
    assert.equal(v5.rope!.theta, 1e6);
    assert.deepEqual(v5.rope, v4.rope);
    // rope_parameters wins over a stale top-level rope_theta; rope_scaling wins over rope_parameters.
    assert.equal(
      normaliseConfig({ ...base, model_type, rope_theta: 5e5, rope_parameters: { rope_theta: 1e6 } }).ropeTheta,
      1e6,
    );
    const both = normaliseConfig({
      ...base,
      model_type,
      rope_theta: 5e5,
      rope_scaling: { type: 'linear', factor: 2 },
      rope_parameters: { rope_type: 'default', rope_theta: 1e6 },
    });
    assert.deepEqual([both.rope!.type, both.rope!.theta, both.rope!.factor], ['linear', 5e5, 2]);
  }
  assert.equal(normaliseConfig({ ...base, model_type: 'llama' }).ropeTheta, 10000);
});

test('scaling types: llama3, longrope (phi3 defaults), yarn attention factor, linear, dynamic', () => {
  const l3 = normaliseConfig({
    ...base,
    model_type: 'llama',
    rope_scaling: {
      rope_type: 'llama3',
      factor: 8,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 8192,
    },
    rope_theta: 5e5,
  }).rope!;
  assert.deepEqual(
    [l3.type, l3.theta, l3.factor, l3.lowFreqFactor, l3.highFreqFactor, l3.originalMaxPositions, l3.dim],
    ['llama3', 5e5, 8, 1, 4, 8192, 16],
  );
  // Phi-3: old 'su' means longrope; factor = 4096 / 1024 = 4, attention factor √(1 + ln 4 / ln 1024);
  // the top-level original_max_position_embeddings is the one used.
  const phi = normaliseConfig({
    ...base,
    model_type: 'phi3',
    max_position_embeddings: 4096,
    original_max_position_embeddings: 1024,
    partial_rotary_factor: 0.5,
    rope_scaling: { type: 'su', short_factor: [1, 1, 1, 1], long_factor: [2, 2, 2, 2] },
  }).rope!;
  assert.deepEqual([phi.type, phi.dim, phi.factor, phi.originalMaxPositions], ['longrope', 8, 4, 1024]);
  assert.equal(phi.attentionFactor, Math.sqrt(1 + Math.log(4) / Math.log(1024)));
  const yarn = normaliseConfig({
    ...base,
    model_type: 'qwen2',
    rope_scaling: { type: 'yarn', factor: 4, original_max_position_embeddings: 32768 },
  }).rope!;
  assert.equal(yarn.attentionFactor, 0.1 * Math.log(4) + 1);
  assert.deepEqual([yarn.betaFast, yarn.betaSlow, yarn.truncate], [32, 1, true]);
  const ds = normaliseConfig({
    ...base,
    model_type: 'llama',
    rope_parameters: {
      rope_type: 'yarn',
      factor: 40,
      original_max_position_embeddings: 4096,
      mscale: 1,
      mscale_all_dim: 1,
      beta_fast: 32,
      beta_slow: 1,
    },
  }).rope!;
  assert.equal(ds.attentionFactor, 1); // mscale / mscale_all_dim cancel
  assert.equal(
    normaliseConfig({ ...base, model_type: 'mistral', rope_scaling: { type: 'dynamic', factor: 2 } }).rope!.type,
    'dynamic',
  );
});

test('layer types: gemma2 alternates, gemma3 follows layer_types or sliding_window_pattern, qwen from max_window_layers', () => {
  const types = (extra: Record<string, unknown>) => normaliseConfig({ ...base, ...extra }).layerTypes.join(' ');
  assert.equal(types({ model_type: 'gemma2', head_dim: 16 }), 'sliding full sliding full');
  assert.equal(
    types({ model_type: 'gemma3_text', head_dim: 16, sliding_window_pattern: 3 }),
    'sliding sliding full sliding',
  );
  assert.equal(types({ model_type: 'gemma3_text', head_dim: 16 }), 'sliding sliding sliding sliding'); // pattern 6
  assert.equal(
    types({
      model_type: 'gemma3_text',
      head_dim: 16,
      sliding_window_pattern: 2,
      layer_types: ['full_attention', 'sliding_attention', 'full_attention', 'full_attention'],
    }),
    'full sliding full full', // layer_types is authoritative
  );
  assert.equal(
    types({ model_type: 'qwen2', use_sliding_window: true, sliding_window: 8, max_window_layers: 2 }),
    'full full sliding sliding',
  );
  assert.equal(types({ model_type: 'qwen3', use_sliding_window: false, sliding_window: 8 }), 'full full full full');
  assert.equal(types({ model_type: 'mistral', sliding_window: 8 }), 'sliding sliding sliding sliding');
  assert.equal(types({ model_type: 'mistral', sliding_window: null }), 'full full full full');
  assert.equal(normaliseConfig({ ...base, model_type: 'mistral' }).slidingWindow, 4096); // MistralConfig default
  assert.equal(types({ model_type: 'llama', sliding_window: 8 }), 'full full full full'); // Llama never reads it
});

test('gemma defaults: head_dim 256, query_pre_attn_scalar 256, soft-caps 50 / 30 (gemma2) and none (gemma3)', () => {
  const g2 = normaliseConfig({ ...base, model_type: 'gemma2', hidden_size: 2304, num_attention_heads: 8 });
  assert.deepEqual([g2.headDim, g2.attnScale, g2.attnSoftcap, g2.finalSoftcap], [256, 1 / 16, 50, 30]);
  assert.deepEqual(
    [g2.normPlacement, g2.normPlusOne, g2.tieWordEmbeddings, g2.act],
    ['sandwich', true, true, 'gelu_new'],
  );
  assert.equal(g2.embedScale, Math.fround(Math.sqrt(2304)));
  const g3 = normaliseConfig({ ...base, model_type: 'gemma3_text', head_dim: 16, query_pre_attn_scalar: 24 });
  assert.deepEqual([g3.attnSoftcap, g3.finalSoftcap, g3.qkNorm, g3.attnScale], [null, null, 'head', 24 ** -0.5]);
  // Gemma 3's two RoPE bases: global 1e6, local 1e4 by default.
  assert.deepEqual([g3.rope!.theta, g3.ropeLocal!.theta], [1e6, 1e4]);
  assert.equal(normaliseConfig({ ...base, model_type: 'qwen3' }).headDim, 128);
  assert.equal(normaliseConfig({ ...base, model_type: 'olmo2' }).qkNorm, 'projection');
  assert.equal(normaliseConfig({ ...base, model_type: 'olmo2' }).normEps, 1e-5);
});

test('fields that change the math and are not implemented are refused by name', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { model_type: 'llama', rope_parameters: { rope_type: 'su2', rope_theta: 1e4 } },
      /rope_parameters\.rope_type = "su2"/,
    ],
    [{ model_type: 'qwen2', rope_scaling: { type: 'mrope', mrope_section: [1, 1] } }, /rope_scaling\.rope_type|mrope/],
    [
      { model_type: 'llama', rope_parameters: { rope_type: 'linear', factor: 2, rope_theta: 1e4, alpha: 3 } },
      /rope_parameters\.alpha/,
    ],
    [{ model_type: 'llama', partial_rotary_factor: 0.5 }, /partial_rotary_factor/],
    [{ model_type: 'phi3', rope_scaling: { type: 'linear', factor: 2 } }, /Phi-3 takes default or longrope/],
    [{ model_type: 'gemma3_text', head_dim: 16, use_bidirectional_attention: true }, /use_bidirectional_attention/],
    [{ model_type: 'mistral', quantization_config: { quant_method: 'gptq' } }, /quantization_config = "gptq"/],
    [
      {
        model_type: 'gemma2',
        head_dim: 16,
        layer_types: ['full_attention', 'chunked_attention', 'full_attention', 'full_attention'],
      },
      /layer_types\[1\] = "chunked_attention"/,
    ],
    [
      {
        model_type: 'gemma3_text',
        head_dim: 16,
        rope_parameters: { full_attention: { rope_type: 'default' }, chunked: {} },
      },
      /rope_parameters\.chunked/,
    ],
  ];
  for (const [extra, pattern] of cases)
    assert.throws(
      () => normaliseConfig({ ...base, ...extra }),
      refused('UNSUPPORTED_MODEL', pattern),
      JSON.stringify(extra),
    );
});

test('malformed RoPE and window settings are BAD_CONFIG naming the field', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { model_type: 'llama', rope_parameters: { rope_type: 'llama3', factor: 8, rope_theta: 1e4 } },
      /low_freq_factor is missing/,
    ],
    [
      { model_type: 'llama', rope_parameters: { rope_type: 'default', rope_theta: -1 } },
      /: rope_parameters\.rope_theta must be a positive number, found -1\./,
    ],
    // A top-level field is named as written, not as the rope dict key it fills.
    [{ model_type: 'llama', rope_theta: -1, rope_scaling: null }, /: rope_theta must be a positive number, found -1\./],
    [
      { model_type: 'llama', rope_theta: -1, rope_scaling: { rope_type: 'linear', factor: 2 } },
      /: rope_theta must be a positive number, found -1\./,
    ],
    [
      { model_type: 'llama', rope_theta: 1e4, rope_scaling: { rope_type: 'linear', factor: -2 } },
      /: rope_scaling\.factor must be a positive number, found -2\./,
    ],
    [
      { model_type: 'gemma3_text', head_dim: 16, rope_local_base_freq: -5 },
      /: rope_local_base_freq must be a positive number, found -5\./,
    ],
    [{ model_type: 'phi3', partial_rotary_factor: 2 }, /: partial_rotary_factor must be at most 1, found 2\./],
    [{ model_type: 'llama', rope_parameters: 'default' }, /rope_parameters must be an object/],
    [
      {
        model_type: 'phi3',
        rope_parameters: { rope_type: 'longrope', rope_theta: 1e4, short_factor: [1], long_factor: [1] },
      },
      /short_factor must be a list of 8 positive numbers/,
    ],
    [
      { model_type: 'qwen2', layer_types: ['sliding_attention', 'full_attention', 'full_attention', 'full_attention'] },
      /sliding_attention layers but there is no sliding_window/,
    ],
    [{ model_type: 'gemma2', head_dim: 16, layer_types: ['full_attention'] }, /one entry per layer \(4\)/],
    [{ model_type: 'mistral', sliding_window: 0 }, /sliding_window must be a positive integer/],
    [{ model_type: 'gemma3' }, /needs a "text_config" object/],
    [
      { model_type: 'gemma2', head_dim: 16, attn_logit_softcapping: 'yes' },
      /attn_logit_softcapping must be a positive number or null/,
    ],
  ];
  for (const [extra, pattern] of cases)
    assert.throws(() => normaliseConfig({ ...base, ...extra }), refused('BAD_CONFIG', pattern), JSON.stringify(extra));
});
