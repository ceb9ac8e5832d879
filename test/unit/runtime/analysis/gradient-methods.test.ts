// The gradient attributions of runtime/analysis/gradient-methods.ts on hand-computed cases, and their registry
// entries: what each needs, and Integrated Gradients' completeness note.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attentionTimesGradientRow,
  completenessNote,
  conservationNote,
  gradientTimesInput,
  integratedGradients,
  midpointAlphas,
  saliency,
} from '../../../../runtime/analysis/gradient-methods';
import { computeImportance, getMethod, missingNeeds } from '../../../../runtime/analysis/registry';
import { checkGradientLength, GRADIENT_MAX_TOKENS } from '../../../../runtime/grad/gradients';
import { isLensError } from '../../../../runtime/errors';

// Two tokens, hidden 2: g = [[3, 4], [1, -1]], x = [[1, 2], [0.5, 0.5]].
const g = Float32Array.from([3, 4, 1, -1]);
const x = Float32Array.from([1, 2, 0.5, 0.5]);

test('saliency is the L2 norm of each token’s gradient; gradient × input the signed dot product', () => {
  assert.deepEqual(Array.from(saliency(g, 2, 2)), [5, Math.SQRT2]);
  assert.deepEqual(Array.from(gradientTimesInput(g, x, 2, 2)), [3 + 8, 0.5 - 0.5]);
});

test('Integrated Gradients: (x − x′) times the mean gradient over the midpoint alphas', () => {
  assert.deepEqual(midpointAlphas(4), [0.125, 0.375, 0.625, 0.875]);
  assert.throws(() => midpointAlphas(0), RangeError);
  // f(x) = Σ x² per token row: gradient 2 α x on the zero path, mean over midpoints of 2 α = 1 → IG = Σ x² exactly.
  const steps = 4;
  const grads = new Float32Array(steps * 4);
  midpointAlphas(steps).forEach((a, k) => x.forEach((v, i) => (grads[k * 4 + i] = 2 * a * v)));
  const ig = integratedGradients(grads, steps, x, new Float32Array(4), 2, 2);
  assert.ok(Math.abs(ig[0] - 5) < 1e-6 && Math.abs(ig[1] - 0.5) < 1e-6, `${Array.from(ig)}`);
  assert.match(completenessNote(5.5, 5.5, 0, 4, 'zero-embedding'), /relative gap 0\.00 %/);
  // A gap past 5 %: the zero baseline is told of the pad baseline; the pad baseline only to raise the steps.
  assert.match(
    completenessNote(2, 4, 0, 32, 'zero-embedding'),
    /gap 50\.00 %.*raise the steps, or use the pad baseline/,
  );
  const pad = completenessNote(2, 4, 0, 32, 'pad-token (#2)');
  assert.match(pad, /gap 50\.00 %: the attributions do not add up yet; raise the steps\)\.$/);
  assert.doesNotMatch(pad, /use the pad baseline/);
});

test('attention × gradient reads the target row of one head or the mean over heads', () => {
  // 2 heads, 2 tokens: A[h] and dA[h] as [query, key]
  const A = Float32Array.from([1, 0, 0.25, 0.75, 1, 0, 0.5, 0.5]);
  const dA = Float32Array.from([9, 9, 2, 4, 9, 9, -2, 2]);
  assert.deepEqual(Array.from(attentionTimesGradientRow(A, dA, 2, 2, 1, 0)), [0.5, 3]);
  assert.deepEqual(Array.from(attentionTimesGradientRow(A, dA, 2, 2, 1, 'mean')), [(0.5 - 1) / 2, (3 + 1) / 2]);
});

test('registry: the gradient methods say what they need and compute from it', async () => {
  for (const id of ['saliency', 'grad-x-input', 'integrated-gradients', 'attn-x-grad'])
    assert.equal(getMethod(id)?.kind, 'gradient', id);
  assert.deepEqual(missingNeeds(getMethod('integrated-gradients')!, { seq: 2, target: 1 }), [
    'gradients',
    'gradientPath',
  ]);
  const ctx = { seq: 2, target: 1, gradients: { hidden: 2, gradient: g, embedding: x, value: 5.5 } };
  assert.deepEqual(Array.from(await computeImportance('grad-x-input', ctx)), [11, 0]);
  const notes: string[] = [];
  const ig = await computeImportance('integrated-gradients', {
    ...ctx,
    steps: 2,
    report: (n) => notes.push(n),
    gradientPath: async (alphas, valueOnly) => {
      // f(x) = Σ x² again: rows at α = ¼, ¾ and 0; the last (f(baseline)) asked for its value alone, so the path
      // returns no gradient for it
      assert.deepEqual([...alphas], [0.25, 0.75, 0]);
      assert.equal(valueOnly, 1);
      const grad = new Float32Array((alphas.length - 1) * 4);
      alphas.slice(0, -1).forEach((a, k) => x.forEach((v, i) => (grad[k * 4 + i] = 2 * a * v)));
      return { target: alphas.map((a) => a * a * 5.5), grad, baseline: new Float32Array(4), label: 'zero-embedding' };
    },
  });
  assert.ok(Math.abs(ig[0] - 5) < 1e-6 && Math.abs(ig[1] - 0.5) < 1e-6);
  assert.equal(notes.length, 1);
  assert.match(notes[0], /Σ attributions = 5\.50000, f\(x\) − f\(baseline\) = 5\.50000/);
});

test('gradient methods state their token limit and refuse above it with what to do', () => {
  assert.doesNotThrow(() => checkGradientLength(GRADIENT_MAX_TOKENS));
  assert.throws(
    () => checkGradientLength(GRADIENT_MAX_TOKENS + 1),
    (e: unknown) =>
      isLensError(e) && e.code === 'TOO_LONG' && /at most 512 tokens.*select a shorter range/.test(e.message),
  );
});

test('registry: AttnLRP scores embedding ⊙ its modified gradient and reports Σ relevance against the target', async () => {
  assert.equal(getMethod('attnlrp')?.kind, 'gradient');
  assert.deepEqual(missingNeeds(getMethod('attnlrp')!, { seq: 2, target: 1 }), ['relevance']);
  const notes: string[] = [];
  const scores = await computeImportance('attnlrp', {
    seq: 2,
    target: 1,
    relevance: { hidden: 2, gradient: g, embedding: x, value: 22, measure: 'logit' },
    report: (n) => notes.push(n),
  });
  assert.deepEqual(Array.from(scores), [11, 0]);
  assert.equal(notes.length, 1);
  assert.match(notes[0], /the token’s logit: Σ relevance = 11\.0000, target = 22\.0000 \(50\.0 %\)/);
  assert.match(conservationNote([1, 2], 4, 'cosine'), /the cosine \(norms held constant\): Σ relevance = 3\.00000/);
});
