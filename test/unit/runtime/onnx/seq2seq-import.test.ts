// An optimum-layout encoder–decoder export of tiny-marian-dates (test/fixtures/models/tiny-marian-dates-onnx:
// encoder_model.onnx + decoder_model.onnx, eager attention) imported through the real worker, on native and Wasm:
// the decoder gets real decoder inputs, so a greedy run translates "the 14th of March, 2021" into "2021-03-14", the
// entries follow ModelFacts.encoderDecoder (encoder, decoder, cross), every map equals Hugging Face transformers'
// reference_attention.json to ≤ 1e-5 and the family builder's entries (the same weights through
// runtime/models/marian.ts) to ≤ 1e-5, and a given target is teacher-forced to the same maps.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { load } from '../../../../runtime/inspector/load-model';
import type { Inspector } from '../../../../runtime/inspector/api';
import { fixturesDir, marianDatesDir, repoRoot } from '../../../helpers/fixtures';
import { allLayers, worstAbs } from '../../../helpers/layer-results';

const WORKER = path.join(repoRoot, 'dist/worker.js');
const ONNX_DIR = path.join(fixturesDir, 'models', 'tiny-marian-dates-onnx');
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

before(() => execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' }));

for (const backend of ['native', 'wasm'] as const) {
  let imported: Inspector;
  let family: Inspector;
  before(async () => {
    imported = await load(ONNX_DIR, { backend, threads: 1, workerPath: WORKER });
    family = await load(marianDatesDir, { backend, threads: 1, workerPath: WORKER });
  });
  after(async () => {
    await imported?.dispose();
    await family?.dispose();
  });

  test(`${backend}: the import translates greedily and its three kinds equal the reference and the family builder`, async () => {
    assert.equal(imported.facts.family, 'onnx');
    assert.deepEqual(imported.facts.encoderDecoder, family.facts.encoderDecoder);
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
    assert.deepEqual(
      layers.map((l) => [l.layer, l.kind, l.stackLayer, l.queryLength, l.keyLength]),
      [
        [0, 'encoder', 0, 8, 8],
        [1, 'encoder', 1, 8, 8],
        [2, 'decoder', 0, 6, 6],
        [3, 'decoder', 1, 6, 6],
        [4, 'cross', 0, 6, 8],
        [5, 'cross', 1, 6, 8],
      ],
    );
    const expected = [...ref.encoder_attentions, ...ref.decoder_attentions, ...ref.cross_attentions];
    layers.forEach((l, e) => {
      const w = worstAbs(l.data, expected[e]);
      assert.ok(w <= 1e-5, `entry ${e} (${l.kind}): ${w} from the reference`);
    });
    const builder = await allLayers(family.run(ref.source_text));
    assert.deepEqual(
      builder.map((l) => [l.layer, l.kind, l.stackLayer, l.queryLength, l.keyLength]),
      layers.map((l) => [l.layer, l.kind, l.stackLayer, l.queryLength, l.keyLength]),
    );
    builder.forEach((b, e) => {
      let w = 0;
      b.data.forEach((x, i) => (w = Math.max(w, Math.abs(x - layers[e].data[i]))));
      assert.ok(w <= 1e-5, `entry ${e}: ${w} from the family builder`);
    });
  });

  test(`${backend}: a target given as text is teacher-forced with [start] + labels[:-1] and gives the same maps`, async () => {
    const run = imported.run(ref.source_text, { target: ref.target_text });
    const layers = await allLayers(run);
    const target = run.target()!;
    assert.equal(target.mode, 'teacher-forced');
    assert.deepEqual(
      target.decoderInput.map((t) => t.id),
      ref.decoder_input_ids,
    );
    const expected = [...ref.encoder_attentions, ...ref.decoder_attentions, ...ref.cross_attentions];
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
  });
}
