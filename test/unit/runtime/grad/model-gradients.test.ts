// Whole-model gradients of runtime/grad against PyTorch autograd in float64 (test/fixtures/gradients, made by
// scripts/make-gradient-reference.py): d(target)/d(inputs_embeds) for stories260K (llama, GQA), tiny-gpt2,
// qwen3 (hf-tiny: GQA, q/k norms), the other hf-tiny RoPE decoders (llama, mistral and gemma2/3 with sliding
// windows, gemma's soft-caps and sandwich norms, phi3's fused projections and partial rotary, olmo2's post-norms)
// and all-MiniLM-L6-v2 (bert, cosine target), and d(target)/d(attention) per layer
// for the causal LMs, each to a relative norm error ‖g − g_ref‖ / ‖g_ref‖ ≤ 1e-4. tiny-gpt2 (hidden size 2: its
// LayerNorms over two values leave gradients of 1e-6 that are differences of much larger terms) is ill-conditioned
// in float32 — PyTorch's own float32 gradients differ from its float64 ones by 3–6 % there (stored in the fixture as
// torch_float32_relative_error) — so its bound is 3× that float32 error; every other case is held to 1e-4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readModel } from '../../../../runtime/models/read-model';
import { GradientRunner } from '../../../../runtime/grad/gradients';
import type { GradientMeasure } from '../../../../runtime/grad/family-gradient';
import { fixturesDir, fixtureModel, hfTinyModel, miniLmDir } from '../../../helpers/fixtures';
import { relativeError } from '../../../helpers/relative-error';

interface Reference {
  ids: number[];
  measure: GradientMeasure;
  readout?: number;
  token?: number;
  /** The -contrast fixtures: the token B whose log-probability is subtracted. */
  contrast?: number;
  target: number;
  seq: number;
  hidden: number;
  grad_embeds: number[];
  layers?: number;
  heads?: number;
  grad_attn?: number[][];
  torch_float32_relative_error: { grad_embeds: number; grad_attn: number[] | null };
}

/** 1e-4, or 3× what float32 rounding alone costs PyTorch on an ill-conditioned case. */
const bound = (float32Error: number) => Math.max(1e-4, 3 * float32Error);

const cases: [string, () => string][] = [
  ['stories260K', () => fixtureModel('stories260K')],
  ['tiny-gpt2', () => fixtureModel('tiny-gpt2')],
  ['qwen3', () => hfTinyModel('qwen3')],
  ...(['llama', 'mistral', 'gemma2', 'gemma3', 'phi3', 'olmo2'] as const).map((f): [string, () => string] => [
    `hf-tiny-${f}`,
    () => hfTinyModel(f),
  ]),
  ['all-MiniLM-L6-v2', () => miniLmDir()],
];

for (const [name, dir] of cases) {
  test(`${name}: gradients equal PyTorch autograd (float64) to 1e-4 relative (tiny-gpt2: 3× float32 rounding)`, async () => {
    const ref = JSON.parse(readFileSync(path.join(fixturesDir, 'gradients', `${name}.json`), 'utf8')) as Reference;
    const source = await readModel(dir());
    const causal = ref.measure !== 'cosine';
    const runner = await GradientRunner.create(source, {
      batch: 1,
      seq: ref.seq,
      measure: ref.measure,
      attention: causal,
    });
    try {
      const reference = Array.from({ length: ref.hidden }, (_, i) => Math.sin(i + 1));
      const out = await runner.run(ref.ids, runner.embeddings(ref.ids), {
        measure: ref.measure,
        readout: ref.readout,
        token: ref.token,
        reference,
      });
      assert.ok(
        Math.abs(out.target[0] - ref.target) <= 1e-4 * Math.max(1, Math.abs(ref.target)),
        `target ${out.target[0]} vs ${ref.target}`,
      );
      const e = relativeError(out.grad, ref.grad_embeds);
      const f32 = ref.torch_float32_relative_error;
      assert.ok(e <= bound(f32.grad_embeds), `d/d embeddings: relative error ${e}`);
      if (name !== 'tiny-gpt2') assert.ok(bound(f32.grad_embeds) === 1e-4);
      if (causal) {
        for (let l = 0; l < ref.layers!; l++) {
          const el = relativeError(out.gradAttn![l], ref.grad_attn![l]);
          assert.ok(el <= bound(f32.grad_attn![l]), `d/d attention layer ${l}: relative error ${el}`);
          if (name !== 'tiny-gpt2') assert.ok(bound(f32.grad_attn![l]) === 1e-4);
        }
      }
    } finally {
      await runner.release();
    }
  });
}

// Without attention outputs a token target's last layer runs at the readout row alone (family-gradient.ts,
// lastLayerAt): the same references hold for it, on every causal family.
for (const [name, dir] of cases.filter(([n]) => n !== 'all-MiniLM-L6-v2')) {
  test(`${name}: the readout-row last layer (no attention outputs) gives the same gradients, two rows batched`, async () => {
    const ref = JSON.parse(readFileSync(path.join(fixturesDir, 'gradients', `${name}.json`), 'utf8')) as Reference;
    const runner = await GradientRunner.create(await readModel(dir()), {
      batch: 2,
      seq: ref.seq,
      measure: ref.measure,
    });
    try {
      assert.ok(runner.graph.inputNames.includes('readout'), 'the graph reads the readout row by index');
      const x = runner.embeddings(ref.ids);
      const both = new Float32Array(2 * x.length);
      both.set(x);
      both.set(x, x.length);
      const out = await runner.run(ref.ids, both, { measure: ref.measure, readout: ref.readout, token: ref.token });
      const n = ref.seq * ref.hidden;
      for (let b = 0; b < 2; b++) {
        assert.ok(Math.abs(out.target[b] - ref.target) <= 1e-4 * Math.max(1, Math.abs(ref.target)));
        const e = relativeError(out.grad.subarray(b * n, (b + 1) * n), ref.grad_embeds);
        assert.ok(e <= bound(ref.torch_float32_relative_error.grad_embeds), `row ${b}: relative error ${e}`);
      }
    } finally {
      await runner.release();
    }
  });
}

// Contrastive targets (contrast:A|B): log p(A) − log p(B) at the readout, one graph with weight −1 on B, against
// PyTorch autograd on that difference (make-gradient-reference.py --contrast), with and without attention outputs.
for (const [name, dir] of cases.filter(([n]) => n === 'stories260K' || n === 'qwen3')) {
  for (const attention of [true, false])
    test(`${name}: a contrast's gradients equal PyTorch autograd's on log p(A) − log p(B) (attention outputs: ${attention})`, async () => {
      const file = path.join(fixturesDir, 'gradients', `${name}-contrast.json`);
      const ref = JSON.parse(readFileSync(file, 'utf8')) as Reference;
      assert.ok(ref.contrast !== undefined && ref.contrast !== ref.token);
      const runner = await GradientRunner.create(await readModel(dir()), {
        batch: 1,
        seq: ref.seq,
        measure: 'log-prob',
        attention,
      });
      try {
        const target = { measure: 'log-prob' as const, readout: ref.readout, token: ref.token, contrast: ref.contrast };
        const out = await runner.run(ref.ids, runner.embeddings(ref.ids), target);
        assert.ok(Math.abs(out.target[0] - ref.target) <= 1e-4 * Math.max(1, Math.abs(ref.target)));
        const e = relativeError(out.grad, ref.grad_embeds);
        assert.ok(e <= 1e-4, `d/d embeddings: relative error ${e}`);
        if (attention)
          for (let l = 0; l < ref.layers!; l++) {
            const el = relativeError(out.gradAttn![l], ref.grad_attn![l]);
            assert.ok(el <= 1e-4, `d/d attention layer ${l}: relative error ${el}`);
          }
        // The contrast token must differ from the token and lie in the vocabulary; a probability has no contrast.
        const x = runner.embeddings(ref.ids);
        await assert.rejects(runner.run(ref.ids, x, { ...target, contrast: ref.token }), RangeError);
        await assert.rejects(runner.run(ref.ids, x, { ...target, contrast: 1e9 }), RangeError);
      } finally {
        await runner.release();
      }
    });
}

test('stories260K: a probability target’s gradient is p times the log-probability’s (the Exp at the end)', async () => {
  const ref = JSON.parse(readFileSync(path.join(fixturesDir, 'gradients', 'stories260K.json'), 'utf8')) as Reference;
  const source = await readModel(fixtureModel('stories260K'));
  const runner = await GradientRunner.create(source, { batch: 1, seq: ref.seq, measure: 'prob' });
  try {
    const out = await runner.run(ref.ids, runner.embeddings(ref.ids), {
      measure: 'prob',
      readout: ref.readout,
      token: ref.token,
    });
    const p = Math.exp(ref.target);
    assert.ok(Math.abs(out.target[0] - p) <= 1e-4 * p);
    const e = relativeError(
      out.grad,
      ref.grad_embeds.map((g) => p * g),
    );
    assert.ok(e <= 1e-4, `relative error ${e}`);
  } finally {
    await runner.release();
  }
});

// The IG speed-ups (GELU / SiLU fragments and LayerNormalization differentiated as one, runtime/grad/fused.ts;
// denormals flushed to zero in the gradient session; an all-zero attention bias dropped, family-gradient.ts) change
// no gradient: the graph without them (the bench's "before") meets the same PyTorch references, and the two agree to
// 1e-5 relative. The encoder's bias (a mask of ones) leaves the graph; the causal one stays.
for (const [name, dir] of cases.filter(([n]) => n === 'stories260K' || n === 'all-MiniLM-L6-v2')) {
  test(`${name}: fused activations and LayerNorms, flushed denormals and no zero bias give the gradients of the node-by-node graph`, async () => {
    const ref = JSON.parse(readFileSync(path.join(fixturesDir, 'gradients', `${name}.json`), 'utf8')) as Reference;
    const source = await readModel(dir());
    const spec = { batch: 1, seq: ref.seq, measure: ref.measure };
    const target = {
      measure: ref.measure,
      readout: ref.readout,
      token: ref.token,
      reference: Array.from({ length: ref.hidden }, (_, i) => Math.sin(i + 1)),
    };
    const grads: Float32Array[] = [];
    for (const tuning of [{}, { plainRules: true, keepDenormals: true, keepZeroBias: true }]) {
      const runner = await GradientRunner.create(source, { ...spec, ...tuning });
      try {
        const biased = runner.graph.inputNames.includes('attn_bias');
        assert.equal(biased, name === 'stories260K' || 'keepZeroBias' in tuning, `attn_bias an input: ${biased}`);
        const out = await runner.run(ref.ids, runner.embeddings(ref.ids), target);
        const e = relativeError(out.grad, ref.grad_embeds);
        assert.ok(e <= 1e-4, `${JSON.stringify(tuning)}: relative error ${e}`);
        grads.push(out.grad);
      } finally {
        await runner.release();
      }
    }
    const e = relativeError(grads[0], grads[1]);
    assert.ok(e <= 1e-5, `fused vs node by node: relative difference ${e}`);
  });
}
