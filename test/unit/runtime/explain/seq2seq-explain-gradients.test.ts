// Explain's gradient methods on an encoder–decoder, through the real worker (dist/worker.js: the model's
// Seq2SeqGradientService lives there), against PyTorch autograd in float64 (test/fixtures/gradients/
// tiny-marian-dates.json, made by scripts/make-gradient-reference.py): tiny-marian-dates explaining ▁2021 (target:1)
// of "the 14th of March, 2021". Saliency and gradient × input over the source tokens are the causal methods' formulas
// on the reference gradient (and the embedding rows read here from model.safetensors) to ≤ 1e-4 relative norm;
// Integrated Gradients says its completeness check; a contrast is the difference of the two tokens' gradients.
// Attention × gradient is Σ_t mean_h A·∂/∂A of the last decoder layer's cross-attention from the same fixture; ALTI
// (ALTI+) and value zeroing (the last decoder layer's cross-attention) are row 0 of the float64 mixing reference
// (test/fixtures/mixing/seq2seq-tiny-marian-dates.json, scripts/make-seq2seq-mixing-reference.py) to 1e-5.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { load } from '../../../../runtime/inspector/load-model';
import type { Inspector } from '../../../../runtime/inspector/api';
import { explain, type ExplainOptions } from '../../../../runtime/explain/explain';
import { gradientTimesInput, saliency } from '../../../../runtime/analysis/gradient-methods';
import { crossAttentionTimesGradient } from '../../../../runtime/grad/seq2seq-gradients';
import { marianDatesDir, repoRoot } from '../../../helpers/fixtures';
import { safetensorsRows } from '../../../helpers/safetensors-rows';
import { relativeError } from '../../../helpers/relative-error';

const WORKER = path.join(repoRoot, 'dist/worker.js');

interface Reference {
  source_ids: number[];
  labels: number[];
  position: number;
  hidden: number;
  decoder_input_ids: number[];
  token: { target: number; grad_source: number[]; cross_attention: number[][]; grad_cross: number[][] };
}
interface MixingReference {
  source_ids: number[];
  decoder_input_ids: number[];
  alti_plus_source: number[];
  value_zeroing: number[][];
}
const MIX = JSON.parse(
  fs.readFileSync(path.join(repoRoot, 'test/fixtures/mixing/seq2seq-tiny-marian-dates.json'), 'utf8'),
) as MixingReference;
const REF = JSON.parse(
  fs.readFileSync(path.join(repoRoot, 'test/fixtures/gradients/tiny-marian-dates.json'), 'utf8'),
) as Reference;

const embeddingRows = (ids: readonly number[]) =>
  safetensorsRows(path.join(marianDatesDir, 'model.safetensors'), 'model.shared.weight', ids);

const quick: Partial<ExplainOptions> = { faithfulness: false, erasureSteps: 0, headStats: false };

before(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
});

describe('tiny-marian-dates: Explain’s gradient methods over the source against PyTorch autograd', () => {
  let inspector: Inspector;
  before(async () => {
    inspector = await load(marianDatesDir, { backend: 'native', threads: 1, workerPath: WORKER });
  });
  after(() => inspector?.dispose());

  const S = REF.source_ids.length;
  const E = REF.hidden;
  const spec = `target:${REF.position + 1}`;

  test(`${spec} (▁2021): saliency and gradient × input ≤ 1e-4 relative norm from IG’s own batched pass; IG states its completeness`, async () => {
    const asked: { alphas?: number[] }[] = [];
    const counting = new Proxy(inspector, {
      get(target, key) {
        const v = Reflect.get(target, key, target) as unknown;
        if (key === 'seq2seqGradients')
          return (req: { alphas?: number[] }, o: unknown) => {
            asked.push(req);
            return (v as (r: unknown, o: unknown) => unknown).call(target, req, o);
          };
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const r = await explain(counting, REF.source_ids, {
      target: spec,
      targetText: REF.labels,
      methods: ['saliency', 'grad-x-input', 'integrated-gradients'],
      steps: 16,
      ...quick,
    });
    assert.deepEqual(
      r.seq2seq!.targetTokens.map((t) => t.id),
      REF.labels,
    );
    assert.equal(r.target.token?.text, '▁2021');
    assert.ok(Math.abs(r.target.value - REF.token.target) <= 1e-4, `${r.target.value} vs ${REF.token.target}`);
    const scores = (id: string) => {
      const m = r.methods.find((x) => x.id === id)!;
      assert.equal(m.error, undefined, `${id}: ${m.error}`);
      assert.equal(m.kind, 'gradient');
      assert.equal(m.scores.length, S);
      return m.scores;
    };
    const sal = saliency(REF.token.grad_source, S, E);
    const gxi = gradientTimesInput(REF.token.grad_source, embeddingRows(REF.source_ids), S, E);
    const eSal = relativeError(scores('saliency'), sal);
    const eGxi = relativeError(scores('grad-x-input'), gxi);
    assert.ok(eSal <= 1e-4, `saliency relative error ${eSal}`);
    assert.ok(eGxi <= 1e-4, `gradient × input relative error ${eGxi}`);
    // IG's completeness note: its Σ is the sum of the scores shown, against f(x) − f(zero-embedding baseline).
    const ig = r.notes.find((n) =>
      n.startsWith('Integrated Gradients (16 steps, source-side zero-embedding baseline)'),
    );
    assert.ok(ig, r.notes.join('\n'));
    const stated = Number(/Σ attributions = (\S+),/.exec(ig)![1]);
    const sum = scores('integrated-gradients').reduce((a, v) => a + v, 0);
    assert.ok(Math.abs(stated - sum) <= 1e-5 * Math.max(1, Math.abs(sum)), `${stated} vs Σ ${sum}`);
    assert.match(ig, /f\(x\) − f\(baseline\) = -?\d/);
    assert.ok(r.notes.some((n) => n.startsWith('Gradient methods: gradients of the target w.r.t. the source')));
    // One request: IG's path of 16 midpoints, the input (α = 1, whose gradients saliency and gradient × input read)
    // and the baseline.
    assert.deepEqual(
      asked.map((q) => q.alphas?.length ?? 0),
      [18],
    );
  });

  test('contrast:▁2021|#2@target:1: gradient × input is ▁2021’s minus #2’s at the same row (one graph, weight −1 on B)', async () => {
    const run = (target: string, labels = REF.labels) =>
      explain(inspector, REF.source_ids, { target, targetText: labels, methods: ['grad-x-input'], ...quick });
    const contrast = await run('contrast:▁2021|#2@target:1');
    const reverse = await run('contrast:#2|▁2021@target:1');
    const a = await run('target:1'); // log p(▁2021 | source, start): the PyTorch fixture's target
    // log p(#2 | source, start): row 0 reads only the start token, so a target text starting with #2 gives it.
    const b = await run('target:1', [2, ...REF.labels.slice(1)]);
    assert.equal(contrast.methods[0].error, undefined);
    assert.ok(Math.abs(contrast.target.value - (a.target.value - b.target.value)) < 1e-5);
    // Gradient × input is linear in the gradient: the contrast's scores are A's minus B's, and the reverse's opposite.
    const diff = a.methods[0].scores.map((v, s) => v - b.methods[0].scores[s]);
    assert.ok(relativeError(contrast.methods[0].scores, diff) <= 1e-4);
    assert.ok(
      relativeError(
        reverse.methods[0].scores,
        diff.map((v) => -v),
      ) <= 1e-4,
    );
    assert.ok(relativeError(contrast.methods[0].scores, a.methods[0].scores) > 1e-3, 'the contrast changes the scores');
  });

  test(`${spec}: attention × gradient, ALTI+ and value zeroing over the source equal their references`, async () => {
    const r = await explain(inspector, REF.source_ids, {
      target: spec,
      targetText: REF.labels,
      methods: ['attn-x-grad', 'alti', 'value-zeroing'],
      ...quick,
    });
    const scores = (id: string) => {
      const m = r.methods.find((x) => x.id === id)!;
      assert.equal(m.error, undefined, `${id}: ${m.error}`);
      assert.equal(m.scores.length, S);
      return m.scores;
    };
    const T = REF.decoder_input_ids.length;
    const L = REF.token.grad_cross.length;
    const heads = REF.token.grad_cross[L - 1].length / (T * S);
    const axg = crossAttentionTimesGradient(
      REF.token.cross_attention[L - 1],
      REF.token.grad_cross[L - 1],
      heads,
      T,
      S,
      'mean',
    );
    const eAxg = relativeError(scores('attn-x-grad'), axg);
    assert.ok(eAxg <= 1e-4, `attention × gradient relative error ${eAxg}`);
    assert.deepEqual(MIX.source_ids, REF.source_ids);
    assert.deepEqual(MIX.decoder_input_ids, REF.decoder_input_ids);
    const row0 = (m: number[]) => m.slice(0, S); // [T,S] row 0: the decoder predicting ▁2021
    const dAlti = Math.max(...scores('alti').map((v, j) => Math.abs(v - row0(MIX.alti_plus_source)[j])));
    const dVz = Math.max(...scores('value-zeroing').map((v, j) => Math.abs(v - row0(MIX.value_zeroing[L - 1])[j])));
    assert.ok(dAlti <= 1e-5, `ALTI+ max difference ${dAlti}`);
    assert.ok(dVz <= 1e-5, `value zeroing max difference ${dVz}`);
    assert.equal(r.methods.find((m) => m.id === 'value-zeroing')!.rows, S + 1);
    assert.ok(
      r.notes.some((n) => /^ALTI\+ \(Ferrando et al\. 2022\): \d+\.\d % of the explained rows/.test(n)),
      r.notes.join('\n'),
    );
    // The tables include them: agreement rows for every pair of methods.
    assert.ok(r.agreement.some((a) => [a.a, a.b].includes('alti') && [a.a, a.b].includes('value-zeroing')));
  });
});
