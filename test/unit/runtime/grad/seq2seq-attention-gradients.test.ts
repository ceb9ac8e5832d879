// Attention × gradient on encoder–decoders (runtime/grad/seq2seq-gradient*.ts): every decoder layer's cross-attention
// and the gradient of the target w.r.t. it, against PyTorch autograd in float64
// (test/fixtures/gradients/{tiny-marian-dates,hf-tiny-bart,hf-tiny-t5,hf-tiny-mbart}.json, `cross_attention` and `grad_cross`,
// made by scripts/make-gradient-reference.py --seq2seq) to ‖g − g_ref‖ / ‖g_ref‖ ≤ 1e-4, for one target token (the
// graph stops at its row) and the whole target; then the method's scores = Σ_t mean_h A·G from the reference
// tensors, and a hand-computed case of that reduction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readSeq2SeqModel } from '../../../../runtime/models/seq2seq-read';
import {
  crossAttentionTimesGradient,
  seq2seqGradientAttribution,
  Seq2SeqGradientService,
} from '../../../../runtime/grad/seq2seq-gradients';
import { isLensError } from '../../../../runtime/errors';
import { fixturesDir, hfTinyModel, marianDatesDir } from '../../../helpers/fixtures';
import { relativeError } from '../../../helpers/relative-error';

interface Side {
  target: number;
  cross_attention: number[][]; // [L][H·T·S]
  grad_cross: number[][];
}
interface Reference {
  source_ids: number[];
  decoder_input_ids: number[];
  labels: number[];
  position: number;
  token: Side;
  sequence: Side;
}

const load = (name: string) =>
  JSON.parse(readFileSync(path.join(fixturesDir, 'gradients', `${name}.json`), 'utf8')) as Reference;

/** Rows 0 .. rows − 1 of a [H,T,S] array. [H,rows,S] */
function firstRows(a: ArrayLike<number>, heads: number, T: number, S: number, rows: number): Float64Array {
  const out = new Float64Array(heads * rows * S);
  for (let h = 0; h < heads; h++)
    for (let t = 0; t < rows; t++) for (let j = 0; j < S; j++) out[(h * rows + t) * S + j] = a[(h * T + t) * S + j];
  return out;
}

const cases: [string, () => string][] = [
  ['tiny-marian-dates', () => marianDatesDir],
  ['hf-tiny-bart', () => hfTinyModel('bart')],
  ['hf-tiny-t5', () => hfTinyModel('t5')],
  ['hf-tiny-mbart', () => hfTinyModel('mbart')],
];

for (const [name, dir] of cases) {
  test(`${name}: cross-attention and d(target)/d(cross-attention) of every decoder layer equal PyTorch autograd to 1e-4`, async () => {
    const ref = load(name);
    const source = await readSeq2SeqModel(dir());
    const service = new Seq2SeqGradientService(source);
    const S = ref.source_ids.length;
    const T = ref.decoder_input_ids.length;
    const H = source.config.heads;
    try {
      for (const kind of ['token', 'sequence'] as const) {
        const side = ref[kind];
        const request = {
          sourceIds: ref.source_ids,
          decoderInputIds: ref.decoder_input_ids,
          target: { labels: ref.labels, ...(kind === 'token' ? { position: ref.position } : {}) },
          attention: true,
        };
        const r = await service.compute(request);
        const rows = kind === 'token' ? ref.position + 1 : T;
        assert.equal(r.attentionRows, rows);
        assert.equal(r.cross!.length, side.grad_cross.length);
        for (let l = 0; l < side.grad_cross.length; l++) {
          const ea = relativeError(r.cross![l], firstRows(side.cross_attention[l], H, T, S, rows));
          const eg = relativeError(r.gradCross![l], firstRows(side.grad_cross[l], H, T, S, rows));
          assert.ok(ea <= 1e-5, `${kind} layer ${l} cross-attention: relative error ${ea}`);
          assert.ok(eg <= 1e-4, `${kind} layer ${l} d/d cross-attention: relative error ${eg}`);
          // A token target: the rows after it do not reach it (causal decoder), so the reference is 0 there.
          if (kind === 'token')
            for (let h = 0; h < H; h++)
              for (let t = rows; t < T; t++)
                for (let j = 0; j < S; j++) assert.equal(side.grad_cross[l][(h * T + t) * S + j], 0);
        }
        // The method: Σ_t mean_h A·G of the chosen layer, from the reference tensors.
        for (let l = 0; l < side.grad_cross.length; l++) {
          const want = crossAttentionTimesGradient(side.cross_attention[l], side.grad_cross[l], H, T, S, 'mean');
          const got = await seq2seqGradientAttribution(service, request, 'attn-x-grad', { layer: l });
          assert.ok(relativeError(got.source, want) <= 1e-4, `${kind} layer ${l} scores`);
          assert.ok(Math.abs(got.value - side.target) <= 1e-4 * Math.max(1, Math.abs(side.target)));
          const one = await seq2seqGradientAttribution(service, request, 'attn-x-grad', { layer: l, head: 1 });
          const wantOne = crossAttentionTimesGradient(side.cross_attention[l], side.grad_cross[l], H, T, S, 1);
          assert.ok(relativeError(one.source, wantOne) <= 1e-4, `${kind} layer ${l} head 1 scores`);
        }
      }
    } finally {
      await service.release();
    }
  });
}

test('crossAttentionTimesGradient: Σ over rows of the head mean of A·G, by hand', () => {
  // H = 2, rows = 2, S = 3.
  const A = [0.5, 0.25, 0.25, 0.1, 0.2, 0.7, 1, 0, 0, 0.3, 0.3, 0.4];
  const G = [2, -4, 0, 10, 0, 1, 1, 5, 5, -1, 2, 0];
  // head 0: row 0 → [1, -1, 0], row 1 → [1, 0, 0.7]: [2, -1, 0.7]; head 1: [1, 0, 0] + [-0.3, 0.6, 0]: [0.7, 0.6, 0]
  assert.deepEqual(
    Array.from(crossAttentionTimesGradient(A, G, 2, 2, 3, 0)).map((v) => +v.toFixed(12)),
    [2, -1, 0.7],
  );
  assert.deepEqual(
    Array.from(crossAttentionTimesGradient(A, G, 2, 2, 3, 1)).map((v) => +v.toFixed(12)),
    [0.7, 0.6, 0],
  );
  assert.deepEqual(
    Array.from(crossAttentionTimesGradient(A, G, 2, 2, 3, 'mean')).map((v) => +v.toFixed(12)),
    [1.35, -0.2, 0.35],
  );
  assert.throws(() => crossAttentionTimesGradient(A, G, 2, 2, 3, 2), /head 2 is outside 0\.\.1/);
});

test('attention gradients are read at the input itself: a request with alphas stops with one line', async () => {
  const ref = load('tiny-marian-dates');
  const service = new Seq2SeqGradientService(await readSeq2SeqModel(marianDatesDir));
  try {
    await assert.rejects(
      service.compute({
        sourceIds: ref.source_ids,
        decoderInputIds: ref.decoder_input_ids,
        target: { labels: ref.labels },
        attention: true,
        alphas: [0.5],
      }),
      (e: unknown) => isLensError(e) && e.code === 'BAD_INPUT' && /no alphas/.test(e.message),
    );
  } finally {
    await service.release();
  }
});
