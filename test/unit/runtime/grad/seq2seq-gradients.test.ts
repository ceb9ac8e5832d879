// Encoder–decoder gradients of runtime/grad/seq2seq-gradient*.ts against PyTorch autograd in float64
// (test/fixtures/gradients/{tiny-marian-dates,hf-tiny-bart,hf-tiny-t5,hf-tiny-mbart}.json, made by
// scripts/make-gradient-reference.py): d log p(one target token) and d log p(whole target) w.r.t. the source and the
// decoder input embeddings, each to ‖g − g_ref‖ / ‖g_ref‖ ≤ 1e-4; then the methods built on them (saliency and
// gradient × input from the same gradients; Integrated Gradients' completeness, batched the same as one row at a time).
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
import { gradientTimesInput, saliency } from '../../../../runtime/analysis/gradient-methods';
import { isLensError } from '../../../../runtime/errors';
import { fixturesDir, hfTinyModel, marianDatesDir } from '../../../helpers/fixtures';
import { relativeError } from '../../../helpers/relative-error';

interface Side {
  target: number;
  grad_source: number[];
  grad_target: number[];
  torch_float32_relative_error: { grad_source: number; grad_target: number };
}
interface Reference {
  source_ids: number[];
  decoder_input_ids: number[];
  labels: number[];
  position: number;
  hidden: number;
  token: Side;
  sequence: Side;
}

const load = (name: string) =>
  JSON.parse(readFileSync(path.join(fixturesDir, 'gradients', `${name}.json`), 'utf8')) as Reference;

const cases: [string, () => string][] = [
  ['tiny-marian-dates', () => marianDatesDir],
  ['hf-tiny-bart', () => hfTinyModel('bart')],
  ['hf-tiny-t5', () => hfTinyModel('t5')],
  ['hf-tiny-mbart', () => hfTinyModel('mbart')],
];

for (const [name, dir] of cases) {
  test(`${name}: source and decoder-input gradients of log p(token) and log p(target) equal PyTorch autograd to 1e-4`, async () => {
    const ref = load(name);
    const source = await readSeq2SeqModel(dir());
    const S = ref.source_ids.length;
    const T = ref.decoder_input_ids.length;
    // Two rows: the token target and the whole-target target cannot share a batch (one weights input), so the
    // rows also check that a batch of identical rows gives each row the one-row gradient.
    const runner = await Seq2SeqGradientRunner.create(source, { batch: 2, source: S, target: T });
    try {
      const x = runner.embeddings(ref.source_ids);
      const y = runner.embeddings(ref.decoder_input_ids);
      const twice = (a: Float32Array) => {
        const out = new Float32Array(2 * a.length);
        out.set(a);
        out.set(a, a.length);
        return out;
      };
      for (const kind of ['token', 'sequence'] as const) {
        const side = ref[kind];
        const out = await runner.run(ref.source_ids, ref.decoder_input_ids, twice(x), twice(y), {
          labels: ref.labels,
          ...(kind === 'token' ? { position: ref.position } : {}),
        });
        for (let b = 0; b < 2; b++) {
          assert.ok(
            Math.abs(out.target[b] - side.target) <= 1e-4 * Math.max(1, Math.abs(side.target)),
            `${kind} target ${out.target[b]} vs ${side.target}`,
          );
          const es = relativeError(
            out.gradSource.subarray(b * S * ref.hidden, (b + 1) * S * ref.hidden),
            side.grad_source,
          );
          const et = relativeError(
            out.gradTarget.subarray(b * T * ref.hidden, (b + 1) * T * ref.hidden),
            side.grad_target,
          );
          assert.ok(es <= 1e-4, `${kind} d/d source embeddings (row ${b}): relative error ${es}`);
          assert.ok(et <= 1e-4, `${kind} d/d decoder input embeddings (row ${b}): relative error ${et}`);
        }
      }
    } finally {
      await runner.release();
    }
  });
}

for (const [name, dir] of cases) {
  test(`${name}: the service stops the decoder at the explained position (causal) and still matches every row`, async () => {
    const ref = load(name);
    const service = new Seq2SeqGradientService(await readSeq2SeqModel(dir()));
    try {
      const r = await service.compute({
        sourceIds: ref.source_ids,
        decoderInputIds: ref.decoder_input_ids,
        target: { labels: ref.labels, position: ref.position },
      });
      const E = ref.hidden;
      assert.ok(relativeError(r.gradSource, ref.token.grad_source) <= 1e-4);
      assert.ok(relativeError(r.gradTarget, ref.token.grad_target) <= 1e-4);
      assert.ok(
        r.gradTarget.subarray((ref.position + 1) * E).every((v) => v === 0),
        'later decoder inputs: 0',
      );
      assert.ok(Math.abs(r.target[0] - ref.token.target) <= 1e-4 * Math.max(1, Math.abs(ref.token.target)));
    } finally {
      await service.release();
    }
  });
}

test('tiny-marian-dates: saliency and gradient × input of ▁2021 are the causal methods on the reference gradients', async () => {
  const ref = load('tiny-marian-dates');
  const service = new Seq2SeqGradientService(await readSeq2SeqModel(marianDatesDir));
  try {
    const request = {
      sourceIds: ref.source_ids,
      decoderInputIds: ref.decoder_input_ids,
      target: { labels: ref.labels, position: ref.position },
    };
    const E = ref.hidden;
    const S = ref.source_ids.length;
    const T = ref.decoder_input_ids.length;
    const sal = await seq2seqGradientAttribution(service, request, 'saliency');
    assert.ok(relativeError(sal.source, saliency(ref.token.grad_source, S, E)) <= 1e-4);
    assert.ok(relativeError(sal.target!, saliency(ref.token.grad_target, T, E)) <= 1e-4);
    const gxi = await seq2seqGradientAttribution(service, request, 'grad-x-input');
    const reply = await service.compute(request);
    assert.ok(
      relativeError(gxi.source, gradientTimesInput(ref.token.grad_source, reply.sourceEmbedding, S, E)) <= 1e-4,
    );
    assert.ok(
      relativeError(gxi.target!, gradientTimesInput(ref.token.grad_target, reply.targetEmbedding, T, E)) <= 1e-4,
    );
    assert.ok(Math.abs(sal.value - ref.token.target) <= 1e-5);
    // "▁2021" is copied from the source's "▁2021" (position 6): it has the largest saliency of the source tokens.
    const top = [...sal.source].indexOf(Math.max(...sal.source));
    assert.equal(top, 6, `saliency ${[...sal.source].map((v) => v.toFixed(4)).join(' ')}`);
  } finally {
    await service.release();
  }
});

test('tiny-marian-dates: Integrated Gradients (source-side pad baseline) adds up to f(x) − f(baseline); batches do not change it', async () => {
  const ref = load('tiny-marian-dates');
  const source = await readSeq2SeqModel(marianDatesDir);
  const request = {
    sourceIds: ref.source_ids,
    decoderInputIds: ref.decoder_input_ids,
    target: { labels: ref.labels, position: ref.position },
  };
  const keep = ref.source_ids.map((id) => id === 0); // the closing </s>
  const batched = new Seq2SeqGradientService(source);
  const single = new Seq2SeqGradientService(source, 'native', 1, 1);
  try {
    const options = { steps: 32, baseline: 'pad' as const, padId: 399, keep };
    const a = await seq2seqGradientAttribution(batched, request, 'integrated-gradients', options);
    const b = await seq2seqGradientAttribution(single, request, 'integrated-gradients', options);
    assert.ok(relativeError(a.source, b.source) <= 1e-5, 'batched vs one row at a time');
    assert.equal(a.source.length, ref.source_ids.length);
    assert.equal(a.source[7], 0, 'a kept position has x = baseline, so no attribution');
    const m = /Σ attributions = (\S+), f\(x\) − f\(baseline\) = (\S+) \(relative gap (\S+) %/.exec(a.note!);
    assert.ok(m, a.note);
    assert.ok(Number(m[3]) < 5, `completeness gap ${m[3]} %: ${a.note}`);
    assert.ok(Math.abs(a.value - ref.token.target) <= 1e-5);
  } finally {
    await batched.release();
    await single.release();
  }
});

test('bad targets stop with one line saying what is wrong: a position past the target, a token outside the vocabulary', async () => {
  const ref = load('tiny-marian-dates');
  const service = new Seq2SeqGradientService(await readSeq2SeqModel(marianDatesDir));
  const request = (target: { labels: number[]; position?: number }) => ({
    sourceIds: ref.source_ids,
    decoderInputIds: ref.decoder_input_ids,
    target,
  });
  try {
    await assert.rejects(
      seq2seqGradientAttribution(service, request({ labels: ref.labels, position: 6 }), 'saliency'),
      (e: unknown) => isLensError(e) && e.code === 'BAD_INPUT' && e.message === 'Target position 6 is outside 0..5.',
    );
    await assert.rejects(
      seq2seqGradientAttribution(service, request({ labels: [166, 2, 12, 2, 42, 400] }), 'saliency'),
      (e: unknown) => isLensError(e) && /^Target token id 400 is outside the vocabulary \[0, 400\)\.$/.test(e.message),
    );
    await assert.rejects(
      service.compute({ ...request({ labels: ref.labels }), sourceIds: [5, 65, 401] }),
      (e: unknown) => isLensError(e) && /^Token id 401 of the source is outside the vocabulary/.test(e.message),
    );
  } finally {
    await service.release();
  }
});
