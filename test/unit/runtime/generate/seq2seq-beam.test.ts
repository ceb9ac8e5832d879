// Beam search (runtime/generate/seq2seq-beam.ts) on a hand-computed case where it and greedy decoding disagree, its
// logits processors (bad token, forced eos at the length limit, no repeated n-gram), and through the KV-cached
// decoder (Seq2SeqRunner.beamSearch) against transformers' generate(num_beams=N) on tiny-marian-dates and the
// hf-tiny bart, t5 and mbart models (test/fixtures/generate/seq2seq-beams.json: same tokens, same beam score to 1e-4).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beamSearch, processedLogProbs, type BeamSearchOptions } from '../../../../runtime/generate/seq2seq-beam';
import { Seq2SeqRunner } from '../../../../runtime/generate/seq2seq-runner';
import {
  checkBeamSettings,
  checkGreedySettings,
  DEFAULT_GENERATION,
  readGeneration,
} from '../../../../runtime/models/seq2seq-generation';
import { readSeq2SeqModel } from '../../../../runtime/models/seq2seq-read';
import { fixturesDir } from '../../../helpers/fixtures';

// A toy model over [eos, A, B, C]: next-token probabilities by prefix (decoder start 9 first); others uniform.
const EOS = 0;
const TREE: Record<string, number[]> = {
  '9': [0.01, 0.5, 0.4, 0.09],
  '9,1': [0.35, 0.25, 0.2, 0.2],
  '9,2': [0.9, 0.04, 0.03, 0.03],
};
const toy = async (parents: { tokens: readonly number[]; state: undefined }[]) =>
  parents.map((p) => ({
    logits: Float32Array.from((TREE[p.tokens.join(',')] ?? [0.25, 0.25, 0.25, 0.25]).map(Math.log)),
    state: undefined,
  }));
const options = (o: Partial<BeamSearchOptions> = {}): BeamSearchOptions => ({
  beams: 2,
  maxNew: 5,
  decoderStartTokenId: 9,
  eosTokenId: EOS,
  vocabSize: 4,
  generation: DEFAULT_GENERATION,
  encoderIds: [1, 2, EOS],
  ...o,
});

test('beam search: two beams find B eos (log p −1.022) where greedy takes A eos (−1.743)', async () => {
  const greedy = await beamSearch(toy, options({ beams: 1 }));
  assert.deepEqual(greedy.ids, [1, EOS]);
  assert.ok(Math.abs(greedy.score - (Math.log(0.5) + Math.log(0.35)) / 2) < 1e-6);
  const two = await beamSearch(toy, options());
  assert.deepEqual(two.ids, [2, EOS]);
  assert.equal(two.end, 'stop');
  // Score: summed log-probability over the length (2 tokens) ** length_penalty 1.
  assert.ok(Math.abs(two.score - (Math.log(0.4) + Math.log(0.9)) / 2) < 1e-6, String(two.score));
  const lp2 = await beamSearch(toy, options({ generation: { ...DEFAULT_GENERATION, lengthPenalty: 2 } }));
  assert.ok(Math.abs(lp2.score - (Math.log(0.4) + Math.log(0.9)) / 4) < 1e-6);
});

test('beam search processors: a bad token is never chosen, eos is forced at the limit, n-grams do not repeat', async () => {
  const noB = await beamSearch(toy, options({ generation: { ...DEFAULT_GENERATION, badTokenIds: [2] } }));
  assert.ok(!noB.ids.includes(2), String(noB.ids));
  const one = await beamSearch(
    toy,
    options({ maxNew: 1, generation: { ...DEFAULT_GENERATION, forcedEosTokenId: EOS } }),
  );
  assert.deepEqual(one.ids, [EOS]);
  const cut = await beamSearch(toy, options({ maxNew: 1 }));
  assert.deepEqual(cut.ids, [1]);
  assert.equal(cut.end, 'length');
  const o = options({ generation: { ...DEFAULT_GENERATION, noRepeatNgramSize: 2 } });
  const lp = processedLogProbs(Float32Array.from([0.25, 0.25, 0.25, 0.25].map(Math.log)), [9, 1, 3, 1], o);
  assert.equal(lp[3], -Infinity, 'the bigram (1, 3) is already there');
  assert.ok(Number.isFinite(lp[1]) && Number.isFinite(lp[2]) && Number.isFinite(lp[0]));
});

test('generation_config: Marian bans <pad> and forces eos; unset fields keep transformers defaults; unknown ones are named', () => {
  const dir = path.join(fixturesDir, 'models', 'tiny-marian-dates');
  const raw = JSON.parse(fs.readFileSync(path.join(dir, 'generation_config.json'), 'utf8')) as Record<string, unknown>;
  const g = readGeneration(raw);
  assert.deepEqual(g.badTokenIds, [399]);
  assert.equal(g.forcedEosTokenId, 0);
  assert.equal(g.lengthPenalty, 1);
  assert.equal(g.earlyStopping, false);
  assert.deepEqual(readGeneration({ guidance_scale: 1.5 }).unsupported, ['guidance_scale']);
  assert.deepEqual(readGeneration({ repetition_penalty: 1.2 }).unsupported, []);
  assert.equal(readGeneration({ repetition_penalty: 1.2 }).repetitionPenalty, 1.2);
  assert.deepEqual(readGeneration({ repetition_penalty: -1 }).unsupported, [
    'repetition_penalty (not a positive number)',
  ]);
  assert.deepEqual(readGeneration({ suppress_tokens: ['a'] }).unsupported, [
    'suppress_tokens (not a list of token ids)',
  ]);
  assert.deepEqual(readGeneration({ sequence_bias: { '[5]': 1 } }).unsupported, [
    'sequence_bias (not a list of [token ids, bias] pairs)',
  ]);
  // The settings the processors implement, read as transformers' GenerationConfig holds them.
  const more = readGeneration({
    sequence_bias: [
      [[5], 1.5],
      [[3, 4], -2],
    ],
    encoder_repetition_penalty: 1.3,
    encoder_no_repeat_ngram_size: 2,
    exponential_decay_length_penalty: [4, 1.5],
    bad_words_ids: [[7], [2, 8], [0]],
    eos_token_id: 0,
  });
  assert.deepEqual(more.unsupported, []);
  assert.deepEqual(more.sequenceBias, [
    { ids: [5], bias: 1.5 },
    { ids: [3, 4], bias: -2 },
  ]);
  assert.equal(more.encoderRepetitionPenalty, 1.3);
  assert.equal(more.encoderNoRepeatNgramSize, 2);
  assert.deepEqual(more.exponentialDecay, { start: 4, factor: 1.5 });
  assert.deepEqual(more.badTokenIds, [7], 'eos alone is not banned (transformers drops that entry)');
  assert.deepEqual(more.badSequences, [[2, 8]]);
  assert.deepEqual(readGeneration({ exponential_decay_length_penalty: [4] }).unsupported, [
    'exponential_decay_length_penalty (not [start index, decay factor])',
  ]);
  assert.equal(readGeneration(undefined, { length_penalty: 0.5 }).lengthPenalty, 0.5);
});

test('sequence_bias naming a token outside the vocabulary stops the search in one line (transformers raises too)', async () => {
  const generation = readGeneration({ sequence_bias: [[[1, 7], 2]] });
  await assert.rejects(
    beamSearch(toy, options({ generation })),
    /^LensError: The model's generation_config\.json biases token 7 \(sequence_bias\), but its vocabulary has 4 tokens; correct or remove sequence_bias\.$/,
  );
});

test('a setting a search does not implement stops it by name; only group beam search’s suggest greedy', () => {
  const group = readGeneration({ num_beam_groups: 2, diversity_penalty: 0.5 });
  assert.throws(
    () => checkBeamSettings(group, 'x'),
    /x sets num_beam_groups, diversity_penalty, which beam search here does not implement; translate with beams 1 \(greedy\) or give the target\./,
  );
  assert.doesNotThrow(() => checkGreedySettings(group, 'x'), 'greedy search has no beam groups');
  const guided = readGeneration({ guidance_scale: 1.5 });
  assert.throws(
    () => checkBeamSettings(guided, 'x'),
    /x sets guidance_scale, which beam search here does not implement; give the target to score instead\./,
  );
  assert.throws(
    () => checkGreedySettings(guided, 'x'),
    /x sets guidance_scale, which translation here does not implement; give the target to score instead\./,
  );
});

interface BeamCase {
  model: string;
  text: string;
  source_ids: number[];
  beams: number;
  max_new: number;
  /** null: the generation_config's own (transformers' default 1.0 / false). */
  length_penalty: number | null;
  early_stopping: boolean | 'never' | null;
  tokens: number[];
  score: number;
  differs_from_greedy: boolean;
}
const fixture = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'generate', 'seq2seq-beams.json'), 'utf8')) as {
  cases: BeamCase[];
};

const releases: (() => Promise<void>)[] = [];
after(async () => {
  for (const r of releases) await r();
});

for (const model of ['tiny-marian-dates', 'hf-tiny/bart', 'hf-tiny/t5', 'hf-tiny/mbart']) {
  const cases = fixture.cases.filter((c) => c.model === model);
  test(`${model}: beam search chooses transformers' tokens in all ${cases.length} cases (${cases.filter((c) => c.differs_from_greedy).length} unlike greedy)`, async () => {
    const r = await Seq2SeqRunner.create(await readSeq2SeqModel(path.join(fixturesDir, 'models', model)), {
      backend: 'native',
      threads: 1,
    });
    releases.push(() => r.release());
    assert.ok(cases.length >= 10);
    for (const c of cases) {
      const enc = await r.encode(c.source_ids);
      const got = await r.beamSearch(enc, {
        beams: c.beams,
        maxNew: c.max_new,
        ...(c.length_penalty !== null ? { lengthPenalty: c.length_penalty } : {}),
        ...(c.early_stopping !== null ? { earlyStopping: c.early_stopping } : {}),
      });
      const what = `${JSON.stringify(c.text)} beams ${c.beams} lp ${c.length_penalty} early ${String(c.early_stopping)}`;
      assert.deepEqual(got.ids, c.tokens, what);
      assert.ok(Math.abs(got.score - c.score) < 1e-4, `${what}: score ${got.score} vs ${c.score}`);
    }
  });
}
