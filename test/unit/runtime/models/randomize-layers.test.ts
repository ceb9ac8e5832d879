// The model-randomisation sanity check's two halves on hand-made cases: which tensors count as a layer's, the
// re-initialised values (seeded, with the tensor's mean and standard deviation), only the top layers changed; and
// the per-method Spearman ρ between the trained and the randomised rankings; encoder–decoders' top layers of both stacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  randomizeTopLayers,
  randomizeTopSeq2SeqLayers,
  randomLike,
  seq2seqTensorLayer,
  tensorLayer,
} from '../../../../runtime/models/randomize-layers';
import type { Seq2SeqSource } from '../../../../runtime/models/seq2seq-source';
import { sanityCheck } from '../../../../runtime/explain/sanity';
import type { ModelSource } from '../../../../runtime/models/source';
import type { ExplainResult } from '../../../../runtime/explain/result';

test('tensor layers by name; random values keep mean and sd; only the top layers change, seeded', () => {
  assert.equal(tensorLayer('model.layers.3.self_attn.q_proj.weight'), 3);
  assert.equal(tensorLayer('encoder.layer.11.output.dense.bias'), 11);
  assert.equal(tensorLayer('h.0.attn.c_attn.weight'), 0);
  assert.equal(tensorLayer('embeddings.word_embeddings.weight'), undefined);
  assert.equal(tensorLayer('norm.weight'), undefined);
  const data = Float32Array.from({ length: 20000 }, (_, i) => 3 + ((i % 7) - 3) * 0.5);
  const r = randomLike(data, 5);
  const mean = (a: Float32Array) => a.reduce((s, x) => s + x, 0) / a.length;
  const sd = (a: Float32Array) => {
    const m = mean(a);
    return Math.sqrt(a.reduce((s, x) => s + (x - m) ** 2, 0) / a.length);
  };
  assert.ok(
    Math.abs(mean(r) - mean(data)) < 0.02 && Math.abs(sd(r) / sd(data) - 1) < 0.02,
    `mean ${mean(r)} vs ${mean(data)}, sd ${sd(r)} vs ${sd(data)}`,
  );
  assert.deepEqual(randomLike(data, 5), r);
  const tensors: Record<string, Float32Array> = {
    'embed.weight': Float32Array.of(1, 2),
    'layers.0.w': Float32Array.of(1, 2),
    'layers.1.w': Float32Array.of(1, 2),
    'layers.2.w': Float32Array.of(1, 2),
  };
  const source = {
    config: { layers: 3 },
    weights: {
      names: () => Object.keys(tensors),
      has: (n: string) => n in tensors,
      shape: () => [2],
      get: (n: string) => Float32Array.from(tensors[n]),
    },
  } as unknown as ModelSource;
  const top2 = randomizeTopLayers(source, 2, 1).weights;
  assert.deepEqual(Array.from(top2.get('embed.weight')), [1, 2]);
  assert.deepEqual(Array.from(top2.get('layers.0.w')), [1, 2]);
  assert.notDeepEqual(Array.from(top2.get('layers.1.w')), [1, 2]);
  assert.notDeepEqual(Array.from(top2.get('layers.2.w')), [1, 2]);
  assert.deepEqual(top2.get('layers.2.w'), randomizeTopLayers(source, 2, 1).weights.get('layers.2.w'));
  assert.throws(() => randomizeTopLayers(source, 4, 1), /cannot randomise 4 of 3 layers/);
  // Drawn once, handed out as copies: a caller that changes its array does not change the next one.
  const reads: string[] = [];
  const counted = {
    ...source,
    weights: { ...source.weights, get: (n: string) => (reads.push(n), Float32Array.from(tensors[n])) },
  } as ModelSource;
  const store = randomizeTopLayers(counted, 2, 1).weights;
  const first = store.get('layers.2.w');
  const kept = Array.from(first);
  first.fill(99);
  assert.deepEqual(Array.from(store.get('layers.2.w')), kept);
  assert.deepEqual(Array.from(store.get('layers.2.w')), Array.from(top2.get('layers.2.w')));
  assert.deepEqual(
    reads.filter((n) => n === 'layers.2.w'),
    ['layers.2.w'],
    'the base tensor was read for every get',
  );
});

test('sanity check: Spearman ρ per method between trained and randomised rankings over the candidates', () => {
  const result = (a: number[], b: number[]): ExplainResult =>
    ({
      candidates: [false, true, true, true],
      methods: [
        { id: 'a', kind: 'attention', scores: a },
        { id: 'b', kind: 'perturbation', scores: b },
        { id: 'uniform', kind: 'baseline', scores: [1, 1, 1, 1] },
      ],
    }) as unknown as ExplainResult;
  const trained = [result([9, 1, 2, 3], [0, 1, 2, 3])];
  const randomised = [result([0, 1, 2, 3], [9, 3, 2, 1])]; // a: same order (ρ 1); b: reversed (ρ −1)
  const s = sanityCheck(trained, randomised, 2, 1);
  assert.deepEqual([s.layers, s.seed], [2, 1]);
  assert.deepEqual(
    s.methods.map((m) => [m.id, m.spearman.mean, m.spearman.n]),
    [
      ['a', 1, 1],
      ['b', -1, 1],
    ],
  );
  assert.throws(() => sanityCheck(trained, [], 2, 1), /1 original results, 0 randomised/);
});

test('encoder–decoders: the top layers of both stacks (Marian/BART and T5 names), nothing else', () => {
  assert.deepEqual(seq2seqTensorLayer('model.encoder.layers.1.self_attn.q_proj.weight'), {
    stack: 'encoder',
    layer: 1,
  });
  assert.deepEqual(seq2seqTensorLayer('decoder.block.0.layer.1.EncDecAttention.q.weight'), {
    stack: 'decoder',
    layer: 0,
  });
  assert.equal(seq2seqTensorLayer('model.shared.weight'), undefined);
  assert.equal(seq2seqTensorLayer('encoder.final_layer_norm.weight'), undefined);
  const names = [
    'model.shared.weight',
    'model.encoder.layers.0.fc1.weight',
    'model.encoder.layers.1.fc1.weight',
    'model.encoder.layers.2.fc1.weight',
    'model.decoder.layers.0.encoder_attn.k_proj.weight',
    'model.decoder.layers.1.encoder_attn.k_proj.weight',
    'model.decoder.layer_norm.weight',
  ];
  const source = {
    config: { encoderLayers: 3, decoderLayers: 2 },
    weights: {
      names: () => names,
      has: (n: string) => names.includes(n),
      shape: () => [2],
      get: () => Float32Array.of(1, 2),
    },
  } as unknown as Seq2SeqSource;
  const w = randomizeTopSeq2SeqLayers(source, 1, 1).weights;
  const changed = names.filter((n) => Array.from(w.get(n)).join() !== '1,2');
  assert.deepEqual(changed, ['model.encoder.layers.2.fc1.weight', 'model.decoder.layers.1.encoder_attn.k_proj.weight']);
  assert.equal(
    randomizeTopSeq2SeqLayers(source, 2, 1).weights.get('model.encoder.layers.1.fc1.weight').join(),
    randomizeTopSeq2SeqLayers(source, 2, 1).weights.get('model.encoder.layers.1.fc1.weight').join(),
  );
  assert.throws(() => randomizeTopSeq2SeqLayers(source, 3, 1), /cannot randomise 3 of 3 \+ 2 layers/);
});
