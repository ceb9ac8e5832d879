// Inspector.run on an encoder–decoder model through the real worker thread (dist/worker.js), tiny-marian-dates:
// the layer entries follow ModelFacts.encoderDecoder (encoder, decoder, cross; `stackLayer` within the stack), the
// source tokens are the run's tokens and the target comes with decoder inputs and log-probabilities; the default is
// a greedy translation, a target given as text or as label ids is teacher-forced (the same maps either way), a
// length limit ends a translation early (with eos, which tiny-marian-dates' generation_config forces there), and a
// target or translate on a decoder-only model, or both together, fail with BAD_INPUT.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { load } from '../../../../runtime/inspector/load-model';
import type { Inspector, TargetStep } from '../../../../runtime/inspector/api';
import { isLensError } from '../../../../runtime/errors';
import { fixtureModel, hfTinyModel, marianDatesDir, repoRoot } from '../../../helpers/fixtures';
import { allLayers, worstAbs } from '../../../helpers/layer-results';

const WORKER = path.join(repoRoot, 'dist/worker.js');
const ref = JSON.parse(fs.readFileSync(path.join(marianDatesDir, 'reference_attention.json'), 'utf8')) as {
  source_text: string;
  target_text: string;
  source_ids: number[];
  target_ids: number[];
  decoder_input_ids: number[];
  target_logprobs: number[];
};

let marian: Inspector;
before(async () => {
  marian = await load(marianDatesDir, { backend: 'native', threads: 1, workerPath: WORKER });
});
after(() => marian?.dispose());

test('the facts describe the entries; a run translates by default, with source and target tokens', async () => {
  const f = marian.facts;
  assert.deepEqual(f.encoderDecoder, { encoderLayers: 2, decoderLayers: 2, decoderStartTokenId: 399, eosTokenId: 0 });
  assert.deepEqual(f.attentionKinds, ['encoder', 'encoder', 'decoder', 'decoder', 'cross', 'cross']);
  const run = marian.run(ref.source_text);
  assert.deepEqual(
    run.tokens.map((t) => t.id),
    ref.source_ids,
  );
  const layers = await allLayers(run);
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
  const target = run.target()!;
  assert.equal(target.mode, 'translated');
  assert.equal(target.end, 'stop');
  assert.deepEqual(
    target.tokens.map((t) => t.id),
    ref.target_ids,
  );
  assert.deepEqual(
    target.decoderInput.map((t) => t.id),
    ref.decoder_input_ids,
  );
  target.logprobs.forEach((lp, i) => assert.ok(Math.abs(lp - ref.target_logprobs[i]) < 1e-4));
});

test('a target given as text or as ids is teacher-forced and gives the translation’s maps', async () => {
  const translated = await allLayers(marian.run(ref.source_text, { translate: true }));
  const asText = marian.run(ref.source_text, { target: ref.target_text });
  // A given target is known before the first layer.
  assert.deepEqual(
    asText.target()!.tokens.map((t) => t.id),
    ref.target_ids,
  );
  const text = await allLayers(asText);
  const ids = await allLayers(marian.run(ref.source_text, { target: ref.target_ids }));
  assert.equal(asText.target()!.mode, 'teacher-forced');
  for (const other of [text, ids])
    other.forEach((l, e) => {
      let worst = 0;
      l.data.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - translated[e].data[i]))));
      assert.ok(worst <= 1e-5, `entry ${e}: ${worst}`);
    });
});

test('a translation ends at maxNew with eos forced there (forced_eos_token_id), as transformers does', async () => {
  const run = marian.run(ref.source_text, { translate: { maxNew: 2 } });
  const layers = await allLayers(run);
  assert.equal(run.target()!.end, 'stop');
  assert.deepEqual(
    run.target()!.tokens.map((t) => t.id),
    [ref.target_ids[0], 0],
  );
  assert.equal(layers[4].queryLength, 2);
});

test('a streamed greedy translation: each token with its rows before the target, equal to the final maps’ rows', async () => {
  const steps: TargetStep[] = [];
  let targetAtStep: boolean[] = [];
  const run = marian.run(ref.source_text, {
    onTargetStep: (s) => {
      steps.push(s);
      targetAtStep.push(run.target() !== undefined);
    },
  });
  const layers = await allLayers(run);
  assert.deepEqual(
    steps.map((s) => [s.index, s.token.id]),
    ref.target_ids.map((id, i) => [i, id]),
  );
  assert.ok(
    targetAtStep.every((x) => !x),
    'every step arrives before the target',
  );
  const T = ref.target_ids.length;
  const S = ref.source_ids.length;
  const H = marian.facts.heads;
  let worst = 0;
  for (const s of steps) {
    assert.ok(Math.abs(s.logprob - run.target()!.logprobs[s.index]) < 1e-6);
    assert.equal(s.selfRows.length, 2);
    for (let l = 0; l < 2; l++) {
      const dec = layers[2 + l].data; // [H,T,T]
      const cross = layers[4 + l].data; // [H,T,S]
      for (let h = 0; h < H; h++) {
        for (let k = 0; k <= s.index; k++)
          worst = Math.max(worst, Math.abs(s.selfRows[l][h * (s.index + 1) + k] - dec[(h * T + s.index) * T + k]));
        for (let k = 0; k < S; k++)
          worst = Math.max(worst, Math.abs(s.crossRows[l][h * S + k] - cross[(h * T + s.index) * S + k]));
      }
    }
  }
  assert.equal(worst, 0);
  // Beam search and given targets do not stream.
  targetAtStep = [];
  steps.length = 0;
  await allLayers(marian.run(ref.source_text, { beams: 3, onTargetStep: (s) => steps.push(s) }));
  await allLayers(marian.run(ref.source_text, { target: ref.target_text, onTargetStep: (s) => steps.push(s) }));
  assert.equal(steps.length, 0);
});

test('beams: the chosen translation with its beam size, and the maps of a teacher-forced pass on it', async () => {
  const run = marian.run(ref.source_text, { beams: 4 });
  const layers = await allLayers(run);
  const t = run.target()!;
  assert.equal(t.beams, 4);
  assert.equal(t.mode, 'translated');
  assert.deepEqual(
    t.tokens.map((x) => x.id),
    ref.target_ids,
  );
  const forced = await allLayers(marian.run(ref.source_text, { target: ref.target_ids }));
  layers.forEach((l, e) => assert.deepEqual(l.data, forced[e].data, `entry ${e}`));
});

test('a target with translate, or either on a decoder-only model, is BAD_INPUT', async () => {
  const bad = (e: unknown) => isLensError(e) && e.code === 'BAD_INPUT';
  assert.throws(() => marian.run(ref.source_text, { target: '2021-03-14', translate: true }), bad);
  assert.throws(() => marian.run(ref.source_text, { target: '2021-03-14', beams: 2 }), /Beams choose a translation/);
  assert.throws(() => marian.run(ref.source_text, { beams: 17 }), /beam size must be a whole number from 1 to 16/);
  const stories = await load(fixtureModel('stories260K'), { backend: 'native', threads: 1, workerPath: WORKER });
  try {
    assert.throws(() => stories.run('Once upon a time', { target: 'x' }), /not an encoder–decoder model/);
    assert.throws(() => stories.run('Once upon a time', { translate: true }), /cannot translate/);
    assert.throws(() => stories.run('Once upon a time', { beams: 2 }), /has no beam search/);
  } finally {
    await stories.dispose();
  }
});

test('mBART: a target given as text starts the decoder with its last token (the language code), as transformers does', async () => {
  const dir = hfTinyModel('mbart');
  const mref = JSON.parse(fs.readFileSync(path.join(dir, 'reference_attention.json'), 'utf8')) as {
    source_text: string;
    target_text: string;
    labels: number[];
    decoder_input_ids: number[];
    cross_attentions: number[][][][];
  };
  const mbart = await load(dir, { backend: 'native', threads: 1, workerPath: WORKER });
  try {
    assert.equal(mbart.facts.encoderDecoder?.shiftsLastLabel, true);
    const run = mbart.run(mref.source_text, { target: mref.target_text });
    const layers = await allLayers(run);
    const target = run.target()!;
    assert.deepEqual(
      target.tokens.map((t) => t.id),
      mref.labels,
    );
    assert.deepEqual(
      target.decoderInput.map((t) => t.id),
      mref.decoder_input_ids,
    );
    const cross = layers.filter((l) => l.kind === 'cross');
    cross.forEach((l, i) => assert.ok(worstAbs(l.data, mref.cross_attentions[i]) <= 1e-5, `cross ${i}`));
    // A translation starts with decoder_start_token_id (2), not a label.
    const translated = mbart.run(mref.source_text, { translate: { maxNew: 3 } });
    await allLayers(translated);
    assert.equal(translated.target()!.decoderInput[0].id, 2);
  } finally {
    await mbart.dispose();
  }
});
