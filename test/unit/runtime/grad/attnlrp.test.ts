// AttnLRP through the backward transform (runtime/grad/attnlrp-rules.ts) against the authors' implementation, LXT
// 2.1 in float64 (test/fixtures/attnlrp, made by scripts/make-attnlrp-reference.py): the modified gradient w.r.t.
// the token embeddings to ‖d − d_ref‖ / ‖d_ref‖ ≤ 1e-4 and the token relevances (input ⊙ it) likewise, for
// stories260K (llama: RMSNorm, RoPE, GQA, SiLU-gated MLP; the logit of a token), all-MiniLM-L6-v2 (bert: LayerNorm,
// GELU; the cosine of the mean-pooled output with its norms constant), hf-tiny qwen3 (q/k RMSNorms, GQA; a logit),
// tiny-gpt2 (LXT's GPT-2 patch: Conv1D, gelu_new, two-wide LayerNorms, head size 1) and a random 32-wide GPT-2 made by
// the script (heads of 8). tiny-gpt2's plain gradient is ill-conditioned in float32 (model-gradients.test.ts), its
// AttnLRP is not: with σ held constant the LayerNorm rule has no cancelling term, and LXT's own float32 run lies
// 9e-7 from its float64 one (lxt_float32_relative_error in the fixture), so it is held to 1e-4 like the others.
// LXT's conservation (Σ relevance against the target) is reported by the fixture and held here to what LXT itself
// gives. Each rule alone against values by hand (with exact conservation where it conserves); models and operators
// outside the rules refused by name. The encoder–decoders: attnlrp-seq2seq.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readModel } from '../../../../runtime/models/read-model';
import { GradientRunner } from '../../../../runtime/grad/gradients';
import { gradientTimesInput } from '../../../../runtime/analysis/gradient-methods';
import { isLensError } from '../../../../runtime/errors';
import { createSession } from '../../../../runtime/backend/ort';
import { encodeModelPlain } from '../../../../runtime/formats/onnx-encode';
import { A, GraphBuilder } from '../../../../runtime/models/graph-builder';
import { activation, layerNorm, rmsNorm, softcap } from '../../../../runtime/models/ops';
import { addBackward } from '../../../../runtime/grad/backward';
import { mulberry32 } from '../../../../runtime/random';
import { fixturesDir, fixtureModel, hfTinyModel, miniLmDir } from '../../../helpers/fixtures';
import { relativeError } from '../../../helpers/relative-error';

interface Reference {
  ids: number[];
  measure: 'logit' | 'cosine';
  readout?: number;
  token?: number;
  seq: number;
  hidden: number;
  target: number;
  relevance: number[];
  relevance_sum: number;
  grad_embeds: number[];
  plain_gradient_relative_difference: number;
  lxt_float32_relative_error: number;
}

const cases: [string, () => string][] = [
  ['stories260K', () => fixtureModel('stories260K')],
  ['all-MiniLM-L6-v2', () => miniLmDir()],
  ['qwen3', () => hfTinyModel('qwen3')],
  ['tiny-gpt2', () => fixtureModel('tiny-gpt2')],
  ['random-gpt2', () => path.join(fixturesDir, 'attnlrp', 'random-gpt2')],
];

for (const [name, dir] of cases) {
  test(`${name}: AttnLRP relevances equal LXT 2.1 (float64) to 1e-4 relative, and add up as LXT's do`, async (t) => {
    const ref = JSON.parse(readFileSync(path.join(fixturesDir, 'attnlrp', `${name}.json`), 'utf8')) as Reference;
    const runner = await GradientRunner.create(await readModel(dir()), {
      batch: 1,
      seq: ref.seq,
      measure: ref.measure,
      rules: 'attnlrp',
    });
    try {
      const x = runner.embeddings(ref.ids);
      const reference = Array.from({ length: ref.hidden }, (_, i) => Math.sin(i + 1));
      const out = await runner.run(ref.ids, x, {
        measure: ref.measure,
        readout: ref.readout,
        token: ref.token,
        reference,
      });
      assert.ok(Math.abs(out.target[0] - ref.target) <= 1e-4 * Math.max(1, Math.abs(ref.target)));
      const e = relativeError(out.grad, ref.grad_embeds);
      assert.ok(e <= 1e-4, `modified gradient: relative error ${e}`);
      // The rules really differ from the gradient's (LXT's modified gradient is far from the plain one).
      assert.ok(ref.plain_gradient_relative_difference > 0.5);
      // The case is well conditioned: LXT's float32 lies far inside the bound from its float64.
      assert.ok(ref.lxt_float32_relative_error < 1e-5);
      const relevance = gradientTimesInput(out.grad, x, ref.seq, ref.hidden);
      const er = relativeError(relevance, ref.relevance);
      assert.ok(er <= 1e-4, `relevance: relative error ${er}`);
      const sum = relevance.reduce((a, v) => a + v, 0);
      assert.ok(Math.abs(sum - ref.relevance_sum) <= 1e-4 * Math.abs(ref.target), `Σ relevance ${sum}`);
      t.diagnostic(`d: ${e.toExponential(2)}, relevance: ${er.toExponential(2)}, Σ R ${sum} / target ${out.target[0]}`);
    } finally {
      await runner.release();
    }
  });
}

test('AttnLRP refuses a model type outside its rules by name (gemma2), and the gradient measures', async () => {
  const source = await readModel(hfTinyModel('gemma2'));
  await assert.rejects(
    GradientRunner.create(source, { batch: 1, seq: 4, measure: 'logit', rules: 'attnlrp' }),
    (e: unknown) =>
      isLensError(e) &&
      /AttnLRP runs on the model types llama, qwen3, gpt2, bert, marian, bart, t5 and mbart.*gemma2/.test(e.message),
  );
  const stories = await readModel(fixtureModel('stories260K'));
  await assert.rejects(
    GradientRunner.create(stories, { batch: 1, seq: 4, measure: 'log-prob', rules: 'attnlrp' }),
    /AttnLRP explains a logit or a cosine/,
  );
});

// Each rule on its own, against values computed by hand: a fragment of ops.ts with the target Σ y, whose relevances
// x ⊙ d must add up to the target exactly where the rule conserves (products, activations, norms without β).
const rand = mulberry32(5);
const X = Float32Array.from({ length: 6 }, () => 2 * rand() - 1); // [2,3]
const W = Float32Array.from({ length: 6 }, () => 0.5 + rand()); // [2,3] or [3] where one row is used

async function lrpOf(
  build: (g: GraphBuilder, x: string) => string,
): Promise<{ d: Float32Array; target: number; relevanceSum: number }> {
  const g = new GraphBuilder('lrp-case');
  const x = g.input('x', 'float32', [2, 3]);
  const total = g.op('ReduceSum', [build(g, x)], { keepdims: A.int(0) });
  g.output(total, 'total', 'float32', []);
  const model = addBackward(g.toModel(), {
    target: 'total',
    grads: [{ of: 'x', as: 'd' }],
    rules: 'attnlrp',
    activations: g.activations,
  });
  const session = await createSession(encodeModelPlain(model), { backend: 'native', threads: 1 });
  try {
    const out = await session.run({ x: { type: 'float32', dims: [2, 3], data: X } }, ['d', 'total']);
    const d = out.d.data as Float32Array;
    return { d, target: out.total.data[0], relevanceSum: Array.from(X).reduce((a, v, i) => a + v * d[i], 0) };
  } finally {
    await session.release();
  }
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.ok(relativeError(a, b) <= 1e-5, `${what}: ${Array.from(a)} vs ${Array.from(b)}`);
}

test('AttnLRP rules by hand: uniform rule on x ⊙ (W ⊙ x), identity rule on SiLU, RMSNorm and LayerNorm with constant norms', async () => {
  // y = x ⊙ (x ⊙ w): the outer Mul's two factors both vary, each gets ½ dy times the other (½ x w to x directly,
  // ½ x to x ⊙ w, which the inner Mul with a constant passes on as ½ x w): d = x w, x ⊙ d = y.
  const prod = await lrpOf((g, x) => g.op('Mul', [x, g.op('Mul', [x, g.constF(W, [2, 3])])]));
  close(
    prod.d,
    Array.from(X, (x, i) => 0.5 * x * W[i] + 0.5 * x * W[i]),
    'uniform rule',
  );
  assert.ok(Math.abs(prod.relevanceSum - prod.target) <= 1e-6);
  // SiLU: d = y / (x + ε) = σ(x), whatever the primitives' gradient would be.
  const silu = await lrpOf((g, x) => activation(g, x, 'silu'));
  close(
    silu.d,
    Array.from(X, (x) => 1 / (1 + Math.exp(-x))),
    'identity rule (SiLU)',
  );
  assert.ok(Math.abs(silu.relevanceSum - silu.target) <= 1e-6);
  // GELU: d = Φ(x)-like ratio y / x.
  const gelu = await lrpOf((g, x) => activation(g, x, 'gelu'));
  assert.ok(Math.abs(gelu.relevanceSum - gelu.target) <= 1e-6);
  // RMSNorm: d = w / √(mean x² + eps) per row.
  const w3 = W.subarray(0, 3);
  const rms = await lrpOf((g, x) => rmsNorm(g, x, g.constF(w3, [3]), 1e-5));
  const inv = [0, 1].map((r) => 1 / Math.sqrt((X[3 * r] ** 2 + X[3 * r + 1] ** 2 + X[3 * r + 2] ** 2) / 3 + 1e-5));
  close(
    rms.d,
    Array.from(X, (_, i) => w3[i % 3] * inv[Math.floor(i / 3)]),
    'RMSNorm',
  );
  assert.ok(Math.abs(rms.relevanceSum - rms.target) <= 1e-6);
  // LayerNorm (β = 0): d = (γ − mean γ) / σ per row; Σ x ⊙ d = Σ y.
  const ln = await lrpOf((g, x) => layerNorm(g, x, g.constF(w3, [3]), g.constF([0, 0, 0], [3]), 1e-5));
  const meanW = (w3[0] + w3[1] + w3[2]) / 3;
  const sigma = [0, 1].map((r) => {
    const row = X.subarray(3 * r, 3 * r + 3);
    const mu = (row[0] + row[1] + row[2]) / 3;
    return Math.sqrt(row.reduce((a, v) => a + (v - mu) ** 2, 0) / 3 + 1e-5);
  });
  close(
    ln.d,
    Array.from(X, (_, i) => (w3[i % 3] - meanW) / sigma[Math.floor(i / 3)]),
    'LayerNorm',
  );
  assert.ok(Math.abs(ln.relevanceSum - ln.target) <= 1e-5);
});

test('AttnLRP stops at a non-linearity it has no rule for (a soft-cap’s Tanh), naming it', async () => {
  await assert.rejects(
    lrpOf((g, x) => softcap(g, x, 2)),
    (e: unknown) => isLensError(e) && /AttnLRP has no rule for the operator Tanh/.test(e.message),
  );
});
