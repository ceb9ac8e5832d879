// optimum's exports of tiny-marian-dates with a key/value cache, written by optimum's own exporter
// (scripts/make-marian-onnx-past-fixture.py): encoder_model.onnx + decoder_model.onnx + decoder_with_past_model.onnx
// (test/fixtures/models/tiny-marian-dates-onnx-past) and encoder_model.onnx + decoder_model_merged.onnx
// (tiny-marian-dates-onnx-merged), imported through the real worker on native and Wasm. A greedy run decodes
// KV-cached (the first pass, then one cached step per token: checked by counting the step sessions that ran) and
// still translates "the 14th of March, 2021" into "2021-03-14", with every encoder, decoder and cross map equal to
// Hugging Face transformers' reference_attention.json (eager attention, teacher forcing on the same target) to ≤ 1e-5;
// a given target is teacher-forced through decoder_model (the merged file's no-cache branch) to the same maps.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { load } from '../../../../runtime/inspector/load-model';
import type { Inspector } from '../../../../runtime/inspector/api';
import { ImportEngine } from '../../../../runtime/onnx/import-engine';
import { findOnnxInFolder, layoutOfFile } from '../../../../runtime/onnx/locate';
import { marianDatesCacheDirs, marianDatesDir, repoRoot } from '../../../helpers/fixtures';
import { allLayers, worstAbs } from '../../../helpers/layer-results';

const WORKER = path.join(repoRoot, 'dist/worker.js');
const LAYOUTS = marianDatesCacheDirs;
const ref = JSON.parse(fs.readFileSync(path.join(marianDatesDir, 'reference_attention.json'), 'utf8')) as {
  source_text: string;
  target_text: string;
  source_ids: number[];
  target_ids: number[];
  decoder_input_ids: number[];
  target_logprobs: number[];
  encoder_attentions: number[][][][];
  decoder_attentions: number[][][][];
  cross_attentions: number[][][][];
};
const expected = [...ref.encoder_attentions, ...ref.decoder_attentions, ...ref.cross_attentions];

before(() => execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' }));

test('the folders resolve to their cache layouts: the merged decoder alone, decoder_model + decoder_with_past', () => {
  const past = findOnnxInFolder(LAYOUTS.past)!;
  assert.deepEqual(
    [past.encoder, past.model, past.step].map((f) => f && path.basename(f)),
    ['encoder_model.onnx', 'decoder_model.onnx', 'decoder_with_past_model.onnx'],
  );
  const merged = findOnnxInFolder(LAYOUTS.merged)!;
  assert.deepEqual(
    [merged.encoder, merged.model, merged.step].map((f) => f && path.basename(f)),
    ['encoder_model.onnx', 'decoder_model_merged.onnx', undefined],
  );
  // Any file of the export named on its own takes its partners, as the folder would.
  for (const name of ['encoder_model.onnx', 'decoder_model.onnx', 'decoder_with_past_model.onnx'])
    assert.deepEqual(layoutOfFile(path.join(LAYOUTS.past, name)), past, name);
  assert.deepEqual(layoutOfFile(path.join(LAYOUTS.merged, 'decoder_model_merged.onnx')), merged);
});

for (const [name, dir] of Object.entries(LAYOUTS)) {
  test(`${name}: the engine runs the first pass and then one cached step per token`, async () => {
    const engine = await ImportEngine.create(findOnnxInFolder(dir)!, 'native', 1);
    try {
      assert.equal(engine.cached, true);
      const enc = await engine.encode(ref.source_ids);
      const first = await engine.decode(enc, [ref.decoder_input_ids[0]], undefined, true);
      assert.ok(first.cache && first.cache.size === 8, 'self and cross keys and values of 2 layers');
      const before = engine.stageRuns;
      const step = await engine.step(enc, first.cache, ref.decoder_input_ids[1], 1);
      assert.equal(engine.stageRuns - before, 1, 'one session call per step');
      assert.deepEqual(
        step.self.map((a) => [a.kind, a.queryLength, a.keyLength]),
        [
          ['decoder', 1, 2],
          ['decoder', 1, 2],
        ],
      );
      assert.deepEqual(
        step.cross.map((a) => [a.kind, a.queryLength, a.keyLength]),
        [
          ['cross', 1, ref.source_ids.length],
          ['cross', 1, ref.source_ids.length],
        ],
      );
      // Row 1 of the teacher-forced reference maps.
      step.self.forEach((a, l) =>
        assert.ok(
          worstAbs(
            a.data,
            ref.decoder_attentions[l].map((h) => [h[1].slice(0, 2)]),
          ) <= 1e-5,
        ),
      );
      step.cross.forEach((a, l) =>
        assert.ok(
          worstAbs(
            a.data,
            ref.cross_attentions[l].map((h) => [h[1]]),
          ) <= 1e-5,
        ),
      );
      assert.equal(first.cache.get('past_key_values.0.decoder.key')!.dims[2], 2, 'the step carried the cache on');
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

    test(`${name}, ${backend}: KV-cached greedy translation; tokens and all three kinds equal the reference`, async () => {
      assert.equal(imported.facts.family, 'onnx');
      assert.deepEqual(imported.facts.attentionKinds, ['encoder', 'encoder', 'decoder', 'decoder', 'cross', 'cross']);
      const run = imported.run(ref.source_text);
      assert.deepEqual(
        run.tokens.map((t) => t.id),
        ref.source_ids,
      );
      const layers = await allLayers(run);
      const target = run.target()!;
      assert.equal(target.mode, 'translated');
      assert.equal(target.end, 'stop');
      assert.deepEqual(
        target.tokens.map((t) => t.id),
        ref.target_ids,
      );
      assert.equal(imported.tokenizer!.decode(target.tokens.map((t) => t.id).slice(0, -1)), '2021-03-14');
      target.logprobs.forEach((lp, i) => assert.ok(Math.abs(lp - ref.target_logprobs[i]) < 1e-4, `logprob ${i}`));
      const T = ref.target_ids.length;
      const S = ref.source_ids.length;
      assert.deepEqual(
        layers.map((l) => [l.layer, l.kind, l.stackLayer, l.queryLength, l.keyLength]),
        [
          [0, 'encoder', 0, S, S],
          [1, 'encoder', 1, S, S],
          [2, 'decoder', 0, T, T],
          [3, 'decoder', 1, T, T],
          [4, 'cross', 0, T, S],
          [5, 'cross', 1, T, S],
        ],
      );
      layers.forEach((l, e) => {
        const w = worstAbs(l.data, expected[e]);
        assert.ok(w <= 1e-5, `entry ${e} (${l.kind}): ${w} from the reference`);
      });
    });

    test(`${name}, ${backend}: a given target is teacher-forced through the no-cache decoder to the same maps`, async () => {
      const run = imported.run(ref.source_text, { target: ref.target_text });
      const layers = await allLayers(run);
      const target = run.target()!;
      assert.equal(target.mode, 'teacher-forced');
      assert.deepEqual(
        target.decoderInput.map((t) => t.id),
        ref.decoder_input_ids,
      );
      layers.forEach((l, e) => assert.ok(worstAbs(l.data, expected[e]) <= 1e-5, `entry ${e}`));
      const short = imported.run(ref.source_text, { translate: { maxNew: 2 } });
      const cut = await allLayers(short);
      // The generation_config's forced_eos_token_id puts eos (0) at the limit, as transformers' generate does.
      assert.equal(short.target()!.end, 'stop');
      assert.deepEqual(
        short.target()!.tokens.map((t) => t.id),
        [ref.target_ids[0], 0],
      );
      assert.equal(cut[4].queryLength, 2);
      layers.slice(2).forEach((l, e) => assert.ok(l.data.length > 0, `entry ${e + 2}`));
    });
  }
}
