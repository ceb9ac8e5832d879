// A Marian model with random weights built in memory, for benchmarks at real sizes (Marian-base, the opus-mt shape:
// 6 + 6 layers × 8 heads, d 512, FFN 2048, a 58,101-token vocabulary): uniform weights of standard deviation 0.02,
// LayerNorm weight 1 and bias 0, a zero final_logits_bias.
import { memoryWeights } from '../formats/safetensors-bytes';
import { mulberry32 } from '../random';
import { normaliseSeq2SeqConfig } from './seq2seq-config';
import type { Seq2SeqSource } from './seq2seq-source';

export interface SyntheticMarianOptions {
  encoderLayers: number;
  decoderLayers: number;
  hidden: number;
  heads: number;
  ffn: number;
  vocab: number;
  maxPositions: number;
  seed: number;
}

export function syntheticMarian(o: SyntheticMarianOptions): Seq2SeqSource {
  const config = normaliseSeq2SeqConfig(
    {
      model_type: 'marian',
      d_model: o.hidden,
      encoder_layers: o.encoderLayers,
      decoder_layers: o.decoderLayers,
      encoder_attention_heads: o.heads,
      decoder_attention_heads: o.heads,
      encoder_ffn_dim: o.ffn,
      decoder_ffn_dim: o.ffn,
      vocab_size: o.vocab,
      max_position_embeddings: o.maxPositions,
      activation_function: 'swish',
      scale_embedding: true,
      pad_token_id: o.vocab - 1,
      decoder_start_token_id: o.vocab - 1,
      eos_token_id: 0,
    },
    'synthetic config',
  );
  const rand = mulberry32(o.seed);
  const halfWidth = 0.02 * Math.sqrt(3); // uniform on [-a, a] has std a/√3
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const random = (name: string, shape: number[]) => {
    const data = new Float32Array(size(shape));
    for (let i = 0; i < data.length; i++) data[i] = (2 * rand() - 1) * halfWidth;
    tensors[name] = { shape, data };
  };
  const constant = (name: string, shape: number[], value: number) =>
    (tensors[name] = { shape, data: new Float32Array(size(shape)).fill(value) });
  const E = o.hidden;
  const linear = (name: string, out: number, inn: number) => {
    random(`${name}.weight`, [out, inn]);
    random(`${name}.bias`, [out]);
  };
  const norm = (name: string) => {
    constant(`${name}.weight`, [E], 1);
    constant(`${name}.bias`, [E], 0);
  };
  const attention = (p: string) => ['q_proj', 'k_proj', 'v_proj', 'out_proj'].forEach((n) => linear(`${p}.${n}`, E, E));
  random('model.shared.weight', [o.vocab, E]);
  constant('final_logits_bias', [1, o.vocab], 0);
  for (const [stack, layers] of [
    ['encoder', o.encoderLayers],
    ['decoder', o.decoderLayers],
  ] as const)
    for (let l = 0; l < layers; l++) {
      const p = `model.${stack}.layers.${l}`;
      attention(`${p}.self_attn`);
      norm(`${p}.self_attn_layer_norm`);
      if (stack === 'decoder') {
        attention(`${p}.encoder_attn`);
        norm(`${p}.encoder_attn_layer_norm`);
      }
      linear(`${p}.fc1`, o.ffn, E);
      linear(`${p}.fc2`, E, o.ffn);
      norm(`${p}.final_layer_norm`);
    }
  return { config, weights: memoryWeights(tensors) };
}
