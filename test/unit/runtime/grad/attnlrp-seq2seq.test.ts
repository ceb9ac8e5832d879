// AttnLRP on the encoder–decoders (runtime/grad/seq2seq-gradient.ts with attnlrp-rules.ts) against LXT 2.1's rule
// functions placed on transformers' Marian, BART, T5 and mBART in float64 (LXT has no patch of its own for them;
// test/fixtures/attnlrp/{tiny-marian-dates,hf-tiny-bart,hf-tiny-t5,hf-tiny-mbart}.json, made by scripts/make-attnlrp-reference.py):
// the logit of one target token, its modified gradient w.r.t. the source and the decoder input embeddings to
// ‖d − d_ref‖ / ‖d_ref‖ ≤ 1e-4 and the token relevances of both sides likewise, and the whole target's summed logits
// (self- and cross-attention under the uniform rule, Marian's SiLU / BART's GELU / T5's gated GELU under the identity
// and uniform rules, LayerNorm and T5's RMSNorm with constant norms). Then the Explain method
// (seq2seqGradientAttribution 'attnlrp') through the service, with its conservation note; what it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readSeq2SeqModel } from '../../../../runtime/models/seq2seq-read';
import {
  seq2seqGradientAttribution,
  Seq2SeqGradientRunner,
  Seq2SeqGradientService,
} from '../../../../runtime/grad/seq2seq-gradients';
import { gradientTimesInput } from '../../../../runtime/analysis/gradient-methods';
import { isLensError } from '../../../../runtime/errors';
import { fixturesDir, hfTinyModel, marianDatesDir } from '../../../helpers/fixtures';
import { relativeError } from '../../../helpers/relative-error';

interface Reference {
  source_ids: number[];
  decoder_input_ids: number[];
  labels: number[];
  position: number;
  hidden: number;
  target: number;
  grad_source: number[];
  grad_target: number[];
  relevance_source: number[];
  relevance_target: number[];
  relevance_sum: number;
  plain_gradient_relative_difference: number;
  lxt_float32_relative_error: number;
  /** The whole target: Σ_t logit_t(labels[t]). */
  sequence: { target: number; grad_source: number[]; grad_target: number[]; relevance_source: number[] };
}

const load = (name: string) =>
  JSON.parse(readFileSync(path.join(fixturesDir, 'attnlrp', `${name}.json`), 'utf8')) as Reference;

const cases: [string, () => string][] = [
  ['tiny-marian-dates', () => marianDatesDir],
  ['hf-tiny-bart', () => hfTinyModel('bart')],
  ['hf-tiny-t5', () => hfTinyModel('t5')],
  ['hf-tiny-mbart', () => hfTinyModel('mbart')],
];

for (const [name, dir] of cases) {
  test(`${name}: AttnLRP of a target token's logit equals LXT 2.1's rules (float64) to 1e-4 relative, both sides`, async (t) => {
    const ref = load(name);
    const source = await readSeq2SeqModel(dir());
    const S = ref.source_ids.length;
    const T = ref.decoder_input_ids.length;
    const E = ref.hidden;
    const runner = await Seq2SeqGradientRunner.create(source, { batch: 1, source: S, target: T, rules: 'attnlrp' });
    try {
      const x = runner.embeddings(ref.source_ids);
      const y = runner.embeddings(ref.decoder_input_ids);
      const out = await runner.run(ref.source_ids, ref.decoder_input_ids, x, y, {
        labels: ref.labels,
        position: ref.position,
      });
      assert.ok(
        Math.abs(out.target[0] - ref.target) <= 1e-4 * Math.max(1, Math.abs(ref.target)),
        `logit ${out.target[0]}`,
      );
      const es = relativeError(out.gradSource, ref.grad_source);
      const et = relativeError(out.gradTarget, ref.grad_target);
      assert.ok(es <= 1e-4, `source: relative error ${es}`);
      assert.ok(et <= 1e-4, `decoder inputs: relative error ${et}`);
      // The rules really differ from the gradient's, by far more than the tolerance (on the random pre-LN mBART by
      // 5.5e-3 only).
      assert.ok(
        ref.plain_gradient_relative_difference > 1e-3,
        `rules vs gradient ${ref.plain_gradient_relative_difference}`,
      );
      const rs = gradientTimesInput(out.gradSource, x, S, E);
      const rt = gradientTimesInput(out.gradTarget, y, T, E);
      const ers = relativeError(rs, ref.relevance_source);
      const ert = relativeError(rt, ref.relevance_target);
      assert.ok(ers <= 1e-4 && ert <= 1e-4, `relevance: source ${ers}, target ${ert}`);
      // Later decoder inputs do not reach the token (causal decoder): exactly 0, as LXT gives them.
      for (let j = ref.position + 1; j < T; j++) assert.equal(rt[j], 0);
      const sum = [...rs, ...rt].reduce((a, v) => a + v, 0);
      assert.ok(Math.abs(sum - ref.relevance_sum) <= 1e-4 * Math.abs(ref.target), `Σ relevance ${sum}`);
      // The whole target (every decoder row): Σ_t logit_t(labels[t]).
      const whole = await runner.run(ref.source_ids, ref.decoder_input_ids, x, y, { labels: ref.labels });
      const w = ref.sequence;
      assert.ok(
        Math.abs(whole.target[0] - w.target) <= 1e-4 * Math.max(1, Math.abs(w.target)),
        `Σ logits ${whole.target[0]}`,
      );
      const ws = relativeError(whole.gradSource, w.grad_source);
      const wt = relativeError(whole.gradTarget, w.grad_target);
      assert.ok(ws <= 1e-4 && wt <= 1e-4, `whole target: source ${ws}, target ${wt}`);
      t.diagnostic(
        `whole target: d source ${ws.toExponential(2)}, target ${wt.toExponential(2)}; ` +
          `d: source ${es.toExponential(2)}, target ${et.toExponential(2)}; relevance ${ers.toExponential(2)} / ${ert.toExponential(2)}; Σ R ${sum} / logit ${out.target[0]}`,
      );
    } finally {
      await runner.release();
    }
  });
}

test('tiny-marian-dates: the attnlrp method through the service gives the same relevances, with its conservation note', async () => {
  const ref = load('tiny-marian-dates');
  const service = new Seq2SeqGradientService(await readSeq2SeqModel(marianDatesDir));
  try {
    const request = {
      sourceIds: ref.source_ids,
      decoderInputIds: ref.decoder_input_ids,
      target: { labels: ref.labels, position: ref.position },
    };
    const a = await seq2seqGradientAttribution(service, request, 'attnlrp');
    assert.ok(relativeError(a.source, ref.relevance_source) <= 1e-4);
    assert.ok(relativeError(a.target!, ref.relevance_target) <= 1e-4);
    assert.ok(Math.abs(a.value - ref.target) <= 1e-4 * Math.abs(ref.target));
    assert.match(a.note ?? '', /AttnLRP .* explains the token’s logit: Σ relevance = .*Source tokens: Σ/);
    // The gradient methods beside it still read log p (their own graphs, not AttnLRP's).
    const g = await seq2seqGradientAttribution(service, request, 'grad-x-input');
    assert.ok(g.value < 0 && Math.abs(g.value - ref.target) > 1, `log p ${g.value} vs logit ${ref.target}`);
    await assert.rejects(
      service.compute({ ...request, rules: 'attnlrp', alphas: [0.5, 1] }),
      (e: unknown) => isLensError(e) && /AttnLRP is one backward pass at the input/.test(e.message),
    );
  } finally {
    await service.release();
  }
});
