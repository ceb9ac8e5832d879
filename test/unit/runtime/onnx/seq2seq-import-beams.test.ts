// Beam search and token streaming on optimum's exports of tiny-marian-dates: with a key/value cache in both layouts
// (tiny-marian-dates-onnx-past: decoder_model + decoder_with_past_model; -merged: decoder_model_merged) and without
// one (tiny-marian-dates-onnx: decoder_model alone, each beam's prefix re-run). The beams equal Hugging Face
// transformers' generate(num_beams) for the same sources (test/fixtures/generate/seq2seq-beams.json, made by
// scripts/make-seq2seq-beam-fixture.py: same tokens, beam scores ≤ 1e-4) on native and Wasm, the cached exports'
// beams stepping as the rows of one call (equal to one-row steps) or, where the export fixes its batch to 1, one call
// per beam; through the real worker,
// a beam run shows the beam size and the maps of a teacher-forced pass on the chosen tokens, and a greedy run asked
// for steps streams each token with its query's rows before the target, in order, equal to the final maps' rows.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeModel, ModelProto, type ModelMsg } from '../../../../runtime/formats/onnx-schema';
import { createSession } from '../../../../runtime/backend/ort';
import { load } from '../../../../runtime/inspector/load-model';
import type { FeedTensor } from '../../../../runtime/types';
import type { Inspector, TargetStep } from '../../../../runtime/inspector/api';
import { importBeamSearch } from '../../../../runtime/onnx/import-beams';
import { ImportEngine } from '../../../../runtime/onnx/import-engine';
import { findOnnxInFolder } from '../../../../runtime/onnx/locate';
import { fixturesDir, marianDatesCacheDirs, marianDatesDir, repoRoot } from '../../../helpers/fixtures';
import { allLayers } from '../../../helpers/layer-results';

const WORKER = path.join(repoRoot, 'dist/worker.js');
const LAYOUTS = {
  past: marianDatesCacheDirs.past,
  merged: marianDatesCacheDirs.merged,
  'no cache': path.join(fixturesDir, 'models', 'tiny-marian-dates-onnx'),
};
const ref = JSON.parse(fs.readFileSync(path.join(marianDatesDir, 'reference_attention.json'), 'utf8')) as {
  source_text: string;
  source_ids: number[];
  target_ids: number[];
};

interface BeamCase {
  model: string;
  text: string;
  source_ids: number[];
  beams: number;
  max_new: number;
  length_penalty: number | null;
  early_stopping: boolean | 'never' | null;
  tokens: number[];
  score: number;
}
const cases = (
  JSON.parse(fs.readFileSync(path.join(fixturesDir, 'generate', 'seq2seq-beams.json'), 'utf8')) as {
    cases: BeamCase[];
  }
).cases.filter((c) => c.model === 'tiny-marian-dates');

before(() => execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' }));

for (const [name, dir] of Object.entries(LAYOUTS))
  for (const backend of ['native', 'wasm'] as const)
    test(`${name}, ${backend}: beam search chooses transformers' tokens and scores in all ${cases.length} cases`, async () => {
      assert.ok(cases.length >= 25);
      const engine = await ImportEngine.create(findOnnxInFolder(dir)!, backend, 1);
      try {
        assert.equal(engine.cached, name !== 'no cache');
        assert.equal(engine.backend, backend);
        for (const c of cases) {
          const enc = await engine.encode(c.source_ids);
          const got = await importBeamSearch(engine, enc, {
            beams: c.beams,
            maxNew: c.max_new,
            ...(c.length_penalty !== null ? { lengthPenalty: c.length_penalty } : {}),
            ...(c.early_stopping !== null ? { earlyStopping: c.early_stopping } : {}),
          });
          const what = `${JSON.stringify(c.text)} beams ${c.beams} lp ${c.length_penalty} early ${String(c.early_stopping)}`;
          assert.deepEqual(got.ids, c.tokens, what);
          assert.ok(Math.abs(got.score - c.score) <= 1e-4, `${what}: score ${got.score} vs ${c.score}`);
          assert.equal(got.end, 'stop', what);
        }
      } finally {
        await engine.release();
      }
    });

for (const name of ['past', 'merged'] as const)
  test(`${name}: beams step as the rows of one call, equal to one-row steps, the parents' caches untouched`, async () => {
    const engine = await ImportEngine.create(findOnnxInFolder(LAYOUTS[name])!, 'native', 1);
    try {
      assert.equal(engine.batchedBeams, true, 'optimum declares the batch axis free');
      const enc = await engine.encode(ref.source_ids);
      const first = await engine.decode(enc, [399], undefined, true);
      // Three parents of two tokens each: the start, then 166, 12 or 42.
      const parents = await engine.stepRows(enc, [first.cache!, first.cache!, first.cache!], [166, 12, 42], 1);
      const snapshot = parents.map(
        (p) => new Map([...p.cache].map(([k, t]) => [k, Float32Array.from(t.data as Float32Array)])),
      );
      const before = engine.stageRuns;
      const rows = await engine.stepRows(
        enc,
        parents.map((p) => p.cache),
        [2, 2, 13],
        2,
      );
      assert.equal(engine.stageRuns - before, 1, 'one session call for the three beams');
      parents.forEach((p, b) =>
        snapshot[b].forEach((data, k) => assert.deepEqual(p.cache.get(k)!.data, data, `parent ${b}'s ${k} unchanged`)),
      );
      let worst = 0;
      for (const [b, id] of [2, 2, 13].entries()) {
        const cache = new Map(parents[b].cache);
        const one = await engine.step(enc, cache, id, 2);
        one.logits.forEach((x, v) => (worst = Math.max(worst, Math.abs(x - rows[b].logits[v]))));
        for (const [k, t] of cache) {
          const got = rows[b].cache.get(k)!;
          assert.deepEqual(got.dims, t.dims, k);
          t.data.forEach((x, i) => (worst = Math.max(worst, Math.abs((x as number) - (got.data[i] as number)))));
        }
      }
      assert.ok(worst <= 1e-5, `batched rows differ from one-row steps by ${worst}`);
    } finally {
      await engine.release();
    }
  });

test('an export whose step decoder fixes its batch to 1 steps one call per beam, to the same beams', async () => {
  // A copy of the with-past export whose decoder_with_past_model.onnx declares input_ids [1, seq]: a batch of beams
  // would be refused by onnxruntime, so each beam is its own call.
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'lens-fixed-batch-'));
  try {
    for (const f of fs.readdirSync(LAYOUTS.past)) fs.copyFileSync(path.join(LAYOUTS.past, f), path.join(dir, f));
    const file = path.join(dir, 'decoder_with_past_model.onnx');
    // Decoded without defaults: written back, only the fields the file had.
    const model = ModelProto.toObject(ModelProto.decode(fs.readFileSync(file)), {
      longs: Number,
      arrays: true,
      bytes: Uint8Array,
    }) as ModelMsg;
    const ids = model.graph!.input!.find((v) => v.name === 'input_ids')!;
    ids.type!.tensorType!.shape!.dim![0] = { dimValue: 1 };
    fs.writeFileSync(file, encodeModel(model));
    const engine = await ImportEngine.create(findOnnxInFolder(dir)!, 'native', 1);
    try {
      assert.equal(engine.cached, true);
      assert.equal(engine.batchedBeams, false);
      const enc = await engine.encode(ref.source_ids);
      const first = await engine.decode(enc, [399], undefined, true);
      const before = engine.stageRuns;
      const rows = await engine.stepRows(enc, [first.cache!, first.cache!, first.cache!], [166, 12, 42], 1);
      assert.equal(engine.stageRuns - before, 3, 'one session call per beam');
      assert.equal(rows.length, 3);
      // What the rows of one call would meet: onnxruntime refuses 3 rows of input_ids there, and takes them in the
      // export as optimum wrote it.
      for (const [graph, takes] of [
        [file, false],
        [path.join(LAYOUTS.past, 'decoder_with_past_model.onnx'), true],
      ] as const) {
        const raw = await createSession(fs.readFileSync(graph), { backend: 'native', threads: 1 });
        try {
          const feeds: Record<string, FeedTensor> = {
            input_ids: { type: 'int64', dims: [3, 1], data: BigInt64Array.of(166n, 12n, 42n) }, // [3,1]
            encoder_attention_mask: { type: 'int64', dims: [3, 8], data: new BigInt64Array(24).fill(1n) }, // [3,S]
          };
          for (const name of raw.inputNames.filter((n) => n.startsWith('past_key_values.'))) {
            const length = name.includes('.encoder.') ? 8 : 1;
            feeds[name] = { type: 'float32', dims: [3, 4, length, 32], data: new Float32Array(3 * 4 * length * 32) }; // [3,H,P,Dh]
          }
          const run = raw.run(feeds, ['logits']);
          if (takes) assert.equal((await run).logits.dims[0], 3);
          else await assert.rejects(run);
        } finally {
          await raw.release();
        }
      }
      for (const c of cases.filter((x) => x.text === ref.source_text || x.text === 'May 3, 1999')) {
        const got = await importBeamSearch(engine, await engine.encode(c.source_ids), {
          beams: c.beams,
          maxNew: c.max_new,
          ...(c.length_penalty !== null ? { lengthPenalty: c.length_penalty } : {}),
          ...(c.early_stopping !== null ? { earlyStopping: c.early_stopping } : {}),
        });
        assert.deepEqual(got.ids, c.tokens);
        assert.ok(Math.abs(got.score - c.score) <= 1e-4);
      }
    } finally {
      await engine.release();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (const [name, dir] of Object.entries(LAYOUTS)) {
  let imported: Inspector;
  before(async () => {
    imported = await load(dir, { backend: 'native', threads: 1, workerPath: WORKER });
  });
  after(async () => {
    await imported?.dispose();
  });

  test(`${name}: a beam run gives the chosen tokens, its beam size and a teacher-forced pass's maps`, async () => {
    const run = imported.run(ref.source_text, { beams: 4 });
    const layers = await allLayers(run);
    const t = run.target()!;
    assert.equal(t.mode, 'translated');
    assert.equal(t.beams, 4);
    assert.equal(t.end, 'stop');
    assert.deepEqual(
      t.tokens.map((x) => x.id),
      ref.target_ids,
    );
    const forced = imported.run(ref.source_text, { target: ref.target_ids });
    const forcedLayers = await allLayers(forced);
    assert.deepEqual(t.logprobs, forced.target()!.logprobs);
    assert.equal(layers.length, 6);
    layers.forEach((l, e) => assert.deepEqual(l.data, forcedLayers[e].data, `entry ${e}`));
  });

  test(`${name}: a greedy translation streams each token with its rows, in order, before the target`, async () => {
    const steps: TargetStep[] = [];
    const targetAtStep: boolean[] = [];
    const run = imported.run(ref.source_text, {
      onTargetStep: (s) => {
        steps.push(s);
        targetAtStep.push(run.target() !== undefined);
      },
    });
    const layers = await allLayers(run);
    const target = run.target()!;
    assert.deepEqual(
      steps.map((s) => [s.index, s.token.id]),
      ref.target_ids.map((id, i) => [i, id]),
    );
    assert.deepEqual(
      steps.map((s) => s.token.text),
      target.tokens.map((x) => x.text),
    );
    assert.ok(
      targetAtStep.every((x) => !x),
      'every step arrives before the target',
    );
    const T = ref.target_ids.length;
    const S = ref.source_ids.length;
    const H = imported.facts.heads;
    let worst = 0;
    for (const s of steps) {
      assert.equal(s.logprob, target.logprobs[s.index]);
      assert.equal(s.selfRows.length, 2);
      assert.equal(s.crossRows.length, 2);
      for (let l = 0; l < 2; l++) {
        assert.equal(s.selfRows[l].length, H * (s.index + 1));
        assert.equal(s.crossRows[l].length, H * S);
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
    // Cached: the maps are the steps' rows stacked; without a cache, the last pass's rows (the same graph on a longer
    // prefix: equal up to float rounding).
    assert.ok(worst <= (name === 'no cache' ? 1e-6 : 0), `rows differ by ${worst}`);
    // Beam search and given targets do not stream.
    steps.length = 0;
    await allLayers(imported.run(ref.source_text, { beams: 3, onTargetStep: (s) => steps.push(s) }));
    await allLayers(imported.run(ref.source_text, { target: ref.target_ids, onTargetStep: (s) => steps.push(s) }));
    assert.equal(steps.length, 0);
  });
}
