// An optimum export with Marian base's attention shape (d_model 512, 8 heads of 64, as Helsinki-NLP/opus-mt-*; the
// tiny-marian-dates exports have 4 heads of 32) and a key/value cache in the merged layout
// (test/fixtures/models/marian-d512-onnx-merged: one encoder and one decoder layer, random weights, made by optimum's
// own exporter in scripts/make-marian-base-onnx.py --fixture), imported through the real worker on native and Wasm:
// the KV-cached greedy translation gives transformers' greedy tokens, and every encoder, decoder and cross map of it
// — stacked from the cached steps' rows — and of a teacher-forced run on the same target equals transformers' eager
// attention (reference_attention.json) to ≤ 1e-5. The bench on the full 6 + 6-layer shape is bench/seq2seq-onnx.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { load } from '../../../../runtime/inspector/load-model';
import type { Inspector } from '../../../../runtime/inspector/api';
import { ImportEngine } from '../../../../runtime/onnx/import-engine';
import { findOnnxInFolder } from '../../../../runtime/onnx/locate';
import { marianD512MergedDir, repoRoot } from '../../../helpers/fixtures';
import { allLayers, worstAbs } from '../../../helpers/layer-results';

const WORKER = path.join(repoRoot, 'dist/worker.js');
const dir = marianD512MergedDir;
const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference_attention.json'), 'utf8')) as {
  source_text: string;
  source_ids: number[];
  target_ids: number[];
  decoder_input_ids: number[];
  target_logprobs: number[];
  encoder_attentions: number[][][][];
  decoder_attentions: number[][][][];
  cross_attentions: number[][][][];
};
const expected = [...ref.encoder_attentions, ...ref.decoder_attentions, ...ref.cross_attentions];
const S = ref.source_ids.length;
const T = ref.target_ids.length;

before(() => execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' }));

test('the reference is not near-uniform: a wrong split of 8 heads of 64 would show', () => {
  for (const kind of [ref.encoder_attentions, ref.decoder_attentions, ref.cross_attentions]) {
    const rows = kind[0].flatMap((head) => head.slice(1)); // row 0 of a causal map has one key
    const peak = rows.reduce((s, r) => s + Math.max(...r), 0) / rows.length;
    assert.ok(peak > 0.25, `mean row maximum ${peak}`);
  }
  assert.equal(ref.encoder_attentions[0].length, 8);
});

test('the engine: each graph runs whole; the step decoder carries a cache of 8 heads of 64, one call per token', async () => {
  const engine = await ImportEngine.create(findOnnxInFolder(dir)!, 'native', 1);
  try {
    assert.equal(engine.cached, true);
    // The served run hands each pass's layers on together, so encoder and decoder are one session each.
    assert.deepEqual(engine.stageCounts, [1, 1]);
    const runs = engine.stageRuns;
    const enc = await engine.encode(ref.source_ids);
    const first = await engine.decode(enc, [ref.decoder_input_ids[0]], undefined, true);
    assert.equal(engine.stageRuns - runs, 2, 'one session call per pass');
    assert.deepEqual(first.cache!.get('past_key_values.0.encoder.key')!.dims, [1, 8, S, 64]);
    for (let t = 1; t < T; t++) {
      const before = engine.stageRuns;
      const step = await engine.step(enc, first.cache!, ref.decoder_input_ids[t], t);
      assert.equal(engine.stageRuns - before, 1, 'one session call per step');
      assert.deepEqual(first.cache!.get('past_key_values.0.decoder.key')!.dims, [1, 8, t + 1, 64]);
      // Row t of the teacher-forced reference maps.
      assert.ok(
        worstAbs(
          step.self[0].data,
          ref.decoder_attentions[0].map((h) => [h[t].slice(0, t + 1)]),
        ) <= 1e-5,
      );
      assert.ok(
        worstAbs(
          step.cross[0].data,
          ref.cross_attentions[0].map((h) => [h[t]]),
        ) <= 1e-5,
      );
    }
  } finally {
    await engine.release();
  }
});

for (const backend of ['native', 'wasm'] as const) {
  let imported: Inspector;
  before(async () => {
    imported = await load(dir, { backend, threads: 1, workerPath: WORKER });
  });
  after(async () => {
    await imported?.dispose();
  });

  test(`${backend}: KV-cached greedy translation; tokens and all three kinds equal transformers'`, async () => {
    assert.deepEqual(imported.facts.attentionKinds, ['encoder', 'decoder', 'cross']);
    const run = imported.run(ref.source_text, { translate: { maxNew: T } });
    assert.deepEqual(
      run.tokens.map((t) => t.id),
      ref.source_ids,
    );
    const layers = await allLayers(run);
    const target = run.target()!;
    assert.equal(target.mode, 'translated');
    // The reference's greedy loop took the argmax at every step; generate() forces eos (0) at the limit
    // (generation_config.json's forced_eos_token_id). The maps are the same: the last token is no decoder input.
    assert.deepEqual(
      target.tokens.map((t) => t.id),
      [...ref.target_ids.slice(0, -1), 0],
    );
    assert.equal(target.end, 'stop');
    target.logprobs
      .slice(0, -1)
      .forEach((lp, i) => assert.ok(Math.abs(lp - ref.target_logprobs[i]) < 1e-4, `logprob ${i}`));
    assert.deepEqual(
      layers.map((l) => [l.kind, l.heads, l.queryLength, l.keyLength]),
      [
        ['encoder', 8, S, S],
        ['decoder', 8, T, T],
        ['cross', 8, T, S],
      ],
    );
    layers.forEach((l, e) => {
      const w = worstAbs(l.data, expected[e]);
      assert.ok(w <= 1e-5, `entry ${e} (${l.kind}): ${w} from the reference`);
    });
  });

  test(`${backend}: the same target teacher-forced through the no-cache branch gives the same maps`, async () => {
    const run = imported.run(ref.source_text, { target: ref.target_ids });
    const layers = await allLayers(run);
    assert.deepEqual(
      run.target()!.decoderInput.map((t) => t.id),
      ref.decoder_input_ids,
    );
    layers.forEach((l, e) => {
      const w = worstAbs(l.data, expected[e]);
      assert.ok(w <= 1e-5, `entry ${e} (${l.kind}): ${w} from the reference`);
    });
  });
}
