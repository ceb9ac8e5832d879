// The panel's encoder–decoder target without VS Code, message by message: tiny-marian-dates loaded through the real
// worker translates "the 14th of March, 2021" greedily with each token streamed (RunOptions.onTargetStep); every
// step becomes the host's `targetStep` note (extension/target-message.ts), passes the webview's check
// (protocol/validate.ts) and grows the webview's store, whose decoder and cross layers after the last step equal the
// run's final layers exactly, with the target line saying "translating…" and each token's log p; then the `target`
// note and the whole layers replace them (each layer counted once). A beam-search run's note carries its beam size,
// and a given target's line says it was teacher-forced. The same for optimum's ONNX exports of the model (with a
// key/value cache in both layouts, and without one), whose translations stream through the same messages.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { load } from '../../../runtime/inspector/load-model';
import type { Inspector, LayerResult, TargetStep } from '../../../runtime/inspector/api';
import type { Token } from '../../../runtime/types';
import { targetMessage, targetStepMessage } from '../../../extension/target-message';
import { validateHostMessage } from '../../../protocol/validate';
import type { TargetMessage, TargetStepMessage } from '../../../protocol/messages';
import { Store } from '../../../webview/store';
import { targetCells, targetHeading, targetTotal } from '../../../webview/target-line';
import { fixturesDir, marianDatesCacheDirs, marianDatesDir, repoRoot } from '../../helpers/fixtures';

const ref = JSON.parse(fs.readFileSync(path.join(marianDatesDir, 'reference_attention.json'), 'utf8')) as {
  source_text: string;
  target_ids: number[];
};

const MODELS = {
  'tiny-marian-dates': marianDatesDir,
  'onnx-past': marianDatesCacheDirs.past,
  'onnx-merged': marianDatesCacheDirs.merged,
  'onnx (no cache)': path.join(fixturesDir, 'models', 'tiny-marian-dates-onnx'),
};

for (const [name, dir] of Object.entries(MODELS)) {
  let marian: Inspector;
  before(async () => {
    marian = await load(dir, {
      backend: 'native',
      threads: 1,
      workerPath: path.join(repoRoot, 'dist/worker.js'),
    });
  });
  after(() => marian?.dispose());

  function newStore(): Store {
    const text = ref.source_text;
    const store = new Store();
    const tokens = marian.tokenize(text).map(({ text: t, start, end, special }) => ({ text: t, start, end, special }));
    store.reset(1, tokens, marian.facts, {
      uri: '',
      range: [0, 0, 0, text.length],
      text,
      modelPath: dir,
      truncate: false,
    });
    return store;
  }

  /** A note as the webview receives it: checked, then its ArrayBuffers read as float32. */
  function received<T>(note: T): T {
    const v = validateHostMessage(note);
    assert.ok(v.ok, v.ok ? '' : v.reason);
    return note;
  }

  test(`${name}: streamed steps grow the store to the final maps; the target note and the whole layers then replace them`, async () => {
    const store = newStore();
    const sofar: Token[] = [];
    const notes: TargetStepMessage[] = [];
    const run = marian.run(ref.source_text, {
      onTargetStep: (s: TargetStep) => {
        sofar.push(s.token);
        notes.push(received(targetStepMessage(1, s, sofar, marian.tokenizer)));
      },
    });
    const layers: LayerResult[] = [];
    for await (const l of run) layers.push(l);
    assert.equal(notes.length, ref.target_ids.length);
    const ed = marian.facts.encoderDecoder!;
    for (const l of layers.slice(0, ed.encoderLayers)) store.addLayer({ ...l, data: l.data.slice() });
    const lines: string[] = [];
    for (const m of notes) {
      const rows = (b: ArrayBuffer[]) => b.map((x) => new Float32Array(x));
      assert.equal(store.addTargetStep(m.index, m.token, m.logprob, m.text, rows(m.selfRows), rows(m.crossRows)), true);
      lines.push(targetHeading(store.target!));
    }
    assert.equal(lines[0], 'Translation (greedy, translating…): 2021');
    assert.equal(lines[lines.length - 1], 'Translation (greedy, translating…): 2021-03-14');
    // A step out of order does not fit.
    const last = notes[notes.length - 1];
    assert.equal(store.addTargetStep(last.index, last.token, 0, '', [], []), false);
    for (let e = ed.encoderLayers; e < marian.facts.layers; e++) {
      // Without a cache each step re-runs the whole prefix: its rows equal the last pass's up to float rounding.
      const tolerance = name === 'onnx (no cache)' ? 1e-6 : 0;
      const got = store.layers[e]!.data;
      assert.equal(got.length, layers[e].data.length);
      got.forEach((x, i) =>
        assert.ok(Math.abs(x - layers[e].data[i]) <= tolerance, `entry ${e} after the last step, value ${i}`),
      );
    }
    assert.equal(store.received, ed.encoderLayers, 'streamed rows are not counted as received layers');
    const target = received(targetMessage(1, run.target()!, marian.tokenizer));
    store.setTarget(target.tokens, target.mode, target.text, target.end, target.logprobs, target.beams);
    for (const l of layers.slice(ed.encoderLayers)) store.addLayer({ ...l, data: l.data.slice() });
    assert.equal(store.received, marian.facts.layers);
    assert.equal(targetHeading(store.target!), 'Translation (greedy): 2021-03-14');
    const cells = targetCells(store.target!);
    assert.deepEqual(
      cells.map((c) => c.value),
      run.target()!.logprobs.map((x) => x.toFixed(2)),
    );
    assert.match(cells[0].title, /^"▁2021": log p = -0\.\d{4}, p = 0\.9\d{3}$/);
    assert.ok(Math.abs(targetTotal(store.target!)! - run.target()!.logprobs.reduce((s, x) => s + x, 0)) < 1e-9);
  });

  test(`${name}: the target note of beam search carries the beam size; a given target is said to be teacher-forced`, async () => {
    const beam = marian.run(ref.source_text, { beams: 3 });
    for await (const _ of beam);
    const b: TargetMessage = received(targetMessage(1, beam.target()!, marian.tokenizer));
    assert.equal(b.beams, 3);
    const store = newStore();
    store.setTarget(b.tokens, b.mode, b.text, b.end, b.logprobs, b.beams);
    assert.equal(targetHeading(store.target!), 'Translation (beam search, 3 beams): 2021-03-14');
    const given = marian.run(ref.source_text, { target: '2021-03-15' });
    for await (const _ of given);
    const g = received(targetMessage(1, given.target()!, marian.tokenizer));
    assert.equal(g.beams, undefined);
    store.setTarget(g.tokens, g.mode, g.text, g.end, g.logprobs, g.beams);
    assert.equal(targetHeading(store.target!), 'Target (given, teacher-forced): 2021-03-15');
    // The model did not write "15": its last digits are unlikely.
    assert.ok(g.logprobs[g.logprobs.length - 2] < -1, String(g.logprobs));
  });
}
