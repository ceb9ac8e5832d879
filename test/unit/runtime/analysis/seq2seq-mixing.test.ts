// Context mixing on encoder–decoders (runtime/analysis/seq2seq-mixing.ts over the mixing graph of
// runtime/models/seq2seq-mixing-graph.ts, run by runtime/inspector/seq2seq-mixing-service.ts) against a float64
// reference computed from the definitions with transformers and numpy (test/fixtures/mixing/seq2seq-*.json, made by
// scripts/make-seq2seq-mixing-reference.py): every block's ALTI, ALTI+'s source and target contributions, and value
// zeroing through each decoder layer's cross-attention, to ≤ 1e-5, on tiny-marian-dates ("the 14th of March, 2021"
// → ▁2021 - 03 - 14; and 40 source tokens, whose value zeroing runs in two batches), hf-tiny bart, t5 and mbart. Then ALTI+'s rollout on a hand-computed case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readSeq2SeqModel } from '../../../../runtime/models/seq2seq-read';
import { Seq2SeqMixingService } from '../../../../runtime/inspector/seq2seq-mixing-service';
import { altiPlus } from '../../../../runtime/analysis/seq2seq-mixing';
import { fixturesDir, hfTinyModel, marianDatesDir } from '../../../helpers/fixtures';

interface Reference {
  source_ids: number[];
  decoder_input_ids: number[];
  alti_encoder: number[][];
  alti_self: number[][];
  alti_cross: number[][];
  alti_plus_source: number[];
  alti_plus_target: number[];
  value_zeroing: number[][];
}

const load = (name: string) =>
  JSON.parse(readFileSync(path.join(fixturesDir, 'mixing', `seq2seq-${name}.json`), 'utf8')) as Reference;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const cases: [string, () => string][] = [
  ['tiny-marian-dates', () => marianDatesDir],
  // 40 source tokens: value zeroing in two batches of 20 zeroed rows and one unzeroed row each.
  ['tiny-marian-dates-40', () => marianDatesDir],
  ['hf-tiny-bart', () => hfTinyModel('bart')],
  ['hf-tiny-t5', () => hfTinyModel('t5')],
  ['hf-tiny-mbart', () => hfTinyModel('mbart')],
];

for (const [name, dir] of cases) {
  test(`${name}: ALTI of every block, ALTI+ and cross-attention value zeroing equal the float64 reference to 1e-5`, async () => {
    const ref = load(name);
    const service = new Seq2SeqMixingService(await readSeq2SeqModel(dir()));
    const request = { sourceIds: ref.source_ids, decoderInputIds: ref.decoder_input_ids };
    try {
      const a = await service.compute({ ...request, method: 'alti' });
      const blocks = [
        ['encoder', a.layers!.encoder, ref.alti_encoder],
        ['decoder self', a.layers!.self, ref.alti_self],
        ['cross', a.layers!.cross, ref.alti_cross],
      ] as const;
      for (const [kind, got, want] of blocks) {
        assert.equal(got.length, want.length);
        got.forEach((m, l) => {
          const d = maxDiff(m, want[l]);
          assert.ok(d <= 1e-5, `${kind} layer ${l} ALTI: max difference ${d}`);
        });
      }
      const ds = maxDiff(a.source, ref.alti_plus_source);
      const dt = maxDiff(a.target!, ref.alti_plus_target);
      assert.ok(ds <= 1e-5, `ALTI+ source: max difference ${ds}`);
      assert.ok(dt <= 1e-5, `ALTI+ target: max difference ${dt}`);
      const T = ref.decoder_input_ids.length;
      const S = ref.source_ids.length;
      for (let t = 0; t < T; t++) {
        let row = 0;
        for (let j = 0; j < S; j++) row += a.source[t * S + j];
        for (let u = 0; u < T; u++) row += a.target![t * T + u];
        assert.ok(Math.abs(row - 1) < 1e-9, `row ${t} sums to ${row}`);
      }
      for (let l = 0; l < ref.value_zeroing.length; l++) {
        const v = await service.compute({ ...request, method: 'value-zeroing', layer: l });
        const d = maxDiff(v.source, ref.value_zeroing[l]);
        assert.ok(d <= 1e-5, `value zeroing layer ${l}: max difference ${d}`);
        assert.equal(v.rows, S + Math.ceil(S / 32)); // one unzeroed row per batch of ≤ 32 zeroed ones
      }
    } finally {
      await service.release();
    }
  });
}

test('tiny-marian-dates: ▁2021 draws most on the source year token under ALTI+', async () => {
  const ref = load('tiny-marian-dates');
  const service = new Seq2SeqMixingService(await readSeq2SeqModel(marianDatesDir));
  try {
    const a = await service.compute({
      sourceIds: ref.source_ids,
      decoderInputIds: ref.decoder_input_ids,
      method: 'alti',
    });
    const row0 = Array.from(a.source.subarray(0, ref.source_ids.length));
    // Source: the 14th of March , 2021 </s>: "▁2021" is source position 6.
    assert.equal(row0.indexOf(Math.max(...row0)), 6, row0.map((v) => v.toFixed(3)).join(' '));
  } finally {
    await service.release();
  }
});

test('ALTI+ by hand: one encoder layer, one decoder layer, S = 2, T = 2', () => {
  const enc = [Float64Array.from([0.5, 0.5, 0, 1])]; // [S,S]
  const self = [Float64Array.from([1, 0, 0.25, 0.75])]; // [T,T]
  const cross = [Float64Array.from([0.5, 0, 0.5, 0, 0.2, 0.8])]; // [T,S+1]
  const r = altiPlus(enc, self, cross, 2, 2);
  // Row 0: 0.5·enc row 0 = [0.25, 0.25]; the residual 0.5 · self row 0 = [0.5, 0] over the decoder inputs.
  // Row 1: 0.2·enc row 1 = [0, 0.2]; the residual 0.8 · self row 1 = [0.2, 0.6].
  assert.deepEqual(Array.from(r.source), [0.25, 0.25, 0, 0.2]);
  assert.deepEqual(
    Array.from(r.target).map((v) => +v.toFixed(12)),
    [0.5, 0, 0.2, 0.6],
  );
});
