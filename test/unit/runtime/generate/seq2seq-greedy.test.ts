// Greedy translation and beam search follow the model's generation_config as transformers' generate() does:
// bad_words_ids (one token and several), forced_bos_token_id, forced_eos_token_id (eos at the length limit),
// min_length, min_new_tokens, no_repeat_ngram_size, repetition_penalty, suppress_tokens, begin_suppress_tokens,
// encoder_repetition_penalty, encoder_no_repeat_ngram_size, exponential_decay_length_penalty and sequence_bias
// (runtime/generate/logits-processors.ts). test/fixtures/generate/seq2seq-greedy.json (scripts/make-seq2seq-greedy-
// fixture.py) holds transformers' generate(num_beams=1) and generate(num_beams=3) tokens for tiny-marian-dates and the hf-tiny bart, t5 and
// mbart folders, with each folder's generation_config.json and with one setting changed at a time. Each case writes
// its settings into a copy of the folder's generation_config.json, so the product reads them as it reads a real
// model's; the family graphs (Seq2SeqRunner.translate) and optimum's exports of tiny-marian-dates through the worker
// (with and without a key/value cache) must choose transformers' tokens. A setting neither search implements
// (guidance_scale: classifier-free guidance) stops the translation in one line naming it, instead of giving another translation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Seq2SeqRunner } from '../../../../runtime/generate/seq2seq-runner';
import { load } from '../../../../runtime/inspector/load-model';
import { readSeq2SeqModel } from '../../../../runtime/models/seq2seq-read';
import { allLayers } from '../../../helpers/layer-results';
import { fixturesDir, repoRoot } from '../../../helpers/fixtures';

interface GreedyCase {
  model: string;
  text: string;
  source_ids: number[];
  max_new: number;
  generation: Record<string, unknown>;
  tokens: number[];
  /** transformers' generate(num_beams=3) under the same settings. */
  beams3: number[];
  differs_from_plain: boolean;
}
const cases = (
  JSON.parse(fs.readFileSync(path.join(fixturesDir, 'generate', 'seq2seq-greedy.json'), 'utf8')) as {
    cases: GreedyCase[];
  }
).cases;
const WORKER = path.join(repoRoot, 'dist/worker.js');
const work = fs.mkdtempSync(path.join(tmpdir(), 'lens-greedy-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

/** A copy of model folder `from` whose generation_config.json has `changes` over the folder's own. */
function withGeneration(from: string, name: string, changes: Record<string, unknown>): string {
  const dir = path.join(work, name);
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir, { recursive: true });
    for (const f of fs.readdirSync(from))
      if (fs.statSync(path.join(from, f)).isFile()) fs.copyFileSync(path.join(from, f), path.join(dir, f));
  }
  const own = JSON.parse(fs.readFileSync(path.join(from, 'generation_config.json'), 'utf8')) as object;
  fs.writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ ...own, ...changes }));
  return dir;
}

/** The cases of one model, grouped by their settings. */
function bySettings(model: string): Map<string, GreedyCase[]> {
  const groups = new Map<string, GreedyCase[]>();
  for (const c of cases.filter((x) => x.model === model)) {
    const key = JSON.stringify(c.generation);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return groups;
}

test('the fixture changes the tokens with every kind of setting', () => {
  assert.equal(cases.length, 216);
  for (const setting of [
    'no_repeat_ngram_size',
    'min_length',
    'min_new_tokens',
    'forced_bos_token_id',
    'bad_words_ids',
    'forced_eos_token_id',
    'repetition_penalty',
    'suppress_tokens',
    'begin_suppress_tokens',
    'encoder_repetition_penalty',
    'encoder_no_repeat_ngram_size',
    'exponential_decay_length_penalty',
    'sequence_bias',
  ])
    assert.ok(
      cases.some((c) => setting in c.generation && c.differs_from_plain),
      `${setting} changes some translation`,
    );
});

for (const model of ['tiny-marian-dates', 'hf-tiny/bart', 'hf-tiny/t5', 'hf-tiny/mbart'])
  test(`${model}, the family graphs: greedy and 3-beam translations choose transformers' tokens under every generation setting`, async () => {
    const from = path.join(fixturesDir, 'models', model);
    let n = 0;
    for (const [key, group] of bySettings(model)) {
      const dir = withGeneration(from, model.replace('/', '-'), group[0].generation);
      const r = await Seq2SeqRunner.create(await readSeq2SeqModel(dir), { backend: 'native', threads: 1 });
      try {
        for (const c of group) {
          const enc = await r.encode(c.source_ids);
          const ids: number[] = [];
          let end: string | undefined;
          for await (const s of r.translate(enc, { maxNew: c.max_new })) {
            ids.push(s.id);
            end = s.end;
          }
          const what = `${JSON.stringify(c.text)} with ${key}, at most ${c.max_new}`;
          assert.deepEqual(ids, c.tokens, what);
          // eos ends it ('stop'), forced or not; t5 has no forced eos, so its long ones stop at the limit.
          assert.equal(end, ids[ids.length - 1] === r.source.config.eosTokenId ? 'stop' : 'length', what);
          const beams = await r.beamSearch(enc, { beams: 3, maxNew: c.max_new });
          assert.deepEqual(beams.ids, c.beams3, `3 beams: ${what}`);
          n++;
        }
      } finally {
        await r.release();
      }
    }
    assert.equal(n, 54);
  });

test('t5 (no forced_eos_token_id) reaches the limit without eos in some cases: their end is "length"', () => {
  assert.ok(cases.some((c) => c.model === 'hf-tiny/t5' && c.tokens.length === c.max_new && !c.tokens.includes(1)));
});

test('a generation setting greedy search does not implement stops the translation by name', async () => {
  const from = path.join(fixturesDir, 'models', 'tiny-marian-dates');
  const dir = withGeneration(from, 'marian-guidance', { guidance_scale: 1.5 });
  const r = await Seq2SeqRunner.create(await readSeq2SeqModel(dir), { backend: 'native', threads: 1 });
  try {
    const enc = await r.encode(cases[0].source_ids);
    await assert.rejects(
      async () => {
        for await (const _ of r.translate(enc, { maxNew: 5 })) void _;
      },
      (e: Error) =>
        /marian's generation_config\.json sets guidance_scale, which translation here does not implement; give the target/.test(
          e.message,
        ),
    );
  } finally {
    await r.release();
  }
});

test('settings that ban every token stop greedy and beam search in one line that says which settings can', async () => {
  const from = path.join(fixturesDir, 'models', 'tiny-marian-dates');
  const all = Array.from({ length: 400 }, (_, i) => i); // tiny-marian-dates' whole vocabulary
  const dir = withGeneration(from, 'marian-all-banned', { suppress_tokens: all });
  const r = await Seq2SeqRunner.create(await readSeq2SeqModel(dir), { backend: 'native', threads: 1 });
  try {
    const enc = await r.encode(cases[0].source_ids);
    const line = (what: RegExp) => (e: Error) =>
      what.test(e.message) &&
      /\(bad_words_ids, suppress_tokens, .*\); translate with other settings or give the target\.$/.test(e.message) &&
      !e.message.includes('\n');
    await assert.rejects(
      async () => {
        for await (const _ of r.translate(enc, { maxNew: 5 })) void _;
      },
      line(/^The model's generation_config\.json bans every token at this step/),
    );
    await assert.rejects(
      r.beamSearch(enc, { beams: 3, maxNew: 5 }),
      line(/^Beam search found no translation: the model's generation_config\.json bans every continuation/),
    );
  } finally {
    await r.release();
  }
});

describeExports();

/** optimum's exports of tiny-marian-dates, served by the worker: greedy runs pick transformers' tokens too. */
function describeExports(): void {
  before(() => execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' }));
  const marian = bySettings('tiny-marian-dates');
  for (const layout of ['tiny-marian-dates-onnx-past', 'tiny-marian-dates-onnx'])
    test(`${layout} through the worker: greedy runs choose transformers' tokens under every generation setting`, async () => {
      let n = 0;
      for (const [key, group] of marian) {
        const dir = withGeneration(path.join(fixturesDir, 'models', layout), layout, group[0].generation);
        const inspector = await load(dir, { backend: 'native', threads: 1, workerPath: WORKER });
        try {
          for (const c of group) {
            const run = inspector.run(c.text, { translate: { maxNew: c.max_new } });
            await allLayers(run);
            assert.deepEqual(
              run.tokens.map((t) => t.id),
              c.source_ids,
              'the source ids transformers encoded',
            );
            const target = run.target()!;
            assert.equal(target.mode, 'translated');
            const what = `${JSON.stringify(c.text)} with ${key}, at most ${c.max_new}`;
            assert.deepEqual(
              target.tokens.map((t) => t.id),
              c.tokens,
              what,
            );
            const beams = inspector.run(c.text, { beams: 3, translate: { maxNew: c.max_new } });
            await allLayers(beams);
            assert.deepEqual(
              beams.target()!.tokens.map((t) => t.id),
              c.beams3,
              `3 beams: ${what}`,
            );
            n++;
          }
        } finally {
          await inspector.dispose();
        }
      }
      assert.equal(n, 54);
    });
}
