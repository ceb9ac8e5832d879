// Random-weight BERT models built in memory, for benchmarks at real sizes (e.g. BERT-base: 12 × 768, 12 heads,
// 3072, 30522, 512) without downloading anything. Seeded, so two runs build the same model.
import { normaliseConfig } from '../formats/config';
import { memoryWeights } from '../formats/safetensors';
import type { ModelSource } from './source';
import { mulberry32 } from '../random';

export interface SyntheticBertOptions {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  vocab: number;
  maxPositions: number;
  seed: number;
}

/** A BERT ModelSource with uniform random weights of standard deviation 0.02, LayerNorm weight 1 and bias 0. */
export function syntheticBert(o: SyntheticBertOptions): ModelSource {
  const config = normaliseConfig(
    {
      model_type: 'bert',
      hidden_size: o.hidden,
      num_hidden_layers: o.layers,
      num_attention_heads: o.heads,
      intermediate_size: o.intermediate,
      vocab_size: o.vocab,
      max_position_embeddings: o.maxPositions,
      type_vocab_size: 2,
      hidden_act: 'gelu',
      layer_norm_eps: 1e-12,
    },
    'synthetic config',
  );
  const rand = mulberry32(o.seed);
  const halfWidth = 0.02 * Math.sqrt(3); // uniform on [-a, a] has std a/√3
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  const random = (name: string, shape: number[]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (2 * rand() - 1) * halfWidth;
    tensors[name] = { shape, data };
  };
  const constant = (name: string, shape: number[], value: number) => {
    tensors[name] = { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value) };
  };
  const E = o.hidden;
  const I = o.intermediate;
  random('embeddings.word_embeddings.weight', [o.vocab, E]);
  random('embeddings.position_embeddings.weight', [o.maxPositions, E]);
  random('embeddings.token_type_embeddings.weight', [2, E]);
  constant('embeddings.LayerNorm.weight', [E], 1);
  constant('embeddings.LayerNorm.bias', [E], 0);
  for (let l = 0; l < o.layers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const n of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      random(p + n + '.weight', [E, E]);
      random(p + n + '.bias', [E]);
    }
    random(p + 'intermediate.dense.weight', [I, E]);
    random(p + 'intermediate.dense.bias', [I]);
    random(p + 'output.dense.weight', [E, I]);
    random(p + 'output.dense.bias', [E]);
    for (const n of ['attention.output.LayerNorm', 'output.LayerNorm']) {
      constant(p + n + '.weight', [E], 1);
      constant(p + n + '.bias', [E], 0);
    }
  }
  return { config, weights: memoryWeights(tensors) };
}
