// The encoder–decoder families (runtime/models/marian.ts, bart.ts, t5.ts through seq2seq-graph.ts, run by
// runtime/generate/seq2seq-runner.ts) against Hugging Face transformers' own eager attention: tiny-marian-dates
// (a trained Marian model; its reference_attention.json is one teacher-forced pass after greedy generate) and the
// hf-tiny t5 and bart folders (random weights; teacher forcing on labels). On both CPU backends: the tokenizer gives
// the reference ids (source and target), the encoder, decoder and cross attention of every layer and head are
// within 1e-5, decoder rows are exactly 0 above the diagonal, Marian's target log-probabilities and the hf-tiny
// models' last-position top-5 log-probabilities are within 1e-4, greedy translation of "the 14th of March, 2021" is
// "2021-03-14", and every KV-cached greedy step's rows equal the teacher-forced pass's rows to 1e-5.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  decoderInputOfLabels,
  logSoftmaxAt,
  Seq2SeqRunner,
  shiftRight,
} from '../../../../runtime/generate/seq2seq-runner';
import { readSeq2SeqModel } from '../../../../runtime/models/seq2seq-read';
import { loadTokenizer } from '../../../../runtime/tokenizers/index';
import type { BackendName, LayerAttention } from '../../../../runtime/types';
import { hfTinyModel, marianDatesDir } from '../../../helpers/fixtures';

const BACKENDS: BackendName[] = ['native', 'wasm'];
const TOL = 1e-5;

const releases: (() => Promise<void>)[] = [];
after(async () => {
  for (const r of releases) await r();
});

type Maps = number[][][][]; // [layer][head][query][key]

function maxDiff(got: LayerAttention[], want: Maps): number {
  assert.equal(got.length, want.length, 'layers');
  let worst = 0;
  got.forEach((a, l) => {
    const H = want[l].length;
    const Q = want[l][0].length;
    const K = want[l][0][0].length;
    assert.deepEqual([a.heads, a.queryLength, a.keyLength], [H, Q, K], `layer ${l} shape`);
    for (let h = 0; h < H; h++)
      for (let q = 0; q < Q; q++)
        for (let k = 0; k < K; k++) worst = Math.max(worst, Math.abs(a.data[(h * Q + q) * K + k] - want[l][h][q][k]));
  });
  return worst;
}

function assertCausalZeros(layers: LayerAttention[]): void {
  for (const a of layers)
    for (let h = 0; h < a.heads; h++)
      for (let q = 0; q < a.queryLength; q++)
        for (let k = q + 1; k < a.keyLength; k++)
          assert.equal(a.data[(h * a.queryLength + q) * a.keyLength + k], 0, `layer ${a.layer} head ${h} (${q},${k})`);
}

async function runner(dir: string, backend: BackendName): Promise<Seq2SeqRunner> {
  const r = await Seq2SeqRunner.create(await readSeq2SeqModel(dir), { backend, threads: 1 });
  releases.push(() => r.release());
  return r;
}

/** Every greedy step's rows equal row `index` of the teacher-forced pass on the generated tokens. */
async function checkStepsAgainstTeacherForcing(r: Seq2SeqRunner, sourceIds: number[], maxNew: number) {
  const enc = await r.encode(sourceIds);
  const steps = [];
  for await (const s of r.translate(enc, { maxNew })) steps.push(s);
  const ids = steps.map((s) => s.id);
  const full = await r.teacherForce(enc, shiftRight(ids, r.source.config.decoderStartTokenId));
  const T = ids.length;
  const S = sourceIds.length;
  const V = r.source.config.vocabSize;
  let worst = 0;
  for (const s of steps) {
    full.self.forEach((a, l) => {
      for (let h = 0; h < a.heads; h++)
        for (let k = 0; k <= s.index; k++)
          worst = Math.max(worst, Math.abs(s.selfRows[l][h * (s.index + 1) + k] - a.data[(h * T + s.index) * T + k]));
    });
    full.cross.forEach((a, l) => {
      for (let h = 0; h < a.heads; h++)
        for (let k = 0; k < S; k++)
          worst = Math.max(worst, Math.abs(s.crossRows[l][h * S + k] - a.data[(h * T + s.index) * S + k]));
    });
    assert.ok(Math.abs(s.logprob - logSoftmaxAt(full.logits, V, s.index, s.id)) < 1e-4, `step ${s.index} logprob`);
  }
  assert.ok(worst <= TOL, `KV-cached rows vs teacher forcing: ${worst}`);
  return ids;
}

interface MarianReference {
  source_text: string;
  target_text: string;
  source_ids: number[];
  source_tokens: string[];
  decoder_input_ids: number[];
  target_ids: number[];
  target_logprobs: number[];
  encoder_attentions: Maps;
  decoder_attentions: Maps;
  cross_attentions: Maps;
}

const marianRef: MarianReference = JSON.parse(
  fs.readFileSync(path.join(marianDatesDir, 'reference_attention.json'), 'utf8'),
);

test('tiny-marian-dates: the tokenizer gives the reference source and target ids', async () => {
  const tok = await loadTokenizer(marianDatesDir);
  const source = tok.encode(marianRef.source_text);
  assert.deepEqual(
    source.map((t) => t.id),
    marianRef.source_ids,
  );
  assert.deepEqual(
    source.map((t) => t.text),
    marianRef.source_tokens,
  );
  const target = (tok.target ?? tok).encode(marianRef.target_text);
  assert.deepEqual(
    target.map((t) => t.id),
    marianRef.target_ids,
  );
});

for (const backend of BACKENDS) {
  test(`tiny-marian-dates (${backend}): encoder, decoder and cross attention and target log-probabilities match transformers`, async () => {
    const r = await runner(marianDatesDir, backend);
    const enc = await r.encode(marianRef.source_ids);
    const decIn = shiftRight(marianRef.target_ids, r.source.config.decoderStartTokenId);
    assert.deepEqual(decIn, marianRef.decoder_input_ids);
    const out = await r.teacherForce(enc, decIn);
    assert.ok(enc.attention.every((a) => a.kind === 'encoder'));
    assert.ok(out.self.every((a) => a.kind === 'decoder'));
    assert.ok(out.cross.every((a) => a.kind === 'cross'));
    const d = {
      encoder: maxDiff(enc.attention, marianRef.encoder_attentions),
      decoder: maxDiff(out.self, marianRef.decoder_attentions),
      cross: maxDiff(out.cross, marianRef.cross_attentions),
    };
    for (const [kind, diff] of Object.entries(d)) assert.ok(diff <= TOL, `${kind}: ${diff}`);
    assertCausalZeros(out.self);
    const V = r.source.config.vocabSize;
    marianRef.target_ids.forEach((id, i) => {
      const lp = logSoftmaxAt(out.logits, V, i, id);
      assert.ok(
        Math.abs(lp - marianRef.target_logprobs[i]) < 1e-4,
        `logprob ${i}: ${lp} vs ${marianRef.target_logprobs[i]}`,
      );
    });
  });

  test(`tiny-marian-dates (${backend}): greedy translation is "2021-03-14" and each cached step's rows equal teacher forcing`, async () => {
    const r = await runner(marianDatesDir, backend);
    const ids = await checkStepsAgainstTeacherForcing(r, marianRef.source_ids, 64);
    assert.deepEqual(ids, marianRef.target_ids);
    const tok = await loadTokenizer(marianDatesDir);
    assert.equal((tok.target ?? tok).decode(ids.slice(0, -1)), marianRef.target_text);
  });
}

interface HfReference {
  source_text: string;
  target_text: string;
  input_ids: number[];
  labels: number[];
  decoder_input_ids: number[];
  encoder_attentions: Maps;
  decoder_attentions: Maps;
  cross_attentions: Maps;
  top5_last: { ids: number[]; logprobs: number[] };
  /** mbart: transformers' greedy generate (decoder start first; the last token forced eos at the length limit). */
  generated_ids?: number[];
}

for (const family of ['t5', 'bart', 'mbart'] as const) {
  const dir = hfTinyModel(family);
  const ref: HfReference = JSON.parse(fs.readFileSync(path.join(dir, 'reference_attention.json'), 'utf8'));

  test(`hf-tiny ${family}: the tokenizer gives the reference source ids and labels`, async () => {
    const tok = await loadTokenizer(dir);
    assert.deepEqual(
      tok.encode(ref.source_text).map((t) => t.id),
      ref.input_ids,
    );
    assert.deepEqual(
      (tok.target ?? tok).encode(ref.target_text).map((t) => t.id),
      ref.labels,
    );
  });

  for (const backend of BACKENDS) {
    test(`hf-tiny ${family} (${backend}): all three kinds of attention and the last top-5 match transformers`, async () => {
      const r = await runner(dir, backend);
      const enc = await r.encode(ref.input_ids);
      const decIn = decoderInputOfLabels(ref.labels, r.source.config);
      assert.deepEqual(decIn, ref.decoder_input_ids);
      // mBART's labels end with a language code, which transformers moves to the front instead of the start token.
      if (family === 'mbart')
        assert.notDeepEqual(shiftRight(ref.labels, r.source.config.decoderStartTokenId), ref.decoder_input_ids);
      const out = await r.teacherForce(enc, decIn);
      const d = {
        encoder: maxDiff(enc.attention, ref.encoder_attentions),
        decoder: maxDiff(out.self, ref.decoder_attentions),
        cross: maxDiff(out.cross, ref.cross_attentions),
      };
      for (const [kind, diff] of Object.entries(d)) assert.ok(diff <= TOL, `${kind}: ${diff}`);
      assertCausalZeros(out.self);
      const V = r.source.config.vocabSize;
      const last = decIn.length - 1;
      ref.top5_last.ids.forEach((id, i) => {
        const lp = logSoftmaxAt(out.logits, V, last, id);
        assert.ok(Math.abs(lp - ref.top5_last.logprobs[i]) < 1e-4, `top5 ${i}: ${lp} vs ${ref.top5_last.logprobs[i]}`);
      });
    });

    test(`hf-tiny ${family} (${backend}): each KV-cached greedy step's rows equal the teacher-forced pass`, async () => {
      const r = await runner(dir, backend);
      // transformers' generate (max_new_tokens 10) forces eos as the 10th token (forced_eos_token_id), as ours does.
      const ids = await checkStepsAgainstTeacherForcing(r, ref.input_ids, 10);
      assert.ok(ids.length >= 1);
      if (ref.generated_ids) assert.deepEqual(ids, ref.generated_ids.slice(1));
    });
  }
}
